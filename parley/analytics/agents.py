"""Agent performance: human agents and AI assistants side by side, from conversation facts."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet

from parley.accounts.models import User
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.metrics import cube
from parley.analytics.metrics.cube import Measures
from parley.analytics.metrics.query import Percentile, filtered_facts
from parley.analytics.models import ConversationFact
from parley.assistants.models import Assistant


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: Any, digits: int = 1) -> float | None:
    return round(float(value), digits) if value is not None else None


_MEASURES = {
    "volume": Count("id"),
    "frt_avg": Avg("first_response_s"),
    "frt_median": Percentile("first_response_s", 0.5),
    "aht_avg": Avg("handle_s"),
    "resolved_n": Count("id", filter=Q(resolved=True)),
    "reopened_n": Count("id", filter=Q(reopened=True)),
    "csat_avg": Avg("csat_score"),
    "csat_n": Count("csat_score"),
    "sentiment_change": Avg(F("sentiment_last") - F("sentiment_first")),
    "qa_avg": Avg("qa_score"),
}


def _row(kind: str, key: Any, name: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": str(key),
        "name": name,
        "conversations": row["volume"],
        "first_response_avg_s": _round(row["frt_avg"]),
        "first_response_median_s": _round(row["frt_median"]),
        "handle_time_avg_s": _round(row["aht_avg"]),
        "resolution_rate": _rate(row["resolved_n"], row["volume"]),
        "reopen_rate": _rate(row["reopened_n"], row["resolved_n"]),
        "csat_avg": _round(row["csat_avg"], 2),
        "csat_responses": row["csat_n"],
        "sentiment_change_avg": _round(row["sentiment_change"], 3),
        "qa_score_avg": _round(row["qa_avg"]),
    }


def agent_performance(queryset: QuerySet[ConversationFact]) -> list[dict[str, Any]]:
    """One row per human agent (conversations they handled) and per assistant (conversations it
    handled without a human), with the same measures so they compare directly."""
    base: Any = queryset
    humans = list(base.filter(agent_id__isnull=False).values("agent_id").annotate(**_MEASURES).order_by("-volume")[:200])
    bots = list(
        base.filter(assistant_id__isnull=False, handed_over=False)
        .values("assistant_id")
        .annotate(**_MEASURES)
        .order_by("-volume")[:50]
    )
    users = {
        str(i): (n or e)
        for i, n, e in User.objects.filter(id__in=[h["agent_id"] for h in humans]).values_list("id", "name", "email")
    }
    assistants = dict(Assistant.objects.filter(id__in=[b["assistant_id"] for b in bots]).values_list("id", "name"))
    rows = [_row("agent", h["agent_id"], users.get(str(h["agent_id"]), str(h["agent_id"])), h) for h in humans]
    rows += [_row("assistant", b["assistant_id"], assistants.get(b["assistant_id"], str(b["assistant_id"])), b) for b in bots]
    unattributed = queryset.filter(assistant_id__isnull=True, agent_id__isnull=True, handed_over=False, assistant_messages__gt=0)
    row = unattributed.aggregate(**_MEASURES)
    if row["volume"]:
        rows.append(_row("assistant", "", "Assistant (unnamed)", row))
    return rows


def _cube_measures(m: Measures) -> dict[str, Any]:
    return {
        "volume": int(m.get("conversations")),
        "frt_avg": m.avg("first_response"),
        "frt_median": m.percentile("first_response", 0.5),
        "aht_avg": m.avg("handle"),
        "resolved_n": int(m.get("resolved")),
        "reopened_n": int(m.get("reopened")),
        "csat_avg": m.avg("csat"),
        "csat_n": int(m.get("csat_n")),
        "sentiment_change": m.avg("sentiment_change"),
        "qa_avg": m.avg("qa"),
    }


def agent_performance_for(tenant: Any, flt: AnalyticsFilter) -> list[dict[str, Any]]:
    """:func:`agent_performance` of the facts ``flt`` selects, from the daily roll-ups when they can answer
    (no dimension filter): humans from the ``agent`` roll-ups, assistants from ``ai_handled``."""
    humans = None if cube.filter_dimensions(flt) else cube.load_cube(tenant, flt, "agent")
    bots = None if humans is None else cube.load_cube(tenant, flt, "ai_handled")
    if humans is None or bots is None:
        return agent_performance(filtered_facts(tenant, flt))
    human_rows = sorted(
        ((k, _cube_measures(m)) for k, m in humans.items() if k and m.get("conversations")), key=lambda r: -r[1]["volume"]
    )[:200]
    bot_rows = sorted(
        ((k, _cube_measures(m)) for k, m in bots.items() if k and m.get("conversations")), key=lambda r: -r[1]["volume"]
    )[:50]
    users = {
        str(i): (n or e) for i, n, e in User.objects.filter(id__in=[k for k, _ in human_rows]).values_list("id", "name", "email")
    }
    assistants = {str(i): n for i, n in Assistant.objects.filter(id__in=[k for k, _ in bot_rows]).values_list("id", "name")}
    rows = [_row("agent", k, users.get(k, k), r) for k, r in human_rows]
    rows += [_row("assistant", k, assistants.get(k, k), r) for k, r in bot_rows]
    unnamed = bots.get("")
    if unnamed is not None and unnamed.get("conversations"):
        rows.append(_row("assistant", "", "Assistant (unnamed)", _cube_measures(unnamed)))
    return rows
