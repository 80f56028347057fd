"""Compute an alert metric over a time window, and decide whether a rule fires."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Q
from django.utils import timezone

from parley.analytics.models import AlertMetric, AlertRule, ConversationFact
from parley.conversations.models import Conversation, ConversationStatus, Message

ANOMALY_HISTORY_WINDOWS = 24


@dataclass(frozen=True)
class WindowValue:
    """A metric's value in one window, and how many events it is based on."""

    value: float | None
    volume: int


@dataclass(frozen=True)
class Evaluation:
    """The outcome of evaluating one rule now."""

    fired: bool
    value: float | None
    volume: int
    baseline: float | None
    window_start: datetime
    window_end: datetime
    reason: str


def _facts(tenant_id: Any, start: datetime, end: datetime, filters: dict[str, Any]) -> Any:
    queryset = ConversationFact.objects.filter(tenant_id=tenant_id, started_at__gte=start, started_at__lt=end)
    for key in ("intent", "channel_type", "team", "language", "topic"):
        if filters.get(key):
            queryset = queryset.filter(**{key: filters[key]})
    if filters.get("assistant"):
        queryset = queryset.filter(assistant_id=filters["assistant"])
    return queryset


def window_value(
    tenant_id: Any, metric: str, start: datetime, end: datetime, filters: dict[str, Any] | None = None
) -> WindowValue:
    """The value of ``metric`` for events in ``[start, end)``.

    Message-level metrics read messages directly (recent windows are small and indexed by
    ``(tenant, created_at)``); conversation-level ones read conversation facts.
    """
    filters = filters or {}
    if metric == AlertMetric.NEGATIVE_SENTIMENT_SHARE:
        messages = Message.objects.filter(
            tenant_id=tenant_id, created_at__gte=start, created_at__lt=end, sender_type="customer", analysis__has_key="sentiment"
        )
        if filters.get("channel_type"):
            messages = messages.filter(channel__type=filters["channel_type"])
        if filters.get("intent"):
            messages = messages.filter(analysis__intent=filters["intent"])
        row = messages.aggregate(n=Count("id"), negative=Count("id", filter=Q(analysis__sentiment="negative")))
        return WindowValue(100.0 * row["negative"] / row["n"] if row["n"] else None, row["n"])
    if metric == AlertMetric.QUEUE_WAIT_MINUTES:
        waiting = Conversation.objects.filter(
            tenant_id=tenant_id, status=ConversationStatus.PENDING_HUMAN, handed_over_at__isnull=False, handed_over_at__lt=end
        )
        if filters.get("team"):
            waiting = waiting.filter(team=filters["team"])
        oldest = waiting.order_by("handed_over_at").values_list("handed_over_at", flat=True).first()
        count = waiting.count()
        return WindowValue((end - oldest).total_seconds() / 60.0 if oldest else 0.0, count)
    if metric == AlertMetric.NEW_CONVERSATIONS:
        n = _facts(tenant_id, start, end, filters).count()
        return WindowValue(float(n), n)
    facts = _facts(tenant_id, start, end, filters)
    row = facts.aggregate(
        n=Count("id"),
        ai=Count("id", filter=Q(ai_resolved=True)),
        handed=Count("id", filter=Q(handed_over=True)),
        failed=Count("id", filter=Q(failure_count__gt=0)),
        csat=Avg("csat_score"),
        csat_n=Count("csat_score"),
    )
    n = row["n"]
    if metric == AlertMetric.AI_RESOLUTION_RATE:
        return WindowValue(100.0 * row["ai"] / n if n else None, n)
    if metric == AlertMetric.HANDOVER_RATE:
        return WindowValue(100.0 * row["handed"] / n if n else None, n)
    if metric == AlertMetric.FAILURE_RATE:
        return WindowValue(100.0 * row["failed"] / n if n else None, n)
    if metric == AlertMetric.CSAT_AVERAGE:
        return WindowValue(float(row["csat"]) if row["csat"] is not None else None, row["csat_n"])
    raise ValueError(f"unknown alert metric {metric!r}")


def evaluate_rule(rule: AlertRule, *, now: datetime | None = None) -> Evaluation:
    """Evaluate ``rule`` over the window ending ``now``.

    Threshold rules compare the value with ``threshold``. Anomaly rules compute a z-score against the
    previous 24 windows of the same length and fire when it passes ``threshold`` in the rule's
    direction.
    """
    now = now or timezone.now()
    window = timedelta(minutes=rule.window_minutes)
    start = now - window
    current = window_value(rule.tenant_id, rule.metric, start, now, rule.filters)
    above = rule.comparator == AlertRule.Comparator.ABOVE
    if current.value is None or current.volume < rule.min_volume:
        return Evaluation(False, current.value, current.volume, None, start, now, "not enough volume")
    if rule.kind == AlertRule.Kind.THRESHOLD:
        fired = current.value > rule.threshold if above else current.value < rule.threshold
        reason = f"{current.value:.1f} {'>' if above else '<'} {rule.threshold:g}" if fired else "within threshold"
        return Evaluation(fired, current.value, current.volume, rule.threshold, start, now, reason)
    history = []
    for i in range(1, ANOMALY_HISTORY_WINDOWS + 1):
        past = window_value(rule.tenant_id, rule.metric, start - window * i, now - window * i, rule.filters)
        if past.value is not None:
            history.append(past.value)
    if len(history) < 3:
        return Evaluation(False, current.value, current.volume, None, start, now, "not enough history")
    mean = statistics.fmean(history)
    spread = statistics.pstdev(history) or max(abs(mean) * 0.05, 1e-6)
    z = (current.value - mean) / spread
    fired = z >= rule.threshold if above else z <= -rule.threshold
    reason = f"z = {z:+.1f} against the last {len(history)} windows (mean {mean:.1f})"
    return Evaluation(fired, current.value, current.volume, mean, start, now, reason)
