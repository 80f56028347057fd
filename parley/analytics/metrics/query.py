"""Filtering conversation facts, and SQL aggregates PostgreSQL has but Django does not ship."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Aggregate, FloatField, QuerySet
from django.utils import timezone

from parley.analytics.interface import AnalyticsFilter
from parley.analytics.models import ConversationFact

# Dimensions a breakdown may group by: API name → fact column.
DIMENSIONS = {
    "channel": "channel_id",
    "channel_type": "channel_type",
    "assistant": "assistant_id",
    "team": "team",
    "agent": "agent_id",
    "intent": "intent",
    "topic": "topic",
    "language": "language",
    "source": "source",
    "prompt_version": "prompt_version",
    "handover_reason": "handover_reason",
    "outcome": "outcome",
}


class Percentile(Aggregate):
    """``percentile_cont(p) WITHIN GROUP (ORDER BY expr)``."""

    function = "percentile_cont"
    name = "Percentile"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, percentile: float = 0.5, **extra: Any) -> None:
        super().__init__(expression, percentile=float(percentile), **extra)


def date_bounds(flt: AnalyticsFilter) -> tuple[datetime | None, datetime | None]:
    """The filter's date range as aware datetimes (``end`` is inclusive, so the bound is the next midnight)."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(flt.start, time.min, tz) if flt.start else None
    end = datetime.combine(flt.end + timedelta(days=1), time.min, tz) if flt.end else None
    return start, end


def filtered_facts(tenant: Any, flt: AnalyticsFilter) -> QuerySet[ConversationFact]:
    """The tenant's conversation facts matching ``flt`` (conversations that *started* in the range)."""
    queryset = ConversationFact.objects.filter(tenant=tenant)
    start, end = date_bounds(flt)
    if start is not None:
        queryset = queryset.filter(started_at__gte=start)
    if end is not None:
        queryset = queryset.filter(started_at__lt=end)
    for attribute, column in (
        ("channel", "channel_id"),
        ("channel_type", "channel_type"),
        ("assistant", "assistant_id"),
        ("team", "team"),
        ("agent", "agent_id"),
        ("intent", "intent"),
        ("topic", "topic"),
        ("language", "language"),
        ("source", "source"),
    ):
        value = getattr(flt, attribute)
        if value not in (None, ""):
            queryset = queryset.filter(**{column: value})
    return queryset
