"""Every state change of conversations, messages, tickets and follow-ups.

Views, tasks and consumers call these functions; they emit realtime events and enqueue tasks only
on commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from parley.accounts.models import Membership, Tenant, User
from parley.connectors.base import InboundMessage, MediaFile, StatusUpdate
from parley.connectors.models import Channel
from parley.conversations.models import (
    Attachment,
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
    #: the message should get an assistant turn (queued on commit unless the caller asked to queue it itself)
    turn_wanted: bool = False


# Events are built at commit time (serialising costs a few queries): whatever was queued on commit
# before them, such as the assistant's turn for a new message, starts first.


def _emit_conversation(conversation: Conversation, created: bool = False) -> None:
    send_event_on_commit(
        lambda: ConversationEvent(
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
        lambda: MessageEvent(
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
        # Reuse the rows we already hold, so the realtime serializers do not fetch them again.
        current.channel = channel
        current.customer = customer
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
            metadata: dict[str, Any] = {"raw": inbound.raw} if inbound.raw else {}
            if inbound.button_id:
                metadata["button_id"] = inbound.button_id
            reply_to = (
                Message.objects.filter(conversation=conversation, provider_message_id=inbound.reply_to_external_id).first()
                if inbound.reply_to_external_id
                else None
            )
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
                reply_to=reply_to,
                metadata=metadata,
            )
            _store_inbound_attachments(message, inbound)
            _touch_conversation(conversation, message, now, from_customer=True)
            turn_wanted = conversation.status in (
                ConversationStatus.BOT,
                ConversationStatus.OPEN,
                ConversationStatus.ASSIGNED,
                ConversationStatus.PENDING_HUMAN,
            )
            if enqueue_turn and turn_wanted:
                # queued first on commit: the assistant starts while the inbox events are built
                message_id, conversation_id = message.id, conversation.id
                transaction.on_commit(lambda: _enqueue_turn(message_id, conversation_id))
            _emit_conversation(conversation, created=conversation_created)
            _emit_message(message)
    except IntegrityError:
        # A concurrent delivery of the same provider message won the race.
        existing = Message.objects.select_related("conversation").get(channel=channel, external_id=inbound.external_id)
        return ReceiveResult(existing, existing.conversation, False)
    log.info("message_received", conversation_id=str(conversation.id), message_id=str(message.id), channel=channel.type)
    return ReceiveResult(message, conversation, True, turn_wanted=turn_wanted)


def _store_inbound_attachments(message: Message, inbound: InboundMessage) -> None:
    """One Attachment row per inbound file; their content is downloaded by a task after commit."""
    for item in inbound.attachments:
        attachment = Attachment.objects.create(
            tenant_id=message.tenant_id,
            message=message,
            kind=item.kind[:20],
            mime_type=item.mime_type[:100],
            url=item.url[:1000],
            provider_media_id=item.media_id[:255],
            filename=item.filename[:255],
            metadata={"caption": item.caption, "sha256": item.sha256} if (item.caption or item.sha256) else {},
        )
        if item.media_id or item.url:
            attachment_id = attachment.id
            transaction.on_commit(partial(_enqueue_media_fetch, attachment_id))


def _enqueue_media_fetch(attachment_id: Any) -> None:
    from parley.conversations.tasks import fetch_attachment_media

    fetch_attachment_media.apply_async(args=[str(attachment_id)], queue="webhooks")


def store_attachment_media(*, attachment: Attachment, media: MediaFile) -> Attachment:
    """Save downloaded media content into the attachment's file (idempotent: a stored file is kept)."""
    from django.core.files.base import ContentFile

    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if attachment.file:
            return attachment
        extension = _extension_for(media.mime_type or attachment.mime_type)
        name = media.filename or attachment.filename or f"{attachment.kind}-{attachment.id}{extension}"
        attachment.file.save(name, ContentFile(media.content), save=False)
        attachment.size_bytes = len(media.content)
        if media.mime_type and not attachment.mime_type:
            attachment.mime_type = media.mime_type[:100]
        attachment.save(update_fields=["file", "size_bytes", "mime_type", "updated_at"])
        message = Message.objects.select_related("sender_user").get(pk=attachment.message_id)
        _emit_message(message, created=False)
    return attachment


def reject_attachment_media(*, attachment: Attachment, status: str, reason: str) -> Attachment:
    """Mark an inbound attachment whose media was refused (``rejected``: too large; ``quarantined``:
    malware found) with the reason; the message is kept and the file is never stored nor served."""
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
        if attachment.file:
            attachment.file.delete(save=False)
        attachment.metadata = {**attachment.metadata, "media_status": status, "media_error": reason[:500]}
        attachment.save(update_fields=["file", "metadata", "updated_at"])
        log.warning("attachment_media_refused", attachment_id=str(attachment.id), status=status, reason=reason[:500])
        message = Message.objects.select_related("sender_user").get(pk=attachment.message_id)
        _emit_message(message, created=False)
    return attachment


