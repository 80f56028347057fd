"""Outbound delivery: one task per message on the ``outbound`` queue, retried, then dead-lettered."""

from __future__ import annotations

import structlog

from parley.config.celery import ParleyTask, app
from parley.connectors.base import OutboundButton, OutboundMessage
from parley.connectors.registry import UnknownChannel, get_connector
from parley.conversations.models import DeliveryStatus, Message
from parley.customers.models import CustomerIdentity

log = structlog.get_logger(__name__)


class DeliveryTask(ParleyTask):
    """After the last retry the message is marked failed (visible in the inbox) and dead-lettered."""

    def on_failure(self, exc: BaseException, task_id: str, args: object, kwargs: object, einfo: object) -> None:
        from parley.conversations.actions import record_delivery_status

        message = Message.objects.filter(pk=args[0]).first() if isinstance(args, (list, tuple)) and args else None
        if message is not None:
            record_delivery_status(message=message, status=DeliveryStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        super().on_failure(exc, task_id, args, kwargs, einfo)


@app.task(bind=True, base=DeliveryTask, name="parley.conversations.deliver_message", queue="outbound")
def deliver_message(self: DeliveryTask, message_id: str) -> str:
    """Deliver one outbound message through its channel's connector.

    Idempotent: a message that already left (sent, delivered, read) is not sent again.
    """
    from parley.conversations.actions import record_delivery_status

    message = Message.objects.select_related("conversation", "channel", "conversation__customer").filter(pk=message_id).first()
    if message is None:
        return "missing"
    if message.delivery_status != DeliveryStatus.QUEUED and message.delivery_status != DeliveryStatus.FAILED:
        return "already-delivered"
    channel = message.channel or message.conversation.channel
    try:
        connector = get_connector(channel.type)
    except UnknownChannel as exc:
        record_delivery_status(message=message, status=DeliveryStatus.FAILED, error=str(exc))
        return "no-connector"
    identity = CustomerIdentity.objects.filter(
        tenant_id=message.tenant_id, customer_id=message.conversation.customer_id, channel_type=channel.type
    ).first()
    outbound = OutboundMessage(
        message_id=str(message.id),
        recipient_external_id=identity.external_id if identity else "",
        text=message.text,
        buttons=[OutboundButton(**button) for button in message.buttons],
    )
    Message.objects.filter(pk=message.pk).update(delivery_attempts=message.delivery_attempts + 1)
    result = connector.send(channel, outbound)
    record_delivery_status(message=message, status=DeliveryStatus.SENT, provider_message_id=result.provider_message_id)
    return result.provider_message_id
