"""Facebook Messenger: ``entry[].messaging[]`` webhooks and the Send API (``POST /me/messages``).

Channel config: ``page_id`` (routes webhooks), ``api_base_url`` (default
``https://graph.facebook.com``), ``api_version`` (default ``v21.0``), ``timeout_s``.
Credentials (encrypted): ``page_access_token``, ``app_secret``, ``verify_token``.

Outside the 24-hour standard messaging window only a person's reply may be sent, tagged
``HUMAN_AGENT`` (allowed up to 7 days); anything else fails with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from parley.connectors import http
from parley.connectors.base import (
    ChannelEvent,
    DeliveryError,
    DeliveryResult,
    InboundAttachment,
    InboundMessage,
    MediaFile,
    OutboundMessage,
    ReadReceipt,
    StatusUpdate,
    buttons_as_text,
)
from parley.connectors.messenger import schemas

DEFAULT_API_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
MAX_QUICK_REPLIES = 13


def _millis(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value else None


def _config(channel: Any) -> dict[str, Any]:
    return channel.config if isinstance(channel.config, dict) else {}


def _token(channel: Any) -> str:
    credentials: Any = channel.credentials
    token = credentials.get("page_access_token", "") if isinstance(credentials, dict) else ""
    if not token:
        raise DeliveryError("the channel has no page_access_token", retryable=False)
    return str(token)


def _inbound(event: schemas.Messaging, raw: dict[str, Any]) -> InboundMessage | None:
    timestamp = _millis(event.timestamp)
    if event.message is not None:
        message = event.message
        if message.is_echo:
            return None  # our own outbound message, echoed back
        attachments = [
            InboundAttachment(
                kind={"file": "document"}.get(item.type, item.type),
                url=item.payload.url if item.payload else "",
                caption=item.payload.title if item.payload else "",
            )
            for item in message.attachments
        ]
        content_type = (
            "button_reply" if message.quick_reply else (attachments[0].kind if attachments and not message.text else "text")
        )
        return InboundMessage(
            channel_type="messenger",
            external_id=message.mid,
            sender_external_id=event.sender.id,
            text=message.text,
            attachments=attachments,
            timestamp=timestamp,
            reply_to_external_id=message.reply_to.mid if message.reply_to else "",
            content_type=content_type,
            button_id=message.quick_reply.payload if message.quick_reply else "",
            raw=raw,
        )
    if event.postback is not None:
        postback = event.postback
        external_id = postback.mid or f"postback:{event.sender.id}:{event.timestamp}:{postback.payload}"
        return InboundMessage(
            channel_type="messenger",
            external_id=external_id[:255],
            sender_external_id=event.sender.id,
            text=postback.title or postback.payload,
            timestamp=timestamp,
            content_type="button_reply",
            button_id=postback.payload,
            raw=raw,
        )
    return None


class MessengerConnector:
    """The Facebook Messenger channel."""

    slug = "messenger"
    supports_buttons = True
    idempotent_send = False  # the Send API has no idempotency key; see docs/channels.md

    def page_ids(self, payload: Any) -> set[str]:
        """Every page id a payload is addressed to (validates the shape)."""
        return {entry.id for entry in schemas.WebhookPayload.model_validate(payload).entry}

    def parse_events(self, payload: Any) -> list[ChannelEvent]:
        """Messages, postbacks, delivery and read receipts of every entry, routed by page id."""
        parsed = schemas.WebhookPayload.model_validate(payload)
        events: list[ChannelEvent] = []
        for entry_index, entry in enumerate(parsed.entry):
            for event_index, event in enumerate(entry.messaging):
                raw = payload["entry"][entry_index]["messaging"][event_index]
                inbound = _inbound(event, raw)
                if inbound is not None:
                    events.append(ChannelEvent(route=entry.id, inbound=inbound))
                if event.delivery is not None:
                    for mid in event.delivery.mids:
                        events.append(
                            ChannelEvent(
                                route=entry.id,
                                status=StatusUpdate(
                                    provider_message_id=mid,
                                    status="delivered",
                                    timestamp=_millis(event.delivery.watermark),
                                    recipient_external_id=event.sender.id,
                                ),
                            )
                        )
                if event.read is not None:
                    until = _millis(event.read.watermark)
                    if until is not None:
                        events.append(
                            ChannelEvent(route=entry.id, read=ReadReceipt(reader_external_id=event.sender.id, until=until))
                        )
        return events

    def _message_body(self, message: OutboundMessage) -> dict[str, Any]:
        if message.media is not None:
            kind = {"document": "file"}.get(message.media.kind, message.media.kind)
            return {"attachment": {"type": kind, "payload": {"url": message.media.url, "is_reusable": True}}}
        if message.buttons and len(message.buttons) <= MAX_QUICK_REPLIES and message.text:
            return {
                "text": message.text[:2000],
                "quick_replies": [{"content_type": "text", "title": b.title, "payload": b.id} for b in message.buttons],
            }
        return {"text": buttons_as_text(message.text, message.buttons)[:2000]}

    def send(self, channel: Any, message: OutboundMessage) -> DeliveryResult:
        """``POST /{api_version}/me/messages`` with the page access token."""
        since_customer = datetime.now(tz=UTC) - message.last_customer_message_at if message.last_customer_message_at else None
        payload: dict[str, Any] = {"recipient": {"id": message.recipient_external_id}, "message": self._message_body(message)}
        if since_customer is not None and since_customer <= STANDARD_WINDOW:
            payload["messaging_type"] = "RESPONSE"
        elif since_customer is not None and since_customer <= HUMAN_AGENT_WINDOW and message.sender_type == "agent":
            payload["messaging_type"] = "MESSAGE_TAG"
            payload["tag"] = "HUMAN_AGENT"
        else:
            raise DeliveryError(
                "outside Messenger's 24-hour window (a person may reply up to 7 days with the HUMAN_AGENT tag)",
                retryable=False,
            )
        config = _config(channel)
        root = f"{str(config.get('api_base_url') or DEFAULT_API_BASE_URL).rstrip('/')}/{config.get('api_version') or DEFAULT_API_VERSION}"
        answer = http.request_json(
            "POST",
            f"{root}/me/messages",
            json=payload,
            headers={"Authorization": f"Bearer {_token(channel)}"},
            timeout_s=float(config.get("timeout_s") or http.DEFAULT_TIMEOUT_S),
        )
        if not answer.get("message_id"):
            raise DeliveryError("the Send API answer has no message_id", retryable=False)
        return DeliveryResult(provider_message_id=str(answer["message_id"]))

    def fetch_media(self, channel: Any, attachment: InboundAttachment) -> MediaFile | None:
        """Download the attachment's CDN URL (Messenger sends URLs, not media ids)."""
        if not attachment.url.startswith(("http://", "https://")):
            return None
        content, content_type = http.download(
            attachment.url, max_bytes=int(getattr(settings, "MAX_MEDIA_BYTES", 25 * 1024 * 1024))
        )
        return MediaFile(content=content, mime_type=content_type.split(";")[0], filename=attachment.filename)


connector = MessengerConnector()
