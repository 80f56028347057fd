"""Outbound delivery (the outbox) and inbound media download.

``deliver_message`` runs one task per message on the ``outbound`` queue: it marks the message
``sending`` (committed) before calling the provider, records the provider's id after, retries 429 /
5xx / timeouts with exponential backoff, and after the last retry marks the message failed and
dead-letters the task. ``sweep_outbox`` (Celery beat) re-enqueues messages whose task was lost.
"""

from __future__ import annotations

import os
import random
from typing import Any

import structlog
from django.conf import settings

from parley.config.celery import ParleyTask, app
from parley.connectors.base import (
    DeliveryError,
    InboundAttachment,
    MediaRejected,
    OutboundButton,
    OutboundMedia,
    OutboundMessage,
    OutboundTemplate,
)
from parley.connectors.registry import UnknownChannel, get_connector
from parley.conversations.models import Attachment, DeliveryStatus, Message
from parley.customers.models import CustomerIdentity

log = structlog.get_logger(__name__)


def _setting(name: str, default: float) -> float:
    """A tunable from Django settings, else ``PARLEY_<NAME>`` in the environment, else ``default``."""
    value: Any = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(f"PARLEY_{name}", default)
    return float(value)


def reconcile_seconds() -> float:
    """How long an attempt with an unknown outcome waits for a status callback before a resend."""
    return _setting("OUTBOX_RECONCILE_SECONDS", 30.0)


def _backoff(retries: int) -> float:
    """Exponential backoff with jitter: base, 2×base, 4×base, … capped at 5 minutes."""
    base = _setting("OUTBOX_BACKOFF_SECONDS", 2.0)
    return min(300.0, base * 2**retries) * random.uniform(0.8, 1.0)


class DeliveryTask(ParleyTask):
    """After the last retry the message is marked failed (visible in the inbox) and dead-lettered."""

    autoretry_for: tuple[type[BaseException], ...] = ()
    max_retries = 6

    def on_failure(self, exc: BaseException, task_id: str, args: object, kwargs: object, einfo: object) -> None:
        from parley.conversations.actions import record_delivery_status

        super().on_failure(exc, task_id, args, kwargs, einfo)  # the dead letter first: it is what can be replayed
        message = Message.objects.filter(pk=args[0]).first() if isinstance(args, (list, tuple)) and args else None
        if message is not None:
            reason = exc.reason if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            record_delivery_status(message=message, status=DeliveryStatus.FAILED, error=f"gave up after retries: {reason}")


def build_outbound(message: Message, channel_type: str) -> OutboundMessage:
    """The connector-facing form of a stored outbound message."""
    conversation = message.conversation
    identity = (
        CustomerIdentity.objects.filter(
            tenant_id=message.tenant_id, customer_id=conversation.customer_id, channel_type=channel_type
        )
        .order_by("-last_seen_at")
        .first()
    )
    meta: dict[str, Any] = message.metadata if isinstance(message.metadata, dict) else {}
    media = OutboundMedia(**meta["media"]) if isinstance(meta.get("media"), dict) else None
    template = OutboundTemplate(**meta["template"]) if isinstance(meta.get("template"), dict) else None
    sender_name = ""
    if message.sender_user_id and message.sender_user is not None:
        sender_name = message.sender_user.name or ""
    return OutboundMessage(
        message_id=str(message.id),
        idempotency_key=str(message.id),
        recipient_external_id=identity.external_id if identity else "",
        conversation_id=str(conversation.id),
        text=message.text,
        buttons=[OutboundButton(**button) for button in message.buttons],
        media=media,
        template=template,
        sender_type=message.sender_type,
        sender_name=sender_name,
        last_customer_message_at=conversation.last_customer_message_at,
        created_at=message.created_at,
    )