def _extension_for(mime_type: str) -> str:
    import mimetypes

    base = mime_type.split(";")[0].strip()
    return {"audio/ogg": ".ogg", "image/jpeg": ".jpg"}.get(base) or mimetypes.guess_extension(base) or ""


def _enqueue_turn(message_id: Any, conversation_id: Any) -> None:
    from parley.orchestrator.dispatch import enqueue_turn

    enqueue_turn(message_id, conversation_id=conversation_id)


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
        # customer and channel come along (the event's serializer reads them), only the conversation is locked
        conversation = (
            Conversation.objects.select_for_update(of=("self",)).select_related("customer", "channel").get(pk=conversation.pk)
        )
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
    order = [DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ]
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
            current == DeliveryStatus.FAILED and new in order[2:]
        ):
            message.delivery_status = new
            changed.append("delivery_status")
            stamp_field = {
                DeliveryStatus.SENDING: "sending_started_at",
                DeliveryStatus.SENT: "sent_at",
                DeliveryStatus.DELIVERED: "delivered_at",
                DeliveryStatus.READ: "read_at",
            }[new]
            setattr(message, stamp_field, at)
            changed.append(stamp_field)
            if new in (DeliveryStatus.DELIVERED, DeliveryStatus.READ) and message.sent_at is None:
                message.sent_at = at
                changed.append("sent_at")
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
        # customer and channel come along (the event's serializer reads them), only the conversation is locked
        conversation = (
            Conversation.objects.select_for_update(of=("self",)).select_related("customer", "channel").get(pk=conversation.pk)
        )
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
        for name in ("priority", "labels", "team", "assistant", "language"):
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


# --- Outbox -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryClaim:
    """What :func:`claim_for_delivery` decided.

    ``decision`` is ``send`` (the caller delivers now), ``done`` (already left, failed for good or
    missing: nothing to do) or ``wait`` (an earlier attempt's outcome is unknown; ask again after
    ``wait_seconds``). ``previous_outcome_unknown`` is set when this send repeats an attempt that may
    have reached the provider.
    """

    decision: str
    message: Message | None = None
    reason: str = ""
    wait_seconds: float = 0.0
    previous_outcome_unknown: bool = False


def claim_for_delivery(*, message_id: Any, idempotent_provider: bool, reconcile_seconds: float) -> DeliveryClaim:
    """Take an outbound message for one delivery attempt, marking it ``sending`` first.

    The ``sending`` marker is committed before the provider is called, so a retry (or the outbox
    sweep after a crash) knows an attempt may have reached the provider. Such a message is resent
    at once only to providers that deduplicate on our idempotency key; otherwise only after
    ``reconcile_seconds`` without a status callback proving it arrived (see docs/channels.md).

    Args:
        message_id: the outbound message.
        idempotent_provider: the channel's provider deduplicates on the idempotency key.
        reconcile_seconds: how long to wait for a status callback before repeating an unknown attempt.

    Returns:
        The decision and the locked-then-updated message.
    """
    now = timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation", "channel")
            .filter(pk=message_id, direction=Direction.OUTBOUND)
            .first()
        )
        if message is None:
            return DeliveryClaim("done", reason="missing")
        if message.is_private:
            return DeliveryClaim("done", message, reason="private")
        status = message.delivery_status
        if status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ):
            return DeliveryClaim("done", message, reason="already-sent")
        if status == DeliveryStatus.FAILED:
            return DeliveryClaim("done", message, reason="failed")
        unknown = status == DeliveryStatus.SENDING
        if unknown and not idempotent_provider:
            started = message.sending_started_at or message.updated_at
            waited = (now - started).total_seconds()
            if waited < reconcile_seconds:
                return DeliveryClaim("wait", message, reason="awaiting-status", wait_seconds=reconcile_seconds - waited)
            log.warning("outbox_resend_after_unknown_outcome", message_id=str(message.id), waited_s=round(waited, 1))
        message.delivery_status = DeliveryStatus.SENDING
        message.sending_started_at = now
        message.delivery_attempts = message.delivery_attempts + 1
        message.save(update_fields=["delivery_status", "sending_started_at", "delivery_attempts", "updated_at"])
    return DeliveryClaim("send", message, previous_outcome_unknown=unknown)


