"""Daily roll-ups of conversation facts into ``DailyRollup`` (rebuilt, never incremented).

One row per tenant, day and dimension value (see :data:`parley.analytics.metrics.cube.DIMENSIONS`),
holding the day's additive :class:`~parley.analytics.metrics.cube.Measures` (sums, duration
histograms, CSAT counts, failure kinds, paths, customer keys). Every day of the rebuilt range gets an
``all`` row, even an empty one, so a reader can tell "no conversations" from "not rolled up yet".
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from parley.analytics.metrics.cube import FACT_COLUMNS, Measures, day_bounds, dimension_keys, local_day
from parley.analytics.models import ConversationFact, DailyRollup


def _row(tenant_id: Any, day: date, dimension: str, key: str, measures: Measures, now: Any) -> DailyRollup:
    get = measures.get
    return DailyRollup(
        tenant_id=tenant_id,
        day=day,
        dimension=dimension,
        key=key,
        conversations=int(get("conversations")),
        customers=measures.unique_customers(),
        resolved=int(get("resolved")),
        ai_resolved=int(get("ai_resolved")),
        handed_over=int(get("handed_over")),
        reopened=int(get("reopened")),
        abandoned=int(get("abandoned")),
        first_response_sum_s=float(get("first_response_sum")),
        first_response_n=int(get("first_response_n")),
        reply_total_s=float(get("reply_total_s")),
        reply_count=int(get("reply_count")),
        resolution_sum_s=float(get("resolution_sum")),
        resolution_n=int(get("resolution_n")),
        csat_sum=int(get("csat_sum")),
        csat_n=int(get("csat_n")),
        negative_messages=int(get("negative_messages")),
        analysed_messages=int(get("analysed_messages")),
        failures=int(get("with_failure")),
        measures=measures.to_json(),
        sums=measures.packed_sums(),
        hists=measures.packed_hists(),
        customer_keys=measures.packed_customers(),
        computed_at=now,
    )


def rebuild_rollups(tenant_id: Any, start: date, end: date) -> int:
    """Recompute the tenant's roll-ups for every day in ``[start, end]``; returns rows written."""
    lower, upper = day_bounds(start)[0], day_bounds(end)[1]
    now = timezone.now()
    cells: dict[tuple[date, str, str], Measures] = {}
    day = start
    while day <= end:
        cells[(day, "all", "")] = Measures()
        day += timedelta(days=1)
    facts = ConversationFact.objects.filter(tenant_id=tenant_id, started_at__gte=lower, started_at__lt=upper)
    for fact in facts.values(*FACT_COLUMNS).iterator(chunk_size=2000):
        fact_day = local_day(fact["started_at"])
        one = Measures()
        one.add_fact(fact)  # derived once, then added to each of the fact's cells
        for dimension, key in dimension_keys(fact):
            cell = cells.get((fact_day, dimension, key))
            if cell is None:
                cell = cells[(fact_day, dimension, key)] = Measures()
            cell.merge(one)
    rows = [_row(tenant_id, d, dimension, key, measures, now) for (d, dimension, key), measures in cells.items()]
    with transaction.atomic():
        DailyRollup.objects.filter(tenant_id=tenant_id, day__gte=start, day__lte=end).delete()
        DailyRollup.objects.bulk_create(rows, batch_size=500)
    return len(rows)