@app.task(bind=True, base=DeliveryTask, name="parley.conversations.deliver_message", queue="outbound")
def deliver_message(self: DeliveryTask, message_id: str) -> str:
    """Deliver one outbound message through its channel's connector; idempotent and safe to retry.

    Args:
        message_id: the stored outbound message.

    Returns:
        The provider's message id, or why nothing was sent (``already-sent``, ``failed``, ...).
    """
    from parley.conversations.actions import claim_for_delivery, record_delivery_status, release_delivery

    row = Message.objects.select_related("channel", "conversation__channel").filter(pk=message_id).first()
    if row is None:
        return "missing"
    channel = row.channel or row.conversation.channel
    try:
        connector = get_connector(channel.type)
    except UnknownChannel as exc:
        record_delivery_status(message=row, status=DeliveryStatus.FAILED, error=str(exc))
        return "no-connector"
    claim = claim_for_delivery(
        message_id=message_id, idempotent_provider=connector.idempotent_send, reconcile_seconds=reconcile_seconds()
    )
    if claim.decision == "done":
        return claim.reason
    if claim.decision == "wait":
        raise self.retry(countdown=max(1.0, claim.wait_seconds), max_retries=self.max_retries + 10)
    message = claim.message
    assert message is not None
    message = Message.objects.select_related("conversation", "sender_user").get(pk=message.pk)
    outbound = build_outbound(message, channel.type)
    if not outbound.recipient_external_id:
        record_delivery_status(
            message=message, status=DeliveryStatus.FAILED, error="the customer has no identity on this channel"
        )
        return "no-recipient"
    try:
        result = connector.send(channel, outbound)
    except DeliveryError as exc:
        if not exc.retryable:
            record_delivery_status(message=message, status=DeliveryStatus.FAILED, error=exc.reason)
            log.warning("delivery_failed", message_id=message_id, channel=channel.type, reason=exc.reason)
            return "failed"
        if not exc.ambiguous:
            release_delivery(message_id=message_id, reason=exc.reason)
        log.info("delivery_retry", message_id=message_id, reason=exc.reason, attempt=self.request.retries + 1)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    except Exception as exc:  # a connector bug or an unexpected transport error: outcome unknown, keep the marker
        log.exception("delivery_error", message_id=message_id, channel=channel.type)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    record_delivery_status(message=message, status=result.status, provider_message_id=result.provider_message_id)
    return result.provider_message_id


@app.task(bind=True, base=ParleyTask, name="parley.conversations.sweep_outbox", queue="outbound")
def sweep_outbox(self: ParleyTask) -> int:
    """Re-enqueue outbound messages whose delivery task was lost (e.g. the worker was killed).

    Returns:
        How many messages were re-enqueued.
    """
    from parley.conversations.actions import stale_outbox_message_ids

    stale_after = _setting("OUTBOX_STALE_SECONDS", 60.0)
    ids = stale_outbox_message_ids(queued_older_than=stale_after, sending_older_than=reconcile_seconds())
    for message_id in ids:
        deliver_message.apply_async(args=[message_id], queue="outbound")
    if ids:
        log.info("outbox_swept", count=len(ids))
    return len(ids)


@app.task(bind=True, base=ParleyTask, name="parley.conversations.fetch_attachment_media", queue="webhooks")
def fetch_attachment_media(self: ParleyTask, attachment_id: str) -> str:
    """Download an inbound attachment through its channel's connector, scan it and store the file.

    Media over the size limit or flagged by the malware scanner is not stored: the attachment is
    marked ``rejected`` / ``quarantined`` with the reason (the message is kept) and nothing is retried.
    """
    from parley.connectors.media import check_media
    from parley.conversations.actions import reject_attachment_media, store_attachment_media

    attachment = Attachment.objects.select_related("message__channel").filter(pk=attachment_id).first()
    if attachment is None:
        return "missing"
    if attachment.file:
        return "already-stored"
    if attachment.metadata.get("media_status") in (MediaRejected.REJECTED, MediaRejected.QUARANTINED):
        return str(attachment.metadata["media_status"])
    channel = attachment.message.channel
    if channel is None:
        return "no-channel"
    connector = get_connector(channel.type)
    try:
        media = connector.fetch_media(
            channel,
            InboundAttachment(
                kind=attachment.kind,
                mime_type=attachment.mime_type,
                media_id=attachment.provider_media_id,
                url=attachment.url,
                filename=attachment.filename,
            ),
        )
        if media is not None:
            check_media(media)
    except MediaRejected as exc:
        reject_attachment_media(attachment=attachment, status=exc.status, reason=exc.reason)
        return exc.status
    if media is None:
        return "no-content"
    store_attachment_media(attachment=attachment, media=media)
    return "stored"


app.conf.beat_schedule.update(
    {"parley-outbox-sweep": {"task": "parley.conversations.sweep_outbox", "schedule": 30.0, "options": {"queue": "outbound"}}}
)