def release_delivery(*, message_id: Any, reason: str) -> None:
    """The provider refused an attempt (it answered, so nothing was sent): back to ``queued``."""
    Message.objects.filter(pk=message_id, delivery_status=DeliveryStatus.SENDING).update(
        delivery_status=DeliveryStatus.QUEUED, delivery_error=reason[:2000], updated_at=timezone.now()
    )


def retry_failed_delivery(*, message: Message, actor: str) -> Message:
    """A person asks to send a failed message again: back to ``queued`` and re-enqueued on commit."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.direction != Direction.OUTBOUND or message.is_private:
            raise DomainError("only outbound messages can be resent", code=ErrorCode.INVALID)
        if message.delivery_status != DeliveryStatus.FAILED:
            raise DomainError("only failed messages can be resent", code=ErrorCode.CONFLICT, status_code=409)
        message.delivery_status = DeliveryStatus.QUEUED
        message.delivery_error = ""
        message.save(update_fields=["delivery_status", "delivery_error", "updated_at"])
        _emit_message(message, created=False)
        message_id = message.id
        transaction.on_commit(lambda: _enqueue_delivery(message_id))
    log.info("delivery_retry_requested", message_id=str(message.id), actor=actor)
    return message


def stale_outbox_message_ids(*, queued_older_than: float, sending_older_than: float, limit: int = 500) -> list[str]:
    """Outbound messages whose delivery task was lost (worker killed, broker restarted).

    ``queued`` ones not touched for ``queued_older_than`` seconds, ``sending`` ones whose attempt
    started more than ``sending_older_than`` seconds ago.
    """
    from django.db.models import Q

    now = timezone.now()
    from datetime import timedelta

    rows = (
        Message.objects.filter(direction=Direction.OUTBOUND, is_private=False)
        .filter(
            Q(delivery_status=DeliveryStatus.QUEUED, updated_at__lt=now - timedelta(seconds=queued_older_than))
            | Q(delivery_status=DeliveryStatus.SENDING, sending_started_at__lt=now - timedelta(seconds=sending_older_than))
        )
        .order_by("updated_at")
        .values_list("id", flat=True)[:limit]
    )
    return [str(row) for row in rows]


def record_status_update(*, channel: Channel, update: StatusUpdate) -> Message | None:
    """Apply a provider's delivery-status callback to the outbound message it concerns.

    Matched by the provider's message id, or by our own id when the provider echoed it back
    (``message_ref``); unknown messages are ignored (None).
    """
    message = None
    if update.provider_message_id:
        message = Message.objects.filter(
            channel=channel, direction=Direction.OUTBOUND, provider_message_id=update.provider_message_id
        ).first()
    if message is None and update.message_ref:
        import uuid

        try:
            ref = uuid.UUID(update.message_ref)
        except ValueError:
            ref = None
        if ref is not None:
            message = Message.objects.filter(channel=channel, direction=Direction.OUTBOUND, pk=ref).first()
    if message is None:
        log.info("status_for_unknown_message", channel=channel.type, provider_message_id=update.provider_message_id)
        return None
    return record_delivery_status(
        message=message,
        status=update.status,
        provider_message_id=update.provider_message_id,
        error=update.error,
        at=update.timestamp,
    )


def mark_read_by_customer(*, conversation: Conversation, up_to: Message) -> int:
    """The customer has seen every outbound message up to ``up_to``: they become ``read``.

    Returns:
        How many messages changed.
    """
    candidates = Message.objects.filter(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        is_private=False,
        created_at__lte=up_to.created_at,
        delivery_status__in=[DeliveryStatus.SENT, DeliveryStatus.DELIVERED],
    )
    changed = 0
    for message in candidates:
        record_delivery_status(message=message, status=DeliveryStatus.READ)
        changed += 1
    return changed


def mark_read_until(*, channel: Channel, customer_external_id: str, until: datetime) -> int:
    """A read watermark: the customer has read every message sent to them on ``channel`` before ``until``.

    Returns:
        How many messages changed.
    """
    identity = CustomerIdentity.objects.filter(
        tenant_id=channel.tenant_id, channel_type=channel.type, external_id=customer_external_id
    ).first()
    if identity is None:
        return 0
    changed = 0
    for message in Message.objects.filter(
        channel=channel,
        conversation__customer_id=identity.customer_id,
        direction=Direction.OUTBOUND,
        is_private=False,
        sent_at__lte=until,
        delivery_status__in=[DeliveryStatus.SENT, DeliveryStatus.DELIVERED],
    ):
        record_delivery_status(message=message, status=DeliveryStatus.READ, at=until)
        changed += 1
    return changed
