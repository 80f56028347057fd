"""Web chat: outbound messages are pushed over the channel layer to the visitor's open sockets.

The visitor's sockets join ``webchat.<channel id>.<visitor id>``; a push is final (no provider in
between), so a message is ``delivered`` once pushed. A visitor who is offline gets it in the
history on reconnect. Pushing twice is harmless: clients dedupe by message id (idempotent send).
"""

from __future__ import annotations

from typing import Any

from parley.connectors.base import (
    ChannelEvent,
    DeliveryError,
    DeliveryResult,
    InboundAttachment,
    MediaFile,
    OutboundMessage,
    WebhookRejected,
)
from parley.realtime.publish import group_send


class WebchatConnector:
    """The embeddable web-chat widget's channel."""

    slug = "webchat"
    supports_buttons = True
    idempotent_send = True

    def parse_events(self, payload: Any) -> list[ChannelEvent]:
        """Web chat has no webhooks: visitors talk over ``/ws/webchat/<key>/`` or its REST fallback."""
        raise WebhookRejected(400, "web chat has no webhook endpoint")

    def send(self, channel: Any, message: OutboundMessage) -> DeliveryResult:
        """Push the message to every socket of the visitor."""
        from parley.connectors.webchat.service import visitor_group, visitor_message
        from parley.conversations.models import Message

        stored = Message.objects.select_related("sender_user").prefetch_related("attachments").get(pk=message.message_id)
        frame = {"type": "message", "message": {**visitor_message(stored), "delivery_status": "delivered"}}
        try:
            published = group_send(
                visitor_group(channel.id, message.recipient_external_id), {"type": "webchat.frame", "frame": frame}
            )
        except Exception as exc:  # Redis unavailable: retry later
            raise DeliveryError(f"channel layer unavailable: {type(exc).__name__}", retryable=True) from exc
        if not published:
            raise DeliveryError("no channel layer configured", retryable=False)
        return DeliveryResult(provider_message_id=f"webchat:{message.message_id}", status="delivered")

    def fetch_media(self, channel: Any, attachment: InboundAttachment) -> MediaFile | None:
        """Visitors send no media in protocol v1."""
        return None


connector = WebchatConnector()
