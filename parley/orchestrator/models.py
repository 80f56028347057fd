"""The record of one assistant turn: what was analysed, retrieved and called, how long it took, what came out."""

from __future__ import annotations

from django.db import models

from parley.core.models import TenantScopedModel


class TurnStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class TurnTrace(TenantScopedModel):
    """One run of the orchestrator for one inbound message (unique: a retried task never replies twice)."""

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="turn_traces")
    message = models.OneToOneField("conversations.Message", on_delete=models.CASCADE, related_name="turn_trace")
    assistant = models.ForeignKey("assistants.Assistant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    assistant_version = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=TurnStatus.choices, default=TurnStatus.RUNNING, db_index=True)
    mode = models.CharField(max_length=20, default="reply", help_text="reply, suggestion (a human owns it) or test")
    responder = models.CharField(max_length=20, blank=True, help_text="retrieval, llm, confirmation, policy")
    outcome = models.CharField(max_length=20, blank=True, help_text="answer, tool, clarify, confirm, handover, ...")
    analysis = models.JSONField(default=dict, blank=True)
    low_confidence = models.BooleanField(default=False)
    retrieved = models.JSONField(default=list, blank=True)
    tool_calls = models.JSONField(default=list, blank=True)
    llm_calls = models.JSONField(default=list, blank=True)
    timings_ms = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    handover_reason = models.CharField(max_length=200, blank=True)
    reply_message = models.ForeignKey("conversations.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    attempts = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["conversation", "-created_at"])]

    def __str__(self) -> str:
        return f"turn {self.message_id} ({self.status})"
