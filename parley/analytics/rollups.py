"""Daily roll-ups of conversation facts into ``DailyRollup`` (rebuilt, never incremented)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from parley.analytics.models import ConversationFact, DailyRollup

ROLLUP_DIMENSIONS = {
    "all": None,
    "channel_type": "channel_type",
    "intent": "intent",
    "assistant": "assistant_id",
    "agent": "agent_id",
}


def rebuild_rollups(tenant_id: Any, start: date, end: date) -> int:
    """Recompute the tenant's roll-ups for every day in ``[start, end]``; returns rows written."""
    tz = timezone.get_current_timezone()
    lower = datetime.combine(start, time.min, tz)
    upper = datetime.combine(end + timedelta(days=1), time.min, tz)
    facts = ConversationFact.objects.filter(tenant_id=tenant_id, started_at__gte=lower, started_at__lt=upper)
    now = timezone.now()
    rows: list[DailyRollup] = []
    measures = {
        "conversations_n": Count("id"),
        "customers_n": Count("customer_id", distinct=True),
        "resolved_n": Count("id", filter=Q(resolved=True)),
        "ai_resolved_n": Count("id", filter=Q(ai_resolved=True)),
        "handed_over_n": Count("id", filter=Q(handed_over=True)),
        "reopened_n": Count("id", filter=Q(reopened=True)),
        "abandoned_n": Count("id", filter=Q(abandoned=True)),
        "frt_sum": Coalesce(Sum("first_response_s"), 0.0),
        "frt_n": Count("first_response_s"),
        "reply_sum": Coalesce(Sum("reply_total_s"), 0.0),
        "reply_n": Coalesce(Sum("reply_count"), 0),
        "res_sum": Coalesce(Sum("resolution_s"), 0.0),
        "res_n": Count("resolution_s"),
        "csat_total": Coalesce(Sum("csat_score"), 0),
        "csat_count": Count("csat_score"),
        "neg": Coalesce(Sum("negative_messages"), 0),
        "analysed": Coalesce(Sum("analysed_messages"), 0),
        "failures_n": Count("id", filter=Q(failure_count__gt=0)),
    }
    for dimension, column in ROLLUP_DIMENSIONS.items():
        group = ["day"] + ([column] if column else [])
        queryset = facts.annotate(day=TruncDate("started_at", tzinfo=tz)).values(*group).annotate(**measures)
        for row in queryset:
            key = "" if not column or row[column] is None else str(row[column])
            rows.append(
                DailyRollup(
                    tenant_id=tenant_id,
                    day=row["day"],
                    dimension=dimension,
                    key=key[:200],
                    conversations=row["conversations_n"],
                    customers=row["customers_n"],
                    resolved=row["resolved_n"],
                    ai_resolved=row["ai_resolved_n"],
                    handed_over=row["handed_over_n"],
                    reopened=row["reopened_n"],
                    abandoned=row["abandoned_n"],
                    first_response_sum_s=row["frt_sum"],
                    first_response_n=row["frt_n"],
                    reply_total_s=row["reply_sum"],
                    reply_count=row["reply_n"],
                    resolution_sum_s=row["res_sum"],
                    resolution_n=row["res_n"],
                    csat_sum=row["csat_total"],
                    csat_n=row["csat_count"],
                    negative_messages=row["neg"],
                    analysed_messages=row["analysed"],
                    failures=row["failures_n"],
                    computed_at=now,
                )
            )
    with transaction.atomic():
        DailyRollup.objects.filter(tenant_id=tenant_id, day__gte=start, day__lte=end).delete()
        DailyRollup.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
