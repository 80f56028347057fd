"""The audit log of the caller's tenant, read-only, for supervisors and above."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from parley.accounts.roles import SUPERVISORS
from parley.audit.filters import AuditEventFilter
from parley.audit.models import AuditEvent
from parley.audit.serializers import AuditEventSerializer
from parley.core.api import TenantScopedMixin


class AuditEventViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Who did what, newest first. Filter by ``action`` (prefix), ``actor``, target and time."""

    queryset = AuditEvent.objects.order_by("-created_at")
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    read_roles = SUPERVISORS
    # No write action exists: writes by supervisors get 405 (method not allowed), others 403.
    write_roles = SUPERVISORS
