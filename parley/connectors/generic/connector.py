"""The generic API channel: any system can post messages to ``/webhooks/generic/<channel_key>/``.

Requests are signed: ``X-Parley-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` with the
channel's ``secret`` credential. Replies go to ``config.callback_url`` (optional), signed the same
way, with ``Idempotency-Key: <Parley message id>`` that receivers must deduplicate on. Without a
callback URL replies stay ``sent`` in Parley for the caller to read through the REST API.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from pydantic import TypeAdapter

from parley.connectors import http
from parley.connectors.base import (
    ChannelEvent,
    DeliveryResult,
    InboundAttachment,
    InboundMessage,
    MediaFile,
    OutboundMessage,
    StatusUpdate,
)
from parley.connectors.generic import schemas
from parley.connectors.webhooks import sign

SIGNATURE_HEADER = "X-Parley-Signature"
_EVENT = TypeAdapter(schemas.Event)


def channel_secret(channel: Any) -> str:
    """The channel's signing secret (``""`` when none is set)."""
    credentials: Any = channel.credentials
    return str(credentials.get("secret", "")) if isinstance(credentials, dict) else ""


class GenericConnector:
    """A documented JSON webhook in, an optional signed callback out."""

    slug = "generic"
    supports_buttons = True
    idempotent_send = True  # receivers deduplicate on Idempotency-Key

    def parse_events(self, payload: Any) -> list[ChannelEvent]:
        """One event or a ``{"events": [...]}`` batch."""
        if isinstance(payload, dict) and "events" in payload:
            events = schemas.Batch.model_validate(payload).events
            raws = payload["events"]
        else:
            events = [_EVENT.validate_python(payload)]
            raws = [payload]
        parsed: list[ChannelEvent] = []
        for event, raw in zip(events, raws, strict=True):
            if isinstance(event, schemas.MessageEvent):
                parsed.append(
                    ChannelEvent(
                        route="",
                        inbound=InboundMessage(
                            channel_type="generic",
                            external_id=event.message_id,
                            sender_external_id=event.sender.id,
                            sender_name=event.sender.name,
                            text=event.text,
                            attachments=[
                                InboundAttachment(kind=a.kind, url=a.url, mime_type=a.mime_type, filename=a.filename)
                                for a in event.attachments
                            ],
                            timestamp=event.timestamp,
                            reply_to_external_id=event.reply_to,
                            content_type="button_reply" if event.button_id else ("text" if event.text else "file"),
                            button_id=event.button_id,
                            raw=raw,
                        ),
                    )
                )
            else:
                parsed.append(
                    ChannelEvent(
                        route="",
                        status=StatusUpdate(
                            provider_message_id=event.message_id,
                            status=event.status,
                            timestamp=event.timestamp,
                            error=event.error,
                            message_ref=event.message_id,
                        ),
                    )
                )
        return parsed

    def send(self, channel: Any, message: OutboundMessage) -> DeliveryResult:
        """POST the reply to ``config.callback_url``, signed, with an idempotency key."""
        config: Any = channel.config if isinstance(channel.config, dict) else {}
        callback = str(config.get("callback_url") or "")
        if not callback:
            return DeliveryResult(provider_message_id=message.message_id)
        body = json.dumps(
            {
                "type": "message",
                "message_id": message.message_id,
                "conversation_id": message.conversation_id,
                "recipient": {"id": message.recipient_external_id},
                "text": message.text,
                "buttons": [button.model_dump() for button in message.buttons],
                "media": message.media.model_dump() if message.media else None,
                "sender_type": message.sender_type,
                "sender_name": message.sender_name,
                "created_at": message.created_at.isoformat() if message.created_at else None,
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(channel_secret(channel), body),
            "Idempotency-Key": message.idempotency_key or message.message_id,
        }
        answer = http.request_json(
            "POST", callback, content=body, headers=headers, timeout_s=float(config.get("timeout_s") or http.DEFAULT_TIMEOUT_S)
        )
        return DeliveryResult(provider_message_id=str(answer.get("message_id") or message.message_id))

    def fetch_media(self, channel: Any, attachment: InboundAttachment) -> MediaFile | None:
        """Download an attachment URL the caller sent."""
        if not attachment.url:
            return None
        content, content_type = http.download(
            attachment.url, max_bytes=int(getattr(settings, "MAX_MEDIA_BYTES", 25 * 1024 * 1024))
        )
        return MediaFile(
            content=content, mime_type=attachment.mime_type or content_type.split(";")[0], filename=attachment.filename
        )


connector = GenericConnector()
