"""Aggregated flow and failure reports over conversation facts (grouped in SQL, shaped here)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Avg, Count, QuerySet

from parley.analytics.failures import FAILURE_KINDS
from parley.analytics.flow import START, sankey, transition_graph, typical_paths
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.metrics import cube
from parley.analytics.metrics.query import filtered_facts
from parley.analytics.models import ConversationFact


def _grouped_paths(queryset: QuerySet[ConversationFact], column: str = "intent_path") -> list[tuple[list[str], str, int]]:
    rows = queryset.values_list(column, "outcome").annotate(n=Count("id")).order_by("-n")[:20000]
    return sorted(((list(path or []), outcome, n) for path, outcome, n in rows), key=_path_order)


def _path_order(row: tuple[list[str], str, int]) -> tuple[int, list[str], str]:
    """Largest groups first; ties in path order (so the same facts always give the same report)."""
    return -row[2], row[0], row[1]


def flow_report(queryset: QuerySet[ConversationFact], *, max_steps: int = 6, top: int = 5) -> dict[str, Any]:
    """Transition graph, Sankey links and typical paths per outcome.

    Each path is ``start → states… → outcome``; states are the customer's intents (``handover`` where a
    human took over). Dialogue-act sequences (imported SGD dialogues) get their own graph.
    """
    grouped = _grouped_paths(queryset)
    acts = [(path, n) for path, _outcome, n in _grouped_paths(queryset.exclude(act_path=[]), "act_path")]
    return _flow_shape(grouped, acts, max_steps=max_steps, top=top)


def flow_report_for(tenant: Any, flt: AnalyticsFilter, *, max_steps: int = 6, top: int = 5) -> dict[str, Any]:
    """:func:`flow_report` of the facts ``flt`` selects, from the roll-ups' path counts when they can answer."""
    measures = cube.load_single(tenant, flt, paths=True)
    if measures is None:
        return flow_report(filtered_facts(tenant, flt), max_steps=max_steps, top=top)
    grouped = sorted(measures.grouped_paths(), key=_path_order)
    acts = [(path, n) for path, _o, n in sorted(((p, "", n) for p, n in measures.grouped_acts()), key=_path_order)]
    return _flow_shape(grouped, acts, max_steps=max_steps, top=top)


def _flow_shape(
    grouped: list[tuple[list[str], str, int]], acts: list[tuple[list[str], int]], *, max_steps: int, top: int
) -> dict[str, Any]:
    paths = [([START, *path, outcome], n) for path, outcome, n in grouped]
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
    by_intent: list[dict[str, Any]] = [
        dict(row)
        for row in queryset.exclude(intent="")
        .values("intent")
        .annotate(conversations=Count("id"), failures=Avg("failure_count"))
        .order_by("-conversations")[:20]
    ]
    return _failure_shape(queryset, total, rows, by_intent, examples=examples)


def failure_report_for(tenant: Any, flt: AnalyticsFilter, *, examples: int = 3) -> dict[str, Any]:
    """:func:`failure_report` of the facts ``flt`` selects; counts come from the roll-ups' ``intent`` rows
    when they can answer (no filter, or one on intent); examples from the latest failed conversations."""
    filters = cube.filter_dimensions(flt)
    groups = None if filters and filters[0][0] != "intent" else cube.load_cube(tenant, flt, "intent")
    queryset = filtered_facts(tenant, flt)
    if groups is None:
        return failure_report(queryset, examples=examples)
    total = int(sum(m.get("conversations") for m in groups.values()))
    rows = [(kind, intent, n) for intent, m in groups.items() for kind, n in m.kinds.items()]
    ranked = sorted(((k, m) for k, m in groups.items() if k and m.get("conversations")), key=lambda i: -i[1].get("conversations"))
    by_intent = [
        {
            "intent": intent,
            "conversations": int(m.get("conversations")),
            "failures": m.get("failure_count") / m.get("conversations"),
        }
        for intent, m in ranked[:20]
    ]
    return _failure_shape(queryset, total, rows, by_intent, examples=examples)


def _failure_shape(
    queryset: QuerySet[ConversationFact], total: int, rows: list[Any], by_intent: list[dict[str, Any]], *, examples: int
) -> dict[str, Any]:
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
            top = sorted(intents.get(kind, []), key=lambda item: (-item[1], item[0]))[:5]
            entry["top_intents"] = [{"intent": intent, "conversations": c} for intent, c in top]
            indexes = sorted(turn_indexes.get(kind, []))
            entry["typical_turn"] = indexes[len(indexes) // 2] if indexes else None
            entry["examples"] = samples.get(kind, [])
        kinds.append(entry)
    return {"conversations": total, "kinds": kinds, "by_intent": by_intent}
