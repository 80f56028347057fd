"""REST representations of conversations, messages, attachments and tickets.

The same representations travel in realtime events, so a client that applies events to its first
REST load ends up where a fresh load would.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
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
from parley.core.api import RawJSON, StrictModelSerializer, StrictSerializer


class AttachmentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    file_url = serializers.SerializerMethodField()
    media_status = serializers.SerializerMethodField()
    media_error = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "kind", "mime_type", "filename", "size_bytes", "url", "file_url", "media_status", "media_error"]

    def get_file_url(self, obj: Attachment) -> str:
        """Where people of the tenant fetch the stored file (authenticated; '' until it is stored)."""
        return f"/api/v1/attachments/{obj.pk}/file/" if obj.file else ""

    def get_media_status(self, obj: Attachment) -> str:
        """'' normally; ``rejected`` (over the size limit) or ``quarantined`` (malware found) when the file was refused."""
        return str(obj.metadata.get("media_status", "")) if isinstance(obj.metadata, dict) else ""

    def get_media_error(self, obj: Attachment) -> str:
        """Why the file was refused ('' unless ``media_status`` is set)."""
        return str(obj.metadata.get("media_error", "")) if isinstance(obj.metadata, dict) else ""

    def to_representation(self, instance: Attachment) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        if data["media_status"]:
            data["url"] = ""  # the provider's link to refused media is not handed out either
        return data


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


def conversation_json_rows_supported() -> bool:
    """Whether :func:`conversation_page_json` formats timestamps as DRF would (it writes them in UTC)."""
    return timezone.get_current_timezone_name() == "UTC"


@functools.cache
def _conversation_json_sql() -> str:
    """The statement that turns an ordered list of conversation ids into a JSON array of their representations.

    ``{ids}`` is replaced by a query selecting the ids (in order); the array keeps that order.
    """
    from parley.accounts.models import User
    from parley.connectors.models import Channel
    from parley.customers.models import Customer

    quote = connection.ops.quote_name

    def col(alias: str, model: Any, name: str) -> str:
        return f"{alias}.{quote(model._meta.get_field(name).column)}"

    def text(alias: str, model: Any, name: str) -> str:
        return f"{col(alias, model, name)}::text"

    def when(name: str) -> str:
        # DRF's DateTimeField in UTC: ISO 8601, microseconds only when non-zero, "Z" for +00:00 (NULL stays NULL).
        value = col("c", Conversation, name)
        return (
            f"(to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"CASE WHEN mod(EXTRACT(MICROSECONDS FROM {value})::bigint, 1000000) = 0 THEN '' "
            f"ELSE to_char({value} AT TIME ZONE 'UTC', '.US') END || 'Z')"
        )

    def obj(fields: list[tuple[str, str]]) -> str:
        return "json_build_object(" + ", ".join(f"'{key}', {value}" for key, value in fields) + ")"

    customer = obj(
        [
            ("id", text("c", Conversation, "customer")),
            ("name", col("cu", Customer, "name")),
            ("email", col("cu", Customer, "email")),
            ("phone", col("cu", Customer, "phone")),
        ]
    )
    conversation = obj(
        [
            ("id", text("c", Conversation, "id")),
            ("status", col("c", Conversation, "status")),
            ("priority", col("c", Conversation, "priority")),
            ("labels", col("c", Conversation, "labels")),
            ("team", col("c", Conversation, "team")),
            ("subject", col("c", Conversation, "subject")),
            ("language", col("c", Conversation, "language")),
            ("source", col("c", Conversation, "source")),
            ("channel", text("c", Conversation, "channel")),
            ("channel_type", col("ch", Channel, "type")),
            ("channel_name", col("ch", Channel, "name")),
            ("customer", customer),
            ("assistant", text("c", Conversation, "assistant")),
            ("assignee", text("c", Conversation, "assignee")),
            ("assignee_email", f"COALESCE({col('u', User, 'email')}, '')"),
            ("unread_count", col("c", Conversation, "unread_count")),
            ("message_count", col("c", Conversation, "message_count")),
            # metadata.get("last_message_preview", "") when metadata is an object, else "".
            ("last_message_preview", f"COALESCE({col('c', Conversation, 'metadata')} -> 'last_message_preview', '\"\"'::jsonb)"),
            *[
                (name, when(name))
                for name in (
                    "created_at",
                    "updated_at",
                    "last_message_at",
                    "first_response_at",
                    "handed_over_at",
                    "assigned_at",
                    "resolved_at",
                    "closed_at",
                )
            ],
        ]
    )
    # Built from model metadata only; the ids query and its parameters are added by the ORM at execution.
    return (
        f"SELECT COALESCE(json_agg({conversation} ORDER BY page.n)::text, '[]') "  # noqa: S608
        "FROM unnest(ARRAY({ids})) WITH ORDINALITY AS page(id, n) "
        f"JOIN {quote(Conversation._meta.db_table)} c ON {col('c', Conversation, 'id')} = page.id "
        f"JOIN {quote(Channel._meta.db_table)} ch ON {col('ch', Channel, 'id')} = {col('c', Conversation, 'channel')} "
        f"JOIN {quote(Customer._meta.db_table)} cu ON {col('cu', Customer, 'id')} = {col('c', Conversation, 'customer')} "
        f"LEFT JOIN {quote(User._meta.db_table)} u ON {col('u', User, 'id')} = {col('c', Conversation, 'assignee')} "
    )


def conversation_page_json(queryset: QuerySet[Conversation], offset: int, limit: int | None) -> tuple[int, RawJSON]:
    """How many conversations ``queryset`` (filtered, ordered) selects, and ``limit`` of them from ``offset``.

    One statement: the ORM writes the count and the ids of the page, PostgreSQL writes the page as a JSON
    array of :class:`ConversationSerializer` representations (a test checks they are equal). No model
    instances, no per-field Python, no four-table ORM query to compile. Only valid while
    :func:`conversation_json_rows_supported` (timestamps are written in UTC).
    """
    try:
        count_sql, count_params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # the filters can match nothing (e.g. an empty IN list)
        return 0, RawJSON("[]")
    ids = _ordered_ids(queryset)
    try:
        ids_sql, ids_params = ids[offset : None if limit is None else offset + limit].query.sql_with_params()
    except EmptyResultSet:  # an empty slice
        ids_sql, ids_params = "SELECT NULL::uuid WHERE false", ()
    page_sql = _conversation_json_sql().replace("{ids}", ids_sql)
    sql = f"SELECT (SELECT COUNT(*) FROM ({count_sql}) AS counted), ({page_sql})"  # noqa: S608 (ORM-compiled parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, (*count_params, *ids_params))
        total, page = cursor.fetchone()
    return int(total), RawJSON(page)


def _ordered_ids(queryset: QuerySet[Conversation]) -> QuerySet[Any]:
    """One ordered column of ids (``DISTINCT`` would add the ordering columns, so it moves into a subquery)."""
    if queryset.query.distinct:
        ordering = queryset.query.order_by
        queryset = queryset.model._default_manager.filter(pk__in=queryset.order_by().values("pk"))
        if ordering:
            queryset = queryset.order_by(*ordering)
    return queryset.values_list("pk")


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
