"""Analytics tables: derived per-conversation facts, daily roll-ups, CSAT surveys, QA scores, alerts.

Nothing here is a hand-kept counter: ``ConversationFact`` and ``DailyRollup`` are recomputed from the
stored conversations, messages and events (idempotently, by Celery), so they cannot drift.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from parley.core.models import TenantScopedModel


class Outcome(models.TextChoices):
    """How a conversation ended (or where it stands)."""

    RESOLVED_BY_AI = "resolved_by_ai", "Resolved by the assistant"
    RESOLVED_BY_AGENT = "resolved_by_agent", "Resolved by an agent"
    HANDED_OVER = "handed_over", "Handed over, not resolved yet"
    ABANDONED = "abandoned", "Abandoned"
    OPEN = "open", "Still open"


class ConversationFact(TenantScopedModel):
    """One row per conversation: its dimensions and measures, derived from stored facts.

    Rebuilt by :func:`parley.analytics.facts.refresh_conversation_fact` whenever the conversation
    changed; dashboards aggregate these rows instead of scanning messages.
    """

    conversation = models.OneToOneField("conversations.Conversation", on_delete=models.CASCADE, related_name="analytics_fact")
    started_at = models.DateTimeField()
    # Dimensions
    channel_id = models.UUIDField(null=True, blank=True)
    channel_type = models.CharField(max_length=20, blank=True)
    assistant_id = models.UUIDField(null=True, blank=True)
    agent_id = models.UUIDField(null=True, blank=True)
    team = models.CharField(max_length=100, blank=True)
    intent = models.CharField(max_length=120, blank=True, help_text="The first intent the customer expressed")
    topic = models.CharField(max_length=120, blank=True)
    language = models.CharField(max_length=10, blank=True)
    source = models.CharField(max_length=20, blank=True)
    customer_id = models.UUIDField(null=True, blank=True)
    prompt_version = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.OPEN)
    # Measures (seconds; null when not applicable)
    first_response_s = models.FloatField(null=True, blank=True)
    first_response_bh_s = models.FloatField(null=True, blank=True)
    reply_count = models.PositiveIntegerField(default=0)
    reply_total_s = models.FloatField(default=0.0)
    reply_total_bh_s = models.FloatField(default=0.0)
    reply_median_s = models.FloatField(null=True, blank=True)
    handle_s = models.FloatField(null=True, blank=True, help_text="From the first human reply to resolution/last message")
    resolution_s = models.FloatField(null=True, blank=True)
    resolution_bh_s = models.FloatField(null=True, blank=True)
    queue_wait_s = models.FloatField(null=True, blank=True)
    resolved = models.BooleanField(default=False)
    ai_resolved = models.BooleanField(default=False)
    handed_over = models.BooleanField(default=False)
    handover_reason = models.CharField(max_length=200, blank=True)
    reopened = models.BooleanField(default=False)
    durable = models.BooleanField(
        null=True, blank=True, help_text="Resolved and not reopened within N days; null while undecided"
    )
    abandoned = models.BooleanField(default=False)
    customer_messages = models.PositiveIntegerField(default=0)
    assistant_messages = models.PositiveIntegerField(default=0)
    agent_messages = models.PositiveIntegerField(default=0)
    sentiment_first = models.FloatField(null=True, blank=True)
    sentiment_last = models.FloatField(null=True, blank=True)
    negative_messages = models.PositiveIntegerField(default=0)
    analysed_messages = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    failure_kinds = models.JSONField(default=list, blank=True)
    failure_points = models.JSONField(default=list, blank=True)
    reply_times = ArrayField(models.FloatField(), default=list, blank=True)
    intent_path = models.JSONField(default=list, blank=True)
    act_path = models.JSONField(default=list, blank=True)
    csat_score = models.PositiveSmallIntegerField(null=True, blank=True)
    qa_score = models.FloatField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    llm_cost = models.FloatField(default=0.0)
    tool_calls = models.PositiveIntegerField(default=0)
    tool_errors = models.PositiveIntegerField(default=0)
    payment_intent = models.BooleanField(default=False)
    payment_converted = models.BooleanField(default=False)
    last_message_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["tenant", "started_at"]),
            models.Index(fields=["tenant", "channel_id", "started_at"]),
            models.Index(fields=["tenant", "agent_id", "started_at"]),
            models.Index(fields=["tenant", "intent", "started_at"]),
            models.Index(fields=["tenant", "assistant_id", "started_at"]),
            # Roll-up freshness: the facts recomputed after a day's roll-up was written.
            models.Index(fields=["tenant", "computed_at"], name="analytics_fact_tenant_computed"),
            # Failure-point examples: the latest conversations with a failure.
            models.Index(
                fields=["tenant", "-started_at"], name="analytics_fact_failed_recent", condition=models.Q(failure_count__gt=0)
            ),
            models.Index(
                fields=["tenant", "-started_at"], name="analytics_fact_tools_recent", condition=models.Q(tool_calls__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"fact {self.conversation_id} ({self.outcome})"


class DailyRollup(TenantScopedModel):
    """Aggregates of ``ConversationFact`` per tenant, day and dimension value (``dimension='all'`` for totals)."""

    day = models.DateField()
    dimension = models.CharField(max_length=20)
    key = models.CharField(max_length=200, blank=True)
    conversations = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    ai_resolved = models.PositiveIntegerField(default=0)
    handed_over = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    first_response_sum_s = models.FloatField(default=0.0)
    first_response_n = models.PositiveIntegerField(default=0)
    reply_total_s = models.FloatField(default=0.0)
    reply_count = models.PositiveIntegerField(default=0)
    resolution_sum_s = models.FloatField(default=0.0)
    resolution_n = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    csat_n = models.PositiveIntegerField(default=0)
    negative_messages = models.PositiveIntegerField(default=0)
    analysed_messages = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    measures = models.JSONField(
        default=dict, blank=True, help_text="Format version and intent / dialogue-act path counts; see metrics.cube"
    )
    sums = models.BinaryField(
        default=bytes, blank=True, help_text="Additive sums, little-endian float64 (metrics.cube.SUM_NAMES)"
    )
    hists = models.BinaryField(default=bytes, blank=True, help_text="Duration histogram cells (metrics.cube.HIST_CELL)")
    customer_keys = models.BinaryField(
        default=bytes, blank=True, help_text="The day's customers' 64-bit keys, sorted little-endian int64 (unique counts)"
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "dimension", "key"], name="uniq_rollup_tenant_day_dim_key")
        ]
        indexes = [models.Index(fields=["tenant", "dimension", "day"])]


class CsatStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an answer"
    ANSWERED = "answered", "Answered"
    EXPIRED = "expired", "Expired"


class CsatSurvey(TenantScopedModel):
    """A post-conversation satisfaction survey (1–5) sent on the conversation's own channel."""

    conversation = models.OneToOneField("conversations.Conversation", on_delete=models.CASCADE, related_name="csat_survey")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=CsatStatus.choices, default=CsatStatus.PENDING, db_index=True)
    sent_at = models.DateTimeField()
    sent_message = models.ForeignKey("conversations.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_message = models.ForeignKey(
        "conversations.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["tenant", "customer", "status"])]


class QAScore(TenantScopedModel):
    """The automatic quality score of one conversation, with a supervisor's optional override."""

    conversation = models.OneToOneField("conversations.Conversation", on_delete=models.CASCADE, related_name="qa_score")
    method = models.CharField(max_length=10, default="rules", help_text="rules or llm")
    criteria = models.JSONField(default=dict, help_text="criterion → {score 0..1, reason}")
    score = models.FloatField(help_text="0..100, the automatic score")
    override_score = models.FloatField(null=True, blank=True)
    override_note = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def effective_score(self) -> float:
        return self.override_score if self.override_score is not None else self.score


class AlertMetric(models.TextChoices):
    NEGATIVE_SENTIMENT_SHARE = "negative_sentiment_share", "Share of negative customer messages (%)"
    QUEUE_WAIT_MINUTES = "queue_wait_minutes", "Longest current queue wait (minutes)"
    AI_RESOLUTION_RATE = "ai_resolution_rate", "AI resolution rate (%)"
    HANDOVER_RATE = "handover_rate", "Handover rate (%)"
    FAILURE_RATE = "failure_rate", "Conversations with a failure point (%)"
    CSAT_AVERAGE = "csat_average", "Average CSAT (1–5)"
    NEW_CONVERSATIONS = "new_conversations", "New conversations"


class AlertRule(TenantScopedModel):
    """A threshold or anomaly rule evaluated every minute by Celery beat."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", "Threshold"
        ANOMALY = "anomaly", "Anomaly (z-score against recent windows)"

    class Comparator(models.TextChoices):
        ABOVE = "above", "Above"
        BELOW = "below", "Below"

    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    metric = models.CharField(max_length=40, choices=AlertMetric.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.THRESHOLD)
    comparator = models.CharField(max_length=10, choices=Comparator.choices, default=Comparator.ABOVE)
    threshold = models.FloatField(help_text="Threshold value, or the z-score for anomaly rules")
    window_minutes = models.PositiveIntegerField(default=15)
    min_volume = models.PositiveIntegerField(default=1, help_text="Skip windows with fewer events than this")
    filters = models.JSONField(default=dict, blank=True, help_text="e.g. {intent, channel_type}")
    deliver_in_app = models.BooleanField(default=True)
    email_to = models.JSONField(default=list, blank=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=200, blank=True)
    cooldown_minutes = models.PositiveIntegerField(default=60)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertEvent(TenantScopedModel):
    """One firing of an alert rule (the alert history), with its delivery results."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    metric = models.CharField(max_length=40)
    value = models.FloatField()
    baseline = models.FloatField(null=True, blank=True)
    volume = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    message = models.TextField()
    deliveries = models.JSONField(default=dict, blank=True, help_text="channel → ok / error reason")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]


