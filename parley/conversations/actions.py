"""Every state change of conversations, messages, tickets and follow-ups.

Views, tasks and consumers call these functions; they emit realtime events and enqueue tasks only
on commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from parley.accounts.models import Membership, Tenant, User
from parley.connectors.base import InboundMessage
from parley.connectors.models import Channel
from parley.conversations.models import (
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Message,
    SenderType,
    Ticket,
)
from parley.conversations.serializers import ConversationSerializer, MessageSerializer
from parley.core.errors import DomainError, ErrorCode
from parley.customers.models import Customer, CustomerIdentity
from parley.realtime.events import (
    ConversationEvent,
    MessageEvent,
    conversation_group,
    inbox_group,
    send_event_on_commit,
)

log = structlog.get_logger(__name__)

OPEN_STATUSES = (
    ConversationStatus.OPEN,
    ConversationStatus.BOT,
    ConversationStatus.PENDING_HUMAN,
    ConversationStatus.ASSIGNED,
)
DEFAULT_IDLE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ReceiveResult:
    """What :func:`receive_inbound` did: the message, its conversation, and whether it was new."""

    message: Message
    conversation: Conversation
    created: bool


def _emit_conversation(conversation: Conversation, created: bool = False) -> None:
    send_event_on_commit(
        ConversationEvent(
            type="conversation.created" if created else "conversation.updated",
            tenant_id=str(conversation.tenant_id),
            conversation=dict(ConversationSerializer(conversation).data),
        ),
        [inbox_group(conversation.tenant_id), conversation_group(conversation.id)],
    )


def _emit_message(message: Message, created: bool = True) -> None:
    groups = [inbox_group(message.tenant_id)]
    if not message.is_private:
        groups.append(conversation_group(message.conversation_id))
    send_event_on_commit(
        MessageEvent(
            type="message.created" if created else "message.updated",
            tenant_id=str(message.tenant_id),
            conversation_id=str(message.conversation_id),
            message=dict(MessageSerializer(message).data),
        ),
        groups,
    )


def resolve_customer(*, tenant: Tenant, channel_type: str, external_id: str, display_name: str = "") -> Customer:
    """Find the customer known on ``channel_type`` as ``external_id``, creating both if new.

    Safe under concurrency: the identity's unique constraint decides who creates it.
    """
    identity = (
        CustomerIdentity.objects.select_related("customer")
        .filter(tenant=tenant, channel_type=channel_type, external_id=external_id)
        .first()
    )
    if identity is not None:
        return identity.customer
    try:
        with transaction.atomic():
            customer = Customer.objects.create(tenant=tenant, name=display_name)
            CustomerIdentity.objects.create(
                tenant=tenant,
                customer=customer,
                channel_type=channel_type,
                external_id=external_id,
                display_name=display_name,
                last_seen_at=timezone.now(),
            )
            return customer
    except IntegrityError:
        return (
            CustomerIdentity.objects.select_related("customer")
            .get(tenant=tenant, channel_type=channel_type, external_id=external_id)
            .customer
        )


def open_or_continue_conversation(
    *, channel: Channel, customer: Customer, now: datetime | None = None
) -> tuple[Conversation, bool]:
    """The customer's current conversation on ``channel``, or a new one.

    A new conversation starts after a resolved/closed one, or when the last message is older than the
    channel's ``idle_seconds`` (config, default 24 h).
    """
    now = now or timezone.now()
    idle_seconds = (
        int(channel.config.get("idle_seconds", DEFAULT_IDLE_SECONDS))
        if isinstance(channel.config, dict)
        else DEFAULT_IDLE_SECONDS
    )
    current = (
        Conversation.objects.select_for_update()
        .filter(tenant_id=channel.tenant_id, channel=channel, customer=customer, status__in=OPEN_STATUSES)
        .order_by("-created_at")
        .first()
    )
    if current is not None:
        last = current.last_message_at or current.created_at
        if (now - last).total_seconds() <= idle_seconds:
            return current, False
        current.status = ConversationStatus.CLOSED
        current.closed_at = now
        current.save(update_fields=["status", "closed_at", "updated_at"])
        _emit_conversation(current)
    conversation = Conversation.objects.create(
        tenant_id=channel.tenant_id,
        channel=channel,
        customer=customer,
        status=ConversationStatus.BOT,
        last_message_at=now,
    )
    return conversation, True


def receive_inbound(*, channel: Channel, inbound: InboundMessage, enqueue_turn: bool = True) -> ReceiveResult:
    """Store a customer's message exactly once and hand it to the assistant on commit.

    Idempotent on (channel, external id), also under concurrent deliveries: the unique constraint on
    ``Message(channel, external_id)`` decides, and a duplicate returns the stored message with
    ``created=False`` and enqueues nothing.

    Args:
        channel: the tenant's channel the message arrived on.
        inbound: the normalised message.
        enqueue_turn: run the assistant for this message (False for imports and tests of storage).

    Returns:
        The stored message and conversation, and whether this call created them.
    """
    existing = Message.objects.filter(channel=channel, external_id=inbound.external_id).select_related("conversation").first()
    if existing is not None:
        return ReceiveResult(existing, existing.conversation, False)
    tenant = channel.tenant
    now = timezone.now()
    try:
        with transaction.atomic():
            customer = resolve_customer(
                tenant=tenant,
                channel_type=channel.type,
                external_id=inbound.sender_external_id,
                display_name=inbound.sender_name,
            )
            conversation, conversation_created = open_or_continue_conversation(channel=channel, customer=customer, now=now)
            message = Message.objects.create(
                tenant=tenant,
                conversation=conversation,
                channel=channel,
                direction=Direction.INBOUND,
                sender_type=SenderType.CUSTOMER,
                text=inbound.text,
                content_type=inbound.content_type,
                external_id=inbound.external_id,
                delivery_status=DeliveryStatus.RECEIVED,
                sent_by_client_at=inbound.timestamp,
                metadata={"raw": inbound.raw} if inbound.raw else {},
            )
            _touch_conversation(conversation, message, now, from_customer=True)
            if conversation_created:
                _emit_conversation(conversation, created=True)
            else:
                _emit_conversation(conversation)
            _emit_message(message)
            if enqueue_turn and conversation.status in (
                ConversationStatus.BOT,
                ConversationStatus.OPEN,
                ConversationStatus.ASSIGNED,
                ConversationStatus.PENDING_HUMAN,
            ):
                message_id = message.id
                transaction.on_commit(lambda: _enqueue_turn(message_id))
    except IntegrityError:
        # A concurrent delivery of the same provider message won the race.
        existing = Message.objects.select_related("conversation").get(channel=channel, external_id=inbound.external_id)
        return ReceiveResult(existing, existing.conversation, False)
    log.info("message_received", conversation_id=str(conversation.id), message_id=str(message.id), channel=channel.type)
    return ReceiveResult(message, conversation, True)


def _enqueue_turn(message_id: Any) -> None:
    from parley.orchestrator.dispatch import enqueue_turn

    enqueue_turn(message_id)


def _touch_conversation(conversation: Conversation, message: Message, now: datetime, *, from_customer: bool) -> None:
    conversation.last_message_at = now
    conversation.message_count = conversation.message_count + 1
    meta = dict(conversation.metadata or {})
    meta["last_message_preview"] = (message.text or message.content_type)[:140]
    conversation.metadata = meta
    fields = ["last_message_at", "message_count", "metadata", "updated_at"]
    if from_customer:
        conversation.last_customer_message_at = now
        conversation.unread_count = conversation.unread_count + 1
        fields += ["last_customer_message_at", "unread_count"]
    elif (
        not message.is_private
        and conversation.first_response_at is None
        and message.sender_type in (SenderType.AGENT, SenderType.ASSISTANT)
    ):
        conversation.first_response_at = now
        fields.append("first_response_at")
    conversation.save(update_fields=fields)


def send_outbound(
    *,
    conversation: Conversation,
    text: str,
    sender_type: str,
    sender_user: User | None = None,
    is_private: bool = False,
    buttons: list[dict[str, str]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Message:
    """Store an outgoing message (the outbox) and deliver it after commit.

    Private notes are stored and shown in the inbox only. Other messages start ``queued`` and a task
    on the ``outbound`` queue delivers them through the channel's connector.
    """
    if conversation.status == ConversationStatus.CLOSED and not is_private:
        raise DomainError("this conversation is closed", code=ErrorCode.CONFLICT, status_code=409)
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        message = Message.objects.create(
            tenant_id=conversation.tenant_id,
            conversation=conversation,
            channel=conversation.channel,
            direction=Direction.OUTBOUND,
            sender_type=sender_type,
            sender_user=sender_user,
            text=text,
            is_private=is_private,
            buttons=buttons or [],
            metadata=metadata or {},
            delivery_status=DeliveryStatus.SENT if is_private else DeliveryStatus.QUEUED,
        )
        _touch_conversation(conversation, message, now, from_customer=False)
        if sender_type == SenderType.AGENT and not is_private:
            conversation.unread_count = 0
            conversation.save(update_fields=["unread_count"])
        _emit_message(message)
        _emit_conversation(conversation)
        if not is_private:
            message_id = message.id
            transaction.on_commit(lambda: _enqueue_delivery(message_id))
    return message


def _enqueue_delivery(message_id: Any) -> None:
    from parley.conversations.tasks import deliver_message

    deliver_message.apply_async(args=[str(message_id)], queue="outbound")


def record_delivery_status(
    *, message: Message, status: str, provider_message_id: str = "", error: str = "", at: datetime | None = None
) -> Message:
    """Move an outbound message's delivery status forward (never backwards: read stays read)."""
    order = [DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ]
    at = at or timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        current = DeliveryStatus(message.delivery_status)
        new = DeliveryStatus(status)
        changed: list[str] = []
        if new == DeliveryStatus.FAILED:
            if current not in (DeliveryStatus.DELIVERED, DeliveryStatus.READ):
                message.delivery_status = new
                message.delivery_error = error[:2000]
                changed += ["delivery_status", "delivery_error"]
        elif (current in order and new in order and order.index(new) > order.index(current)) or (
            current == DeliveryStatus.FAILED and new in order[1:]
        ):
            message.delivery_status = new
            changed.append("delivery_status")
            stamp_field = {
                DeliveryStatus.SENT: "sent_at",
                DeliveryStatus.DELIVERED: "delivered_at",
                DeliveryStatus.READ: "read_at",
            }[new]
            setattr(message, stamp_field, at)
            changed.append(stamp_field)
        if provider_message_id and message.provider_message_id != provider_message_id:
            message.provider_message_id = provider_message_id
            changed.append("provider_message_id")
        if changed:
            message.save(update_fields=[*changed, "updated_at"])
            _emit_message(message, created=False)
    return message


