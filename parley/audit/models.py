"""Audit events: who did what to which object, and when."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from parley.core.models import TimestampedModel


class AuditEvent(TimestampedModel):
    """An append-only record of a security- or money-relevant action."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    actor = models.CharField(max_length=200, help_text="user e-mail, api-key:<prefix>, assistant:<id> or system")
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]