class Notification(TenantScopedModel):
    """An in-app notification for a tenant's supervisors (or one user)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=40, default="alert")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    alert_event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Rendering"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def _report_path(instance: ReportJob, filename: str) -> str:
    return f"analytics-reports/{instance.tenant_id}/{instance.id}/{filename}"


class ReportJob(TenantScopedModel):
    """A PDF report asked for through the API and rendered by a worker (``parley.analytics.render_report``).

    The file is stored under the tenant's folder of the media storage, like uploads and attachments;
    ``filters`` is the validated filter set (dates as ISO strings), so a retry renders the same report.
    """

    filters = models.JSONField(default=dict, blank=True, help_text="The report's filters (start, end, channel_type, ...)")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    requested_by_label = models.CharField(max_length=200, blank=True, help_text="User e-mail or API key prefix")
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0-100 while rendering")
    stage = models.CharField(max_length=60, blank=True, help_text="What the worker is doing now")
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why it failed (or why the last attempt failed, while retrying)")
    file = models.FileField(upload_to=_report_path, max_length=500, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="analytics_report_tenant_recent")]

    def __str__(self) -> str:
        return f"report {self.id} ({self.status})"

    @property
    def filename(self) -> str:
        """The download's file name: ``parley-report-<start>-<end>.pdf``."""
        return f"parley-report-{self.filters.get('start') or 'all'}-{self.filters.get('end') or 'now'}.pdf"