def mark_read(*, conversation: Conversation) -> Conversation:
    """An agent opened the conversation: reset its unread count."""
    if conversation.unread_count:
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0, updated_at=timezone.now())
        conversation.refresh_from_db()
        _emit_conversation(conversation)
    return conversation


def update_conversation(*, conversation: Conversation, changes: dict[str, Any], actor: str) -> Conversation:
    """Apply a person's edit: status, priority, labels, team, assignee."""
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        fields: list[str] = []
        if "assignee" in changes:
            assignee_id = changes["assignee"]
            if (
                assignee_id is not None
                and not Membership.objects.filter(tenant_id=conversation.tenant_id, user_id=assignee_id).exists()
            ):
                raise DomainError("the assignee is not a member of this tenant", code=ErrorCode.INVALID)
            conversation.assignee_id = assignee_id
            fields.append("assignee")
            if assignee_id is not None:
                conversation.assigned_at = now
                fields.append("assigned_at")
                if conversation.status in (ConversationStatus.BOT, ConversationStatus.OPEN, ConversationStatus.PENDING_HUMAN):
                    conversation.status = ConversationStatus.ASSIGNED
                    fields.append("status")
        for name in ("priority", "labels", "team"):
            if name in changes:
                setattr(conversation, name, changes[name])
                fields.append(name)
        if "status" in changes and changes["status"] != conversation.status:
            new_status = ConversationStatus(changes["status"])
            conversation.status = new_status
            fields.append("status")
            if new_status == ConversationStatus.RESOLVED:
                conversation.resolved_at = now
                fields.append("resolved_at")
            elif new_status == ConversationStatus.CLOSED:
                conversation.closed_at = now
                fields.append("closed_at")
            elif new_status == ConversationStatus.PENDING_HUMAN and conversation.handed_over_at is None:
                conversation.handed_over_at = now
                fields.append("handed_over_at")
        if fields:
            conversation.save(update_fields=[*sorted(set(fields)), "updated_at"])
            _emit_conversation(conversation)
            log.info("conversation_updated", conversation_id=str(conversation.id), fields=fields, actor=actor)
    return conversation


def create_ticket(*, tenant: Tenant, data: dict[str, Any], created_by: str) -> Ticket:
    """Open a ticket for a customer (optionally linked to a conversation)."""
    return Ticket.objects.create(tenant=tenant, created_by=created_by, **data)


def update_ticket(*, ticket: Ticket, data: dict[str, Any]) -> Ticket:
    """Change a ticket's fields."""
    for key, value in data.items():
        setattr(ticket, key, value)
    ticket.save()
    return ticket
