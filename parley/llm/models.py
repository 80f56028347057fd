"""Usage accounting: one row per attempt to call an LLM backend."""

from __future__ import annotations

from django.db import models

from parley.core.models import TenantQuerySet, TimestampedModel


class LLMCallOutcome(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    CIRCUIT_OPEN = "circuit_open", "Skipped: circuit open"


class LLMCall(TimestampedModel):
    """One request to one backend (each retry is its own row), with tokens, cost and outcome.

    ``tenant`` is empty only for calls made outside any tenant (e.g. ``parley`` CLI checks).
    """

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    assistant_id = models.CharField(max_length=64, blank=True, db_index=True)
    conversation_id = models.CharField(max_length=64, blank=True, db_index=True)
    purpose = models.CharField(max_length=40, default="chat")
    backend = models.CharField(max_length=100)
    model = models.CharField(max_length=200)
    attempt = models.PositiveSmallIntegerField(default=1)
    streamed = models.BooleanField(default=False)
    outcome = models.CharField(max_length=20, choices=LLMCallOutcome.choices, db_index=True)
    error_kind = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    tool_call_count = models.PositiveSmallIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"]), models.Index(fields=["backend", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.backend}/{self.model} {self.outcome} {self.latency_ms}ms"
