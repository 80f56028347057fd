"""REST representations of conversations, messages, attachments and tickets.

The same representations travel in realtime events, so a client that applies events to its first
REST load ends up where a fresh load would.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from parley.conversations.models import (
    Attachment,
    Conversation,
    ConversationStatus,
    FollowUpTask,
    Message,
    Priority,
    Ticket,
    TicketStatus,
)
from parley.core.api import StrictModelSerializer, StrictSerializer


class AttachmentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "kind", "mime_type", "filename", "size_bytes", "url", "file_url"]

    def get_file_url(self, obj: Attachment) -> str:
        return obj.file.url if obj.file else ""


class MessageSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    attachments = AttachmentSerializer(many=True, read_only=True)
    sender_name = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "direction",
            "sender_type",
            "sender_user",
            "sender_name",
            "text",
            "content_type",
            "is_private",
            "delivery_status",
            "delivery_error",
            "buttons",
            "analysis",
            "attachments",
            "created_at",
            "sent_at",
            "delivered_at",
            "read_at",
        ]
        read_only_fields = fields

    def get_sender_name(self, obj: Message) -> str:
        if obj.sender_user_id and obj.sender_user is not None:
            return obj.sender_user.name or obj.sender_user.email
        return ""


class CustomerBriefSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()


class ConversationSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    customer = CustomerBriefSerializer(read_only=True)
    channel_type = serializers.CharField(source="channel.type", read_only=True)
    channel_name = serializers.CharField(source="channel.name", read_only=True)
    assignee_email = serializers.SerializerMethodField()
    last_message_preview = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "status",
            "priority",
            "labels",
            "team",
            "subject",
            "language",
            "source",
            "channel",
            "channel_type",
            "channel_name",
            "customer",
            "assistant",
            "assignee",
            "assignee_email",
            "unread_count",
            "message_count",
            "last_message_preview",
            "created_at",
            "updated_at",
            "last_message_at",
            "first_response_at",
            "handed_over_at",
            "assigned_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_assignee_email(self, obj: Conversation) -> str:
        return obj.assignee.email if obj.assignee_id and obj.assignee is not None else ""

    def to_representation(self, instance: Conversation) -> dict[str, Any]:
        """Hand-written for speed (the inbox lists and streams these constantly).

        It must equal the declarative fields above; a test compares it with DRF's generic path.
        """
        customer = instance.customer
        channel = instance.channel
        return {
            "id": str(instance.id),
            "status": instance.status,
            "priority": instance.priority,
            "labels": instance.labels,
            "team": instance.team,
            "subject": instance.subject,
            "language": instance.language,
            "source": instance.source,
            "channel": str(instance.channel_id),
            "channel_type": channel.type,
            "channel_name": channel.name,
            "customer": {"id": str(customer.id), "name": customer.name, "email": customer.email, "phone": customer.phone},
            "assistant": str(instance.assistant_id) if instance.assistant_id else None,
            "assignee": str(instance.assignee_id) if instance.assignee_id else None,
            "assignee_email": self.get_assignee_email(instance),
            "unread_count": instance.unread_count,
            "message_count": instance.message_count,
            "last_message_preview": self.get_last_message_preview(instance),
            "created_at": _datetime(instance.created_at),
            "updated_at": _datetime(instance.updated_at),
            "last_message_at": _datetime(instance.last_message_at),
            "first_response_at": _datetime(instance.first_response_at),
            "handed_over_at": _datetime(instance.handed_over_at),
            "assigned_at": _datetime(instance.assigned_at),
            "resolved_at": _datetime(instance.resolved_at),
            "closed_at": _datetime(instance.closed_at),
        }

    def generic_representation(self, instance: Conversation) -> Any:
        """DRF's declarative serialization (used by the test that guards the fast path)."""
        return super().to_representation(instance)

    def get_last_message_preview(self, obj: Conversation) -> str:
        preview: str = obj.metadata.get("last_message_preview", "") if isinstance(obj.metadata, dict) else ""
        return preview


_DATETIME_FIELD = serializers.DateTimeField()


def _datetime(value: Any) -> str | None:
    return None if value is None else _DATETIME_FIELD.to_representation(value)


class ConversationUpdateSerializer(StrictSerializer):
    """Fields a person may change directly; status and assignee have their own transitions."""

    status = serializers.ChoiceField(choices=ConversationStatus.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    labels = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=20)
    team = serializers.CharField(max_length=100, required=False, allow_blank=True)
    assignee = serializers.UUIDField(required=False, allow_null=True)


class AgentReplySerializer(StrictSerializer):
    """An agent's reply or private note."""

    text = serializers.CharField(max_length=4096, trim_whitespace=True)
    is_private = serializers.BooleanField(default=False)


class TicketSerializer(StrictModelSerializer):
    class Meta:
        model = Ticket
        fields = [
            "id",
            "customer",
            "conversation",
            "subject",
            "description",
            "status",
            "priority",
            "assignee",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        tenant = self.context["tenant"]
        customer = attrs.get("customer")
        if customer is not None and customer.tenant_id != tenant.id:
            raise serializers.ValidationError({"customer": ["Unknown customer."]})
        conversation = attrs.get("conversation")
        if conversation is not None and conversation.tenant_id != tenant.id:
            raise serializers.ValidationError({"conversation": ["Unknown conversation."]})
        if attrs.get("status") and attrs["status"] not in TicketStatus.values:
            raise serializers.ValidationError({"status": ["Unknown status."]})
        return attrs


class FollowUpTaskSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = FollowUpTask
        fields = ["id", "conversation", "customer", "due_at", "text", "status", "sent_at", "created_by", "created_at"]
        read_only_fields = fields
