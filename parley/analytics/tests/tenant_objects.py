"""One object of each routed analytics model in another tenant (for the core route-leak test)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from parley.analytics.models import AlertEvent, AlertRule, CsatSurvey, Notification, QAScore, ReportJob


def analytics_objects(other: Any, conversation: Any) -> dict[type, Any]:
    rule = AlertRule.objects.create(tenant=other, name="Globex rule", metric="negative_sentiment_share", threshold=10)
    now = timezone.now()
    event = AlertEvent.objects.create(
        tenant=other, rule=rule, metric=rule.metric, value=50, window_start=now, window_end=now, message="globex alert"
    )
    return {
        AlertRule: rule,
        AlertEvent: event,
        Notification: Notification.objects.create(tenant=other, title="Globex alert", alert_event=event),
        QAScore: QAScore.objects.create(tenant=other, conversation=conversation, criteria={}, score=80),
        CsatSurvey: CsatSurvey.objects.create(
            tenant=other, conversation=conversation, customer=conversation.customer, channel=conversation.channel, sent_at=now
        ),
        ReportJob: ReportJob.objects.create(tenant=other, filters={"start": "2026-10-01"}, status="done", size_bytes=10),
    }
