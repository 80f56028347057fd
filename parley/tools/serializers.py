"""REST representations of pending actions and the tool audit."""

from __future__ import annotations

from rest_framework import serializers

from parley.core.api import StrictSerializer
from parley.tools.models import PendingAction, ToolExecution


class PendingActionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    decided_by_email = serializers.SerializerMethodField()
    customer_name = serializers.SerializerMethodField()

    class Meta:
        model = PendingAction
        fields = [
            "id",
            "conversation",
            "customer",
            "customer_name",
            "assistant_id",
            "tool",
            "arguments",
            "summary",
            "amount",
            "currency",
            "status",
            "requires_approval",
            "expires_at",
            "confirmed_at",
            "decided_at",
            "decided_by",
            "decided_by_email",
            "decision_note",
            "result",
            "created_at",
        ]
        read_only_fields = fields

    def get_decided_by_email(self, obj: PendingAction) -> str:
        return obj.decided_by.email if obj.decided_by_id and obj.decided_by else ""

    def get_customer_name(self, obj: PendingAction) -> str:
        return str(obj.customer) if obj.customer_id else ""


class DecisionSerializer(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ToolExecutionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = ToolExecution
        fields = [
            "id",
            "conversation",
            "customer",
            "pending_action",
            "assistant_id",
            "tool",
            "phase",
            "arguments",
            "status",
            "result",
            "message",
            "latency_ms",
            "actor",
            "approved_by",
            "created_at",
        ]
        read_only_fields = fields
