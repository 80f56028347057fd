"""The audit of every tool call, and money actions waiting for the customer's confirmation or an agent's approval."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from parley.core.models import TenantScopedModel


class PendingActionStatus(models.TextChoices):
    AWAITING_CONFIRMATION = "awaiting_confirmation", "Waiting for the customer to confirm"
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for an agent's approval"
    EXECUTED = "executed", "Executed"
    CANCELLED = "cancelled", "Cancelled by the customer"
    REJECTED = "rejected", "Rejected by an agent"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Failed"


class PendingAction(TenantScopedModel):
    """A money tool call the assistant proposed; it runs only after an explicit confirmation in a later turn."""

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="pending_actions")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="pending_actions")
    assistant_id = models.CharField(max_length=64, blank=True)
    tool = models.CharField(max_length=100)
    arguments = models.JSONField(default=dict)
    summary = models.CharField(max_length=500)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=30, choices=PendingActionStatus.choices, default=PendingActionStatus.AWAITING_CONFIRMATION, db_index=True
    )
    requires_approval = models.BooleanField(default=False)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decision_note = models.CharField(max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "status", "-created_at"]), models.Index(fields=["conversation", "status"])]

    def __str__(self) -> str:
        return f"{self.tool}: {self.summary} ({self.status})"


class ToolExecution(TenantScopedModel):
    """One attempt to use a tool (a call, a confirmation, an approval), with its result: the audit trail."""

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    pending_action = models.ForeignKey(PendingAction, on_delete=models.SET_NULL, null=True, blank=True, related_name="executions")
    assistant_id = models.CharField(max_length=64, blank=True)
    tool = models.CharField(max_length=100, db_index=True)
    phase = models.CharField(max_length=20, default="call", help_text="call, confirm, approve or reject")
    arguments = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=30, db_index=True)
    result = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    error = models.TextField(blank=True, help_text="Internal reason (never shown to the customer)")
    latency_ms = models.PositiveIntegerField(default=0)
    actor = models.CharField(max_length=200)
    approved_by = models.CharField(max_length=200, blank=True, help_text="customer (confirmation) or the approving agent")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]
