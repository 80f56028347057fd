"""REST representations of agents, hand-overs, canned responses and suggestions."""

from __future__ import annotations

from rest_framework import serializers

from parley.core.api import StrictModelSerializer, StrictSerializer
from parley.handover.models import AgentProfile, AgentStatus, CannedResponse, Handover, Suggestion


class AgentProfileSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    email = serializers.CharField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    role = serializers.CharField(source="membership.role", read_only=True)
    open_conversations = serializers.SerializerMethodField()

    class Meta:
        model = AgentProfile
        fields = [
            "id",
            "user",
            "email",
            "name",
            "role",
            "status",
            "capacity",
            "skills",
            "languages",
            "open_conversations",
            "last_assigned_at",
            "status_changed_at",
        ]
        read_only_fields = fields

    def get_open_conversations(self, obj: AgentProfile) -> int:
        from parley.conversations.models import Conversation, ConversationStatus

        return Conversation.objects.filter(
            tenant_id=obj.tenant_id, assignee_id=obj.user_id, status=ConversationStatus.ASSIGNED
        ).count()


class AgentUpdateSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=AgentStatus.choices, required=False)
    capacity = serializers.IntegerField(min_value=0, max_value=100, required=False)
    skills = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50)
    languages = serializers.ListField(child=serializers.RegexField(r"^[a-z]{2}$"), required=False, max_length=50)


class HandoverSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    customer_name = serializers.CharField(source="conversation.customer.name", read_only=True)

    class Meta:
        model = Handover
        fields = [
            "id",
            "conversation",
            "customer_name",
            "reason",
            "summary",
            "summary_source",
            "state",
            "team",
            "language",
            "strategy",
            "requested_by",
            "assignee",
            "queued_at",
            "assigned_at",
            "ended_at",
        ]
        read_only_fields = fields


class HandoverRequestSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=200, required=False, default="agent_request")
    summary = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ReassignSerializer(StrictSerializer):
    assignee = serializers.UUIDField()


class CannedResponseSerializer(StrictModelSerializer):
    class Meta:
        model = CannedResponse
        fields = ["id", "shortcut", "title", "text", "language", "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]
        validators: list[object] = []


class RenderSerializer(StrictSerializer):
    conversation = serializers.UUIDField()


class SuggestionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Suggestion
        fields = ["id", "conversation", "message", "text", "source", "citations", "status", "created_at"]
        read_only_fields = fields


class SuggestionStatusSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=["used", "dismissed"])
