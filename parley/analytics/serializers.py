"""Input (query filters, rule edits, overrides) and output representations of the analytics API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from parley.analytics.failures import FAILURE_KINDS
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.metrics.query import DIMENSIONS
from parley.analytics.models import (
    AlertEvent,
    AlertMetric,
    AlertRule,
    ConversationFact,
    CsatSurvey,
    Notification,
    Outcome,
    QAScore,
    ReportJob,
)
from parley.core.api import StrictModelSerializer, StrictSerializer

# Query parameters that belong to pagination or rendering, not to the filters.
PASSTHROUGH_PARAMS = {"page", "page_size", "format"}
MAX_RANGE_DAYS = 3660


def make_filter(data: dict[str, Any], exclude: tuple[str, ...] = ()) -> AnalyticsFilter:
    """An :class:`AnalyticsFilter` from validated query data (ids as strings)."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in exclude:
            continue
        values[key] = str(value) if key in ("channel", "assistant", "agent") else value
    values["business_hours"] = bool(values.get("business_hours"))
    return AnalyticsFilter(**values)


class AnalyticsFilterSerializer(StrictSerializer):
    """Filters shared by every analytics endpoint (all optional; dates are inclusive, UTC days)."""

    start = serializers.DateField(required=False, help_text="First day (YYYY-MM-DD) of conversations started")
    end = serializers.DateField(required=False, help_text="Last day (inclusive)")
    channel = serializers.UUIDField(required=False)
    channel_type = serializers.CharField(required=False, max_length=20)
    assistant = serializers.UUIDField(required=False)
    team = serializers.CharField(required=False, max_length=100)
    agent = serializers.UUIDField(required=False)
    intent = serializers.CharField(required=False, max_length=120)
    topic = serializers.CharField(required=False, max_length=120)
    language = serializers.CharField(required=False, max_length=10)
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, max_length=20, help_text="live, or an imported dataset (sgd, twcs, ...)"
    )
    business_hours = serializers.BooleanField(required=False, default=False, help_text="Count durations in business hours only")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end:
            if end < start:
                raise serializers.ValidationError({"end": ["end is before start"]})
            if (end - start).days > MAX_RANGE_DAYS:
                raise serializers.ValidationError({"end": [f"the range may span at most {MAX_RANGE_DAYS} days"]})
        return attrs

    EXTRA_KEYS: tuple[str, ...] = ()

    def to_filter(self) -> AnalyticsFilter:
        return make_filter(dict(self.validated_data), self.EXTRA_KEYS)


class BreakdownQuerySerializer(AnalyticsFilterSerializer):
    by = serializers.ChoiceField(choices=sorted(DIMENSIONS), help_text="Dimension to group by")

    EXTRA_KEYS = ("by",)


class TimeseriesQuerySerializer(AnalyticsFilterSerializer):
    dimension = serializers.ChoiceField(
        choices=["all", "channel_type", "intent", "assistant", "agent"], default="all", required=False
    )
    key = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)

    EXTRA_KEYS = ("dimension", "key")


class DrilldownQuerySerializer(AnalyticsFilterSerializer):
    """Filters plus the condition behind one number (e.g. ``outcome=resolved_by_ai``)."""

    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)
    resolved = serializers.BooleanField(required=False, allow_null=True, default=None)
    ai_resolved = serializers.BooleanField(required=False, allow_null=True, default=None)
    handed_over = serializers.BooleanField(required=False, allow_null=True, default=None)
    reopened = serializers.BooleanField(required=False, allow_null=True, default=None)
    abandoned = serializers.BooleanField(required=False, allow_null=True, default=None)
    durable = serializers.BooleanField(required=False, allow_null=True, default=None)
    failure_kind = serializers.ChoiceField(choices=FAILURE_KINDS, required=False)
    csat = serializers.IntegerField(required=False, min_value=1, max_value=5)
    handover_reason = serializers.CharField(required=False, max_length=200)
    prompt_version = serializers.CharField(required=False, max_length=100)

    DRILL_KEYS: tuple[str, ...] = (
        "outcome",
        "resolved",
        "ai_resolved",
        "handed_over",
        "reopened",
        "abandoned",
        "durable",
        "failure_kind",
        "csat",
        "handover_reason",
        "prompt_version",
    )

    def drill(self) -> dict[str, Any]:
        return {k: self.validated_data.get(k) for k in self.DRILL_KEYS}

    def to_filter(self) -> AnalyticsFilter:
        return make_filter(dict(self.validated_data), self.DRILL_KEYS)


