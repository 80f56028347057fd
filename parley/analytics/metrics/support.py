"""Support metrics over conversation facts: totals, breakdowns, CSAT distribution, time series, drill-down."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from parley.accounts.models import User
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.metrics import cube
from parley.analytics.metrics.cube import Measures
from parley.analytics.metrics.query import DIMENSIONS, Percentile, date_bounds, filtered_facts
from parley.analytics.models import ConversationFact, DailyRollup, Outcome
from parley.assistants.models import Assistant
from parley.connectors.models import Channel


def _rate(part: Any, whole: Any) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: Any, digits: int = 1) -> float | None:
    return round(float(value), digits) if value is not None else None


def _aggregates(business_hours: bool) -> dict[str, Any]:
    frt = "first_response_bh_s" if business_hours else "first_response_s"
    resolution = "resolution_bh_s" if business_hours else "resolution_s"
    reply_total = "reply_total_bh_s" if business_hours else "reply_total_s"
    return {
        "conversations": Count("id"),
        "customers": Count("customer_id", distinct=True),
        "frt_avg": Avg(frt),
        "frt_median": Percentile(frt, 0.5),
        "frt_p90": Percentile(frt, 0.9),
        "reply_total": Coalesce(Sum(reply_total), 0.0),
        "reply_count": Coalesce(Sum("reply_count"), 0),
        "aht_avg": Avg("handle_s"),
        "resolution_avg": Avg(resolution),
        "resolution_median": Percentile(resolution, 0.5),
        "resolved_n": Count("id", filter=Q(resolved=True)),
        "ai_resolved_n": Count("id", filter=Q(ai_resolved=True)),
        "deflected": Count("id", filter=Q(handed_over=False, outcome__in=[Outcome.RESOLVED_BY_AI, Outcome.ABANDONED])),
        "finished": Count("id", filter=~Q(outcome=Outcome.OPEN)),
        "handed_over_n": Count("id", filter=Q(handed_over=True)),
        "reopened_n": Count("id", filter=Q(reopened=True)),
        "durable_n": Count("id", filter=Q(durable=True)),
        "durable_known": Count("id", filter=Q(durable__isnull=False)),
        "abandoned_n": Count("id", filter=Q(abandoned=True)),
        "queue_wait_avg": Avg("queue_wait_s"),
        "queue_wait_median": Percentile("queue_wait_s", 0.5),
        "csat_avg": Avg("csat_score"),
        "csat_n": Count("csat_score"),
        "qa_avg": Avg("qa_score"),
        "sentiment_change": Avg(F("sentiment_last") - F("sentiment_first")),
        "negative_messages": Coalesce(Sum("negative_messages"), 0),
        "analysed_messages": Coalesce(Sum("analysed_messages"), 0),
        "with_failure": Count("id", filter=Q(failure_count__gt=0)),
    }


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    n = row["conversations"]
    return {
        "conversations": n,
        "unique_customers": row["customers"],
        "first_response_avg_s": _round(row["frt_avg"]),
        "first_response_median_s": _round(row["frt_median"]),
        "first_response_p90_s": _round(row["frt_p90"]),
        "reply_time_avg_s": _round(row["reply_total"] / row["reply_count"]) if row["reply_count"] else None,
        "replies": row["reply_count"],
        "handle_time_avg_s": _round(row["aht_avg"]),
        "resolution_time_avg_s": _round(row["resolution_avg"]),
        "resolution_time_median_s": _round(row["resolution_median"]),
        "resolved": row["resolved_n"],
        "resolution_rate": _rate(row["resolved_n"], n),
        "ai_resolution_rate": _rate(row["ai_resolved_n"], n),
        "deflection_rate": _rate(row["deflected"], row["finished"]),
        "handover_rate": _rate(row["handed_over_n"], n),
        "reopen_rate": _rate(row["reopened_n"], row["resolved_n"]),
        "durable_resolution_rate": _rate(row["durable_n"], row["durable_known"]),
        "abandonment_rate": _rate(row["abandoned_n"], n),
        "queue_wait_avg_s": _round(row["queue_wait_avg"]),
        "queue_wait_median_s": _round(row["queue_wait_median"]),
        "csat_avg": _round(row["csat_avg"], 2),
        "csat_responses": row["csat_n"],
        "qa_score_avg": _round(row["qa_avg"]),
        "sentiment_change_avg": _round(row["sentiment_change"], 3),
        "negative_message_share": _rate(row["negative_messages"], row["analysed_messages"]),
        "failure_rate": _rate(row["with_failure"], n),
    }


def reply_time_median(queryset: QuerySet[ConversationFact], *, business_hours: bool = False) -> float | None:
    """Median of every individual reply time (not a median of medians)."""
    if business_hours:
        return None  # per-reply business-hours durations are not stored; the average is exact
    inner_sql, params = queryset.values("id").query.sql_with_params()
    # inner_sql is compiled by Django; every value in it is a bound parameter.
    sql = "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r) FROM analytics_conversationfact f, "
    sql += "unnest(f.reply_times) AS r WHERE f.id IN (" + inner_sql + ")"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return _round(row[0]) if row and row[0] is not None else None


EXACT_REPLY_MEDIAN_MAX = 20_000


def summary(queryset: QuerySet[ConversationFact], *, business_hours: bool = False) -> dict[str, Any]:
    """Every support metric over ``queryset`` (one aggregate query plus the reply-time median).

    The reply-time median is exact (over every reply) up to ``EXACT_REPLY_MEDIAN_MAX`` conversations;
    above that it is the median of the per-conversation medians, and ``reply_time_median_method`` says so.
    """
    aggregates = _aggregates(business_hours)
    aggregates["reply_median_of_medians"] = Percentile("reply_median_s", 0.5)
    row = queryset.aggregate(**aggregates)
    result = _shape(row)
    if row["conversations"] <= EXACT_REPLY_MEDIAN_MAX:
        result["reply_time_median_s"] = reply_time_median(queryset, business_hours=business_hours)
        result["reply_time_median_method"] = "exact"
    else:
        result["reply_time_median_s"] = _round(row["reply_median_of_medians"])
        result["reply_time_median_method"] = "median_of_conversation_medians"
    result["business_hours"] = business_hours
    return result


def _cube_row(m: Measures, business_hours: bool) -> dict[str, Any]:
    """The aggregate row ``_shape`` reads, computed from roll-up measures instead of SQL."""
    frt = "first_response_bh" if business_hours else "first_response"
    resolution = "resolution_bh" if business_hours else "resolution"
    get = m.get
    return {
        "conversations": int(get("conversations")),
        "customers": m.unique_customers(),
        "frt_avg": m.avg(frt),
        "frt_median": m.percentile(frt, 0.5),
        "frt_p90": m.percentile(frt, 0.9),
        "reply_total": get("reply_total_bh_s" if business_hours else "reply_total_s"),
        "reply_count": int(get("reply_count")),
        "aht_avg": m.avg("handle"),
        "resolution_avg": m.avg(resolution),
        "resolution_median": m.percentile(resolution, 0.5),
        "resolved_n": int(get("resolved")),
        "ai_resolved_n": int(get("ai_resolved")),
        "deflected": int(get("deflected")),
        "finished": int(get("finished")),
        "handed_over_n": int(get("handed_over")),
        "reopened_n": int(get("reopened")),
        "durable_n": int(get("durable")),
        "durable_known": int(get("durable_known")),
        "abandoned_n": int(get("abandoned")),
        "queue_wait_avg": m.avg("queue_wait"),
        "queue_wait_median": m.percentile("queue_wait", 0.5),
        "csat_avg": m.avg("csat"),
        "csat_n": int(get("csat_n")),
        "qa_avg": m.avg("qa"),
        "sentiment_change": m.avg("sentiment_change"),
        "negative_messages": int(get("negative_messages")),
        "analysed_messages": int(get("analysed_messages")),
        "with_failure": int(get("with_failure")),
    }


def summary_for(tenant: Any, flt: AnalyticsFilter) -> dict[str, Any]:
    """:func:`summary` of the facts ``flt`` selects, read from the daily roll-ups when they can answer.

    From the roll-ups, medians and p90s come from 10%-wide duration histograms and the reply-time
    median covers every reply (``reply_time_median_method = "histogram"``).
    """
    measures = cube.load_single(tenant, flt)
    if measures is None:
        return summary(filtered_facts(tenant, flt), business_hours=flt.business_hours)
    result = _shape(_cube_row(measures, flt.business_hours))
    if flt.business_hours:
        result["reply_time_median_s"] = None
        result["reply_time_median_method"] = "exact"
    else:
        result["reply_time_median_s"] = _round(measures.percentile("reply", 0.5))
        result["reply_time_median_method"] = "histogram"
    result["business_hours"] = flt.business_hours
    return result


def breakdown_for(tenant: Any, flt: AnalyticsFilter, dimension: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """:func:`breakdown` of the facts ``flt`` selects, from the daily roll-ups when they can answer."""
    groups = cube.load_cube(tenant, flt, dimension)
    if groups is None:
        return breakdown(filtered_facts(tenant, flt), dimension, business_hours=flt.business_hours, limit=limit)
    rows = sorted(
        ((key, _cube_row(m, flt.business_hours)) for key, m in groups.items() if m.get("conversations")),
        key=lambda item: -item[1]["conversations"],
    )[:limit]
    labels = _labels(dimension, [key for key, _row in rows])
    return [{"key": key, "label": labels.get(key, key or "(none)"), **_shape(row)} for key, row in rows]


def csat_for(tenant: Any, flt: AnalyticsFilter) -> dict[str, Any]:
    """:func:`csat_distribution` of the facts ``flt`` selects, from the roll-ups when they can answer."""
    measures = cube.load_single(tenant, flt)
    if measures is None:
        return csat_distribution(filtered_facts(tenant, flt))
    return _csat_shape({s: int(measures.get(f"csat_{s}")) for s in range(1, 6)})


def _labels(dimension: str, keys: Iterable[Any]) -> dict[str, str]:
    keys = [k for k in keys if k]
    if dimension == "channel":
        return {str(i): f"{t}:{n}" for i, t, n in Channel.objects.filter(id__in=keys).values_list("id", "type", "name")}
    if dimension == "assistant":
        return {str(i): n for i, n in Assistant.objects.filter(id__in=keys).values_list("id", "name")}
    if dimension == "agent":
        return {str(i): (n or e) for i, n, e in User.objects.filter(id__in=keys).values_list("id", "name", "email")}
    return {}


def breakdown(
    queryset: QuerySet[ConversationFact], dimension: str, *, business_hours: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    """Support metrics per value of ``dimension`` (see ``DIMENSIONS``), largest groups first."""
    column = DIMENSIONS[dimension]
    rows = list(queryset.values(column).annotate(**_aggregates(business_hours)).order_by("-conversations")[:limit])
    labels = _labels(dimension, [r[column] for r in rows])
    result = []
    for row in rows:
        key = "" if row[column] is None else str(row[column])
        result.append({"key": key, "label": labels.get(key, key or "(none)"), **_shape(row)})
    return result


def csat_distribution(queryset: QuerySet[ConversationFact]) -> dict[str, Any]:
    """How many answers of each score 1..5, the average and the share of 4–5 ("satisfied")."""
    rows = (
        queryset.filter(csat_score__isnull=False).values_list("csat_score").annotate(n=Count("id")).values_list("csat_score", "n")
    )
    return _csat_shape({int(score or 0): n for score, n in rows})


def _csat_shape(counts: dict[int, int]) -> dict[str, Any]:
    total = sum(counts.values())
    distribution = [{"score": s, "count": counts.get(s, 0)} for s in range(1, 6)]
    average = sum(s * c for s, c in counts.items()) / total if total else None
    return {
        "responses": total,
        "average": _round(average, 2),
        "satisfied_share": _rate(counts.get(4, 0) + counts.get(5, 0), total),
        "distribution": distribution,
    }


def timeseries(tenant: Any, flt: AnalyticsFilter, *, dimension: str = "all", key: str = "") -> list[dict[str, Any]]:
    """Daily points from the roll-up table (fast at any volume)."""
    queryset = DailyRollup.objects.filter(tenant=tenant, dimension=dimension, key=key)
    if flt.start:
        queryset = queryset.filter(day__gte=flt.start)
    if flt.end:
        queryset = queryset.filter(day__lte=flt.end)
    points = []
    columns = (
        "day",
        "conversations",
        "customers",
        "resolved",
        "ai_resolved",
        "handed_over",
        "first_response_sum_s",
        "first_response_n",
        "reply_total_s",
        "reply_count",
        "resolution_sum_s",
        "resolution_n",
        "csat_sum",
        "csat_n",
        "negative_messages",
        "analysed_messages",
        "failures",
    )
    for row in queryset.filter(conversations__gt=0).order_by("day").only(*columns):
        points.append(
            {
                "day": row.day.isoformat(),
                "conversations": row.conversations,
                "customers": row.customers,
                "resolution_rate": _rate(row.resolved, row.conversations),
                "ai_resolution_rate": _rate(row.ai_resolved, row.conversations),
                "handover_rate": _rate(row.handed_over, row.conversations),
                "first_response_avg_s": _round(row.first_response_sum_s / row.first_response_n) if row.first_response_n else None,
                "reply_time_avg_s": _round(row.reply_total_s / row.reply_count) if row.reply_count else None,
                "resolution_time_avg_s": _round(row.resolution_sum_s / row.resolution_n) if row.resolution_n else None,
                "csat_avg": _round(row.csat_sum / row.csat_n, 2) if row.csat_n else None,
                "negative_message_share": _rate(row.negative_messages, row.analysed_messages),
                "failures": row.failures,
            }
        )
    return points


def drilldown_filter(queryset: QuerySet[ConversationFact], params: dict[str, Any]) -> QuerySet[ConversationFact]:
    """Narrow facts to the conversations behind one number (outcome, flags, failure kind, CSAT score, ...)."""
    if params.get("outcome"):
        queryset = queryset.filter(outcome=params["outcome"])
    for flag in ("resolved", "ai_resolved", "handed_over", "reopened", "abandoned"):
        if params.get(flag) is not None:
            queryset = queryset.filter(**{flag: params[flag]})
    if params.get("durable") is not None:
        queryset = queryset.filter(durable=params["durable"])
    if params.get("failure_kind"):
        queryset = queryset.filter(failure_kinds__contains=[params["failure_kind"]])
    if params.get("csat") is not None:
        queryset = queryset.filter(csat_score=params["csat"])
    if params.get("handover_reason"):
        queryset = queryset.filter(handover_reason=params["handover_reason"])
    if params.get("prompt_version"):
        queryset = queryset.filter(prompt_version=params["prompt_version"])
    return queryset


__all__ = [
    "breakdown",
    "breakdown_for",
    "csat_distribution",
    "csat_for",
    "date_bounds",
    "drilldown_filter",
    "summary",
    "summary_for",
    "timeseries",
]
