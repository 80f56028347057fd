"""Base models shared by every app, and the dead-letter record for exhausted tasks."""

from __future__ import annotations

import uuid
from typing import Any, Self

from django.db import models


class TimestampedModel(models.Model):
    """UUID primary key, created/updated timestamps and a free-form JSONB ``metadata``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


class TenantQuerySet(models.QuerySet[Any]):
    """QuerySet with an explicit tenant scope; views always start from ``for_tenant``."""

    def for_tenant(self, tenant: Any) -> Self:
        """Rows owned by ``tenant`` (a Tenant or its id)."""
        tenant_id = getattr(tenant, "pk", tenant)
        return self.filter(tenant_id=tenant_id)


class TenantScopedModel(TimestampedModel):
    """Every tenant-owned row carries ``tenant_id``."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class DeadLetter(TimestampedModel):
    """A Celery task that exhausted its retries; kept until replayed or discarded."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        REPLAYED = "replayed", "Replayed"
        DISCARDED = "discarded", "Discarded"

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    task_name = models.CharField(max_length=200)
    task_id = models.CharField(max_length=64, blank=True)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=50, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.status})"