class ABQuerySerializer(AnalyticsFilterSerializer):
    a = serializers.CharField(max_length=100, help_text="Prompt version A (e.g. v3)")
    b = serializers.CharField(max_length=100, help_text="Prompt version B")

    EXTRA_KEYS = ("a", "b")


class ExportQuerySerializer(DrilldownQuerySerializer):
    by = serializers.ChoiceField(choices=sorted(DIMENSIONS), required=False, help_text="For the breakdown table")

    DRILL_KEYS = (*DrilldownQuerySerializer.DRILL_KEYS, "by")


class ConversationFactSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = ConversationFact
        exclude = ["tenant", "metadata", "updated_at", "created_at", "reply_times", "act_path"]


class CsatSurveySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = CsatSurvey
        fields = [
            "id",
            "conversation",
            "customer",
            "channel",
            "status",
            "sent_at",
            "reminders_sent",
            "last_reminder_at",
            "score",
            "comment",
            "answered_at",
        ]
        read_only_fields = fields


class QAScoreSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    effective_score = serializers.FloatField(read_only=True)

    class Meta:
        model = QAScore
        fields = [
            "id",
            "conversation",
            "method",
            "criteria",
            "score",
            "override_score",
            "override_note",
            "overridden_by",
            "overridden_at",
            "effective_score",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class QAOverrideSerializer(StrictSerializer):
    override_score = serializers.FloatField(min_value=0, max_value=100, allow_null=True)
    override_note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AlertRuleSerializer(StrictModelSerializer):
    metric = serializers.ChoiceField(choices=AlertMetric.choices)
    email_to = serializers.ListField(child=serializers.EmailField(), required=False, max_length=20)
    webhook_secret = serializers.CharField(required=False, allow_blank=True, max_length=200, write_only=True)
    filters = serializers.DictField(child=serializers.CharField(max_length=200), required=False)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "enabled",
            "metric",
            "kind",
            "comparator",
            "threshold",
            "window_minutes",
            "min_volume",
            "filters",
            "deliver_in_app",
            "email_to",
            "webhook_url",
            "webhook_secret",
            "cooldown_minutes",
            "last_fired_at",
            "last_evaluated_at",
            "created_at",
        ]
        read_only_fields = ["id", "last_fired_at", "last_evaluated_at", "created_at"]

    ALLOWED_FILTERS = ("intent", "channel_type", "team", "language", "topic", "assistant")

    def validate_filters(self, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(self.ALLOWED_FILTERS))
        if unknown:
            raise serializers.ValidationError(
                f"unknown filter(s) {', '.join(unknown)}; allowed: {', '.join(self.ALLOWED_FILTERS)}"
            )
        return value

    def validate_window_minutes(self, value: int) -> int:
        if not 1 <= value <= 60 * 24 * 31:
            raise serializers.ValidationError("window must be between 1 minute and 31 days")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        url = attrs.get("webhook_url", getattr(self.instance, "webhook_url", ""))
        secret = attrs.get("webhook_secret", getattr(self.instance, "webhook_secret", ""))
        if url and not secret:
            raise serializers.ValidationError({"webhook_secret": ["a webhook needs a secret to sign its payloads"]})
        return attrs


class AlertEventSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    rule_name = serializers.CharField(source="rule.name", read_only=True)

    class Meta:
        model = AlertEvent
        fields = [
            "id",
            "rule",
            "rule_name",
            "metric",
            "value",
            "baseline",
            "volume",
            "window_start",
            "window_end",
            "message",
            "deliveries",
            "created_at",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "alert_event", "read_at", "created_at"]
        read_only_fields = fields


class ReportJobSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A PDF report job: its filters, where it stands, and (when done) where to download it."""

    filters = serializers.DictField(read_only=True, help_text="The report's filters (start, end, channel_type, ...)")
    download_url = serializers.SerializerMethodField(help_text="The PDF's URL once the job is done, else null")
    filename = serializers.CharField(read_only=True)

    class Meta:
        model = ReportJob
        fields = [
            "id",
            "filters",
            "status",
            "progress",
            "stage",
            "attempts",
            "error",
            "size_bytes",
            "filename",
            "download_url",
            "requested_by",
            "requested_by_label",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_download_url(self, job: ReportJob) -> str | None:
        return f"/api/v1/analytics/reports/{job.id}/file/" if job.status == "done" and job.file else None
