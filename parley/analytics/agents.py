"""Agent performance: human agents and AI assistants side by side, from conversation facts."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet

from parley.accounts.models import User
from parley.analytics.metrics.query import Percentile
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
