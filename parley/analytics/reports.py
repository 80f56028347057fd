"""Aggregated flow and failure reports over conversation facts (grouped in SQL, shaped here)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Avg, Count, QuerySet

from parley.analytics.failures import FAILURE_KINDS
from parley.analytics.flow import START, sankey, transition_graph, typical_paths
from parley.analytics.models import ConversationFact


def _grouped_paths(queryset: QuerySet[ConversationFact], column: str = "intent_path") -> list[tuple[list[str], str, int]]:
    rows = queryset.values_list(column, "outcome").annotate(n=Count("id")).order_by("-n")[:20000]
    return [(list(path or []), outcome, n) for path, outcome, n in rows]


def flow_report(queryset: QuerySet[ConversationFact], *, max_steps: int = 6, top: int = 5) -> dict[str, Any]:
    """Transition graph, Sankey links and typical paths per outcome.

    Each path is ``start → states… → outcome``; states are the customer's intents (``handover`` where a
    human took over). Dialogue-act sequences (imported SGD dialogues) get their own graph.
    """
    grouped = _grouped_paths(queryset)
    paths = [([START, *path, outcome], n) for path, outcome, n in grouped]
    acts = [(path, n) for path, _outcome, n in _grouped_paths(queryset.exclude(act_path=[]), "act_path")]
    return {
        "conversations": sum(n for _p, _o, n in grouped),
        "graph": transition_graph(paths),
        "sankey": sankey(paths, max_steps=max_steps),
        "typical_paths": typical_paths([([START, *p, o], o, n) for p, o, n in grouped], top=top),
        "act_graph": transition_graph([([START, *p, "end"], n) for p, n in acts], limit=100),
    }


def failure_report(queryset: QuerySet[ConversationFact], *, examples: int = 3) -> dict[str, Any]:
    """Per failure kind: conversations affected, share, the turn it happens at, top intents and examples."""
    total = queryset.count()
    inner_sql, params = queryset.values("id").query.sql_with_params()
    # inner_sql is compiled by Django; every value in it is a bound parameter.
    sql = "SELECT k, f.intent, count(*) FROM analytics_conversationfact f, jsonb_array_elements_text(f.failure_kinds) AS k "
    sql += "WHERE f.id IN (" + inner_sql + ") GROUP BY k, f.intent"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts: dict[str, int] = {}
    intents: dict[str, list[tuple[str, int]]] = {}
    for kind, intent, n in rows:
        counts[kind] = counts.get(kind, 0) + int(n)
        intents.setdefault(kind, []).append((intent or "(none)", int(n)))
    samples: dict[str, list[dict[str, Any]]] = {}
    turn_indexes: dict[str, list[int]] = {}

    def collect(facts: Any, only: str | None = None) -> None:
        for conversation_id, points in facts:
            for point in points or []:
                kind = point.get("kind")
                if kind is None or (only and kind != only):
                    continue
                if point.get("turn_index") is not None:
                    turn_indexes.setdefault(kind, []).append(int(point["turn_index"]))
                bucket = samples.setdefault(kind, [])
                if len(bucket) < examples and all(s["conversation_id"] != str(conversation_id) for s in bucket):
                    bucket.append({"conversation_id": str(conversation_id), **point})

    recent = queryset.filter(failure_count__gt=0).order_by("-started_at").values_list("conversation_id", "failure_points")
    collect(recent[:300])
    for kind in counts:
        if len(samples.get(kind, [])) < examples:
            collect(
                queryset.filter(failure_kinds__contains=[kind])
                .order_by("-started_at")
                .values_list("conversation_id", "failure_points")[:examples],
                only=kind,
            )
    kinds = []
    for kind in FAILURE_KINDS:
        n = counts.get(kind, 0)
        entry: dict[str, Any] = {"kind": kind, "conversations": n, "share": round(n / total, 4) if total else None}
        if n:
            top = sorted(intents.get(kind, []), key=lambda item: -item[1])[:5]
            entry["top_intents"] = [{"intent": intent, "conversations": c} for intent, c in top]
            indexes = sorted(turn_indexes.get(kind, []))
            entry["typical_turn"] = indexes[len(indexes) // 2] if indexes else None
            entry["examples"] = samples.get(kind, [])
        kinds.append(entry)
    by_intent = list(
        queryset.exclude(intent="")
        .values("intent")
        .annotate(conversations=Count("id"), failures=Avg("failure_count"))
        .order_by("-conversations")[:20]
    )
    return {"conversations": total, "kinds": kinds, "by_intent": by_intent}
