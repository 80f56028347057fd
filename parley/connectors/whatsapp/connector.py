"""WhatsApp Cloud API: parse webhooks, send messages, download media through the Graph API.

Channel config: ``phone_number_id`` (routes webhooks), ``api_base_url`` (default
``https://graph.facebook.com``; a self-hosted gateway or a local test server can stand in),
``api_version`` (default ``v21.0``), optional ``reengagement_template``
(``{"name", "language", "include_text"}``) used outside the 24-hour customer-service window.
Credentials (encrypted): ``access_token``, ``app_secret``, ``verify_token``.
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
    OutboundTemplate,
    StatusUpdate,
    buttons_as_text,
)
from parley.connectors.whatsapp import schemas

DEFAULT_API_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
MAX_INTERACTIVE_BUTTONS = 3
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")


def _timestamp(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError):
        return None


def _config(channel: Any) -> dict[str, Any]:
    return channel.config if isinstance(channel.config, dict) else {}


def _credentials(channel: Any) -> dict[str, Any]:
    return channel.credentials if isinstance(channel.credentials, dict) else {}


def api_root(channel: Any) -> str:
    """``<api_base_url>/<api_version>`` for this channel."""
    config = _config(channel)
    base = str(config.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")
    return f"{base}/{config.get('api_version') or DEFAULT_API_VERSION}"


def _timeout(channel: Any) -> float:
    return float(_config(channel).get("timeout_s") or http.DEFAULT_TIMEOUT_S)


def _auth(channel: Any) -> dict[str, str]:
    token = _credentials(channel).get("access_token", "")
    if not token:
        raise DeliveryError("the channel has no access_token", retryable=False)
    return {"Authorization": f"Bearer {token}"}


def _inbound(message: schemas.Message, names: dict[str, str], raw: dict[str, Any]) -> InboundMessage:
    text = ""
    content_type = message.type
    attachments: list[InboundAttachment] = []
    button_id = ""
    if message.type == "text" and message.text is not None:
        text = message.text.body
    elif message.type in MEDIA_KINDS:
        media = getattr(message, message.type)
        if media is None:
            raise ValueError(f"a {message.type} message without its {message.type} object")
        kind = "voice" if message.type == "audio" and media.voice else message.type
        content_type = kind
        text = media.caption
        attachments.append(
            InboundAttachment(
                kind=kind,
                mime_type=media.mime_type,
                media_id=media.id,
                url=media.link,
                filename=media.filename,
                caption=media.caption,
                sha256=media.sha256,
            )
        )
    elif message.type == "interactive" and message.interactive is not None:
        reply = message.interactive.button_reply or message.interactive.list_reply
        if reply is None:  # e.g. a flow's nfm_reply: stored (raw kept) as unsupported, not refused
            content_type = "unsupported"
        else:
            text, button_id, content_type = reply.title, reply.id, "button_reply"
    elif message.type == "button" and message.button is not None:
        text, button_id, content_type = message.button.text, message.button.payload, "button_reply"
    elif message.type == "location" and message.location is not None:
        location = message.location
        text = " ".join(part for part in (location.name, location.address) if part) or (
            f"{location.latitude},{location.longitude}"
        )
        attachments.append(InboundAttachment(kind="location", url=f"geo:{location.latitude},{location.longitude}", caption=text))
    else:
        content_type = "unsupported"
    return InboundMessage(
        channel_type="whatsapp",
        external_id=message.id,
        sender_external_id=message.from_,
        sender_name=names.get(message.from_, ""),
        text=text,
        attachments=attachments,
        timestamp=_timestamp(message.timestamp),
        reply_to_external_id=message.context.id if message.context is not None else "",
        content_type=content_type,
        button_id=button_id,
        raw=raw,
    )


def _status(status: schemas.Status) -> StatusUpdate | None:
    if status.status not in ("sent", "delivered", "read", "failed"):
        return None  # e.g. "deleted", "warning"
    error = "; ".join(
        " ".join(str(part) for part in (item.code, item.title or item.message) if part not in (None, ""))
        for item in status.errors
    )
    return StatusUpdate(
        provider_message_id=status.id,
        status=status.status,  # type: ignore[arg-type]  # checked just above
        timestamp=_timestamp(status.timestamp),
        error=error,
        recipient_external_id=status.recipient_id,
        message_ref=status.biz_opaque_callback_data,
    )


class WhatsAppConnector:
    """The WhatsApp Cloud API channel."""

    slug = "whatsapp"
    supports_buttons = True
    idempotent_send = False  # the Cloud API has no idempotency key; see docs/channels.md

    def phone_number_ids(self, payload: Any) -> set[str]:
        """Every ``phone_number_id`` a payload is addressed to (validates the shape)."""
        parsed = schemas.WebhookPayload.model_validate(payload)
        return {change.value.metadata.phone_number_id for entry in parsed.entry for change in entry.changes}

    def parse_events(self, payload: Any) -> list[ChannelEvent]:
        """Messages and statuses of every entry and change, routed by ``phone_number_id``."""
        parsed = schemas.WebhookPayload.model_validate(payload)
        raw_entries = payload["entry"]
        events: list[ChannelEvent] = []
        for entry_index, entry in enumerate(parsed.entry):
            for change_index, change in enumerate(entry.changes):
                if change.field != "messages":
                    continue
                value = change.value
                route = value.metadata.phone_number_id
                names = {contact.wa_id: contact.profile.name for contact in value.contacts}
                raw_messages = raw_entries[entry_index]["changes"][change_index]["value"].get("messages", [])
                for message, raw in zip(value.messages, raw_messages, strict=True):
                    events.append(ChannelEvent(route=route, inbound=_inbound(message, names, raw)))
                for status in value.statuses:
                    update = _status(status)
                    if update is not None:
                        events.append(ChannelEvent(route=route, status=update))
        return events

    def _payload(self, channel: Any, message: OutboundMessage) -> dict[str, Any]:
        base: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.recipient_external_id,
            "biz_opaque_callback_data": message.idempotency_key or message.message_id,
        }
        template = message.template
        window_open = message.last_customer_message_at is not None and (
            datetime.now(tz=UTC) - message.last_customer_message_at <= CUSTOMER_SERVICE_WINDOW
        )
        if template is None and not window_open:
            configured = _config(channel).get("reengagement_template")
            if not isinstance(configured, dict) or not configured.get("name"):
                raise DeliveryError(
                    "outside the 24-hour customer-service window: only template messages may be sent "
                    "(set config.reengagement_template on the channel)",
                    retryable=False,
                )
            template = OutboundTemplate(
                name=str(configured["name"]),
                language=str(configured.get("language") or "en_US"),
                body_parameters=[message.text] if configured.get("include_text") and message.text else [],
            )
        if template is not None:
            components = (
                [{"type": "body", "parameters": [{"type": "text", "text": value} for value in template.body_parameters]}]
                if template.body_parameters
                else []
            )
            body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
            if components:
                body["components"] = components
            return {**base, "type": "template", "template": body}
        if message.media is not None:
            media = message.media
            kind = "document" if media.kind == "file" else media.kind
            media_object: dict[str, Any] = {"id": media.media_id} if media.media_id else {"link": media.url}
            caption = buttons_as_text(message.text, message.buttons)
            if caption and kind in ("image", "video", "document"):
                media_object["caption"] = caption[:1024]
            if kind == "document" and media.filename:
                media_object["filename"] = media.filename
            return {**base, "type": kind, kind: media_object}
        if message.buttons and len(message.buttons) <= MAX_INTERACTIVE_BUTTONS and message.text:
            return {
                **base,
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": message.text[:1024]},
                    "action": {"buttons": [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in message.buttons]},
                },
            }
        return {
            **base,
            "type": "text",
            "text": {"preview_url": False, "body": buttons_as_text(message.text, message.buttons)[:4096]},
        }

    def send(self, channel: Any, message: OutboundMessage) -> DeliveryResult:
        """``POST /{api_version}/{phone_number_id}/messages``."""
        phone_number_id = _config(channel).get("phone_number_id")
        if not phone_number_id:
            raise DeliveryError("the channel has no phone_number_id", retryable=False)
        payload = self._payload(channel, message)
        answer = http.request_json(
            "POST",
            f"{api_root(channel)}/{phone_number_id}/messages",
            json=payload,
            headers=_auth(channel),
            timeout_s=_timeout(channel),
        )
        messages = answer.get("messages")
        if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict) or not messages[0].get("id"):
            raise DeliveryError("the Graph API answer has no message id", retryable=False)
        return DeliveryResult(provider_message_id=str(messages[0]["id"]))

    def fetch_media(self, channel: Any, attachment: InboundAttachment) -> MediaFile | None:
        """Resolve the media id (``GET /{api_version}/{media_id}``), then download its URL."""
        if not attachment.media_id:
            return None
        info = http.request_json("GET", f"{api_root(channel)}/{attachment.media_id}", headers=_auth(channel))
        url = info.get("url")
        if not isinstance(url, str) or not url:
            raise DeliveryError("the media answer has no url", retryable=False)
        content, content_type = http.download(
            url, headers=_auth(channel), max_bytes=int(getattr(settings, "MAX_MEDIA_BYTES", 25 * 1024 * 1024))
        )
        return MediaFile(content=content, mime_type=str(info.get("mime_type") or content_type), filename=attachment.filename)


connector = WhatsAppConnector()
