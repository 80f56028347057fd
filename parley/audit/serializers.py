"""REST representation of audit events (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from parley.audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = AuditEvent
        fields = ["id", "actor", "action", "target_type", "target_id", "data", "ip_address", "created_at"]
        read_only_fields = fields
