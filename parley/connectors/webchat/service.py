"""Web-chat sessions shared by the websocket consumer and the REST fallback.

Visitors are identified by a signed token (Django signing, HMAC with the secret key) that names the
visitor and the widget; the token lives in the browser. State changes go through
``conversations.actions`` and ``customers.actions``.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core import signing

from parley.connectors.base import InboundMessage
from parley.connectors.models import Channel, ChannelType
from parley.conversations import actions as conversation_actions
from parley.conversations.models import Conversation, Message
from parley.customers import actions as customer_actions
from parley.customers.models import CustomerIdentity

TOKEN_SALT = "parley.webchat.visitor"
TOKEN_MAX_AGE_S = 180 * 24 * 3600
HISTORY_LIMIT = 50
CHANNEL_TYPE = ChannelType.WEBCHAT.value


class WebchatError(Exception):
    """A protocol error with its code (see the protocol's error table)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def find_widget(widget_key: str) -> Channel | None:
    """The enabled web-chat channel with this key."""
    return Channel.objects.select_related("tenant").filter(key=widget_key, type=CHANNEL_TYPE, enabled=True).first()


def origin_allowed(channel: Channel, origin: str | None) -> bool:
    """Whether a browser ``Origin`` may use this widget (``allowed_origins``; ``"*"`` = any).

    Requests without an ``Origin`` header come from non-browser clients and are not origin-checked.
    """
    if origin is None:
        return True
    config: Any = channel.config if isinstance(channel.config, dict) else {}
    allowed = config.get("allowed_origins") or []
    if not isinstance(allowed, list):
        return False
    if "*" in allowed:
        return True
    normalised = _normalise_origin(origin)
    return normalised is not None and normalised in {_normalise_origin(str(item)) for item in allowed}


def _normalise_origin(origin: str) -> str | None:
    parts = urlsplit(origin.strip().rstrip("/"))
    if not parts.scheme or not parts.hostname:
        return None
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}{port}"


def visitor_group(channel_id: Any, visitor_id: str) -> str:
    """Channel-layer group of every socket of one visitor on one widget."""
    return f"webchat.{channel_id}.{visitor_id}"


@dataclass(frozen=True)
class Visitor:
    """Who a token names: the visitor id and the profile given before their first message."""

    visitor_id: str
    profile: dict[str, str]


def issue_token(channel: Channel, visitor_id: str, profile: dict[str, str] | None = None) -> str:
    """A signed token naming ``visitor_id`` on ``channel`` (with a not-yet-stored profile, if any)."""
    data: dict[str, Any] = {"v": visitor_id, "w": channel.key}
    if profile:
        data["p"] = {key: value for key, value in profile.items() if value}
    return signing.dumps(data, salt=TOKEN_SALT, compress=True)


def visitor_from_token(channel: Channel, token: str | None) -> Visitor | None:
    """The visitor a token names, or None when missing, tampered, expired or for another widget."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE_S)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("w") != channel.key or not isinstance(data.get("v"), str):
        return None
    profile: Any = data.get("p")
    profile_items = profile.items() if isinstance(profile, dict) else []
    return Visitor(visitor_id=str(data["v"]), profile={str(k): str(v) for k, v in profile_items})


@dataclass(frozen=True)
class Session:
    """A visitor recognised (or created) by ``hello`` / ``session/``."""

    visitor_id: str
    visitor_token: str
    resumed: bool
    conversation: Conversation | None
    profile: dict[str, str]

    def welcome(self, channel: Channel) -> dict[str, Any]:
        config: Any = channel.config if isinstance(channel.config, dict) else {}
        return {
            "protocol": 1,
            "visitor_token": self.visitor_token,
            "visitor_id": self.visitor_id,
            "resumed": self.resumed,
            "conversation_id": str(self.conversation.id) if self.conversation else None,
            "conversation_status": self.conversation.status if self.conversation else None,
            "greeting": str(config.get("greeting", "")),
        }


def start_session(channel: Channel, *, token: str | None, name: str = "", email: str = "", locale: str = "") -> Session:
    """Recognise the visitor from ``token`` or start a new one.

    A known customer gets its empty profile fields filled; for a visitor who has not written yet the
    profile travels in the (signed) token until the first message creates the customer.
    """
    visitor = visitor_from_token(channel, token)
    resumed = visitor is not None
    visitor_id = visitor.visitor_id if visitor is not None else "v" + secrets.token_hex(12)
    given = {"name": name, "email": email, "locale": locale}
    profile = {**(visitor.profile if visitor else {}), **{key: value for key, value in given.items() if value}}
    identity = (
        CustomerIdentity.objects.select_related("customer")
        .filter(tenant_id=channel.tenant_id, channel_type=CHANNEL_TYPE, external_id=visitor_id)
        .first()
    )
    if identity is not None:
        fill_profile(identity.customer, profile)
        profile = {}
    return Session(
        visitor_id=visitor_id,
        visitor_token=issue_token(channel, visitor_id, profile),
        resumed=resumed,
        conversation=current_conversation(channel, visitor_id),
        profile=profile,
    )


def fill_profile(customer: Any, profile: dict[str, str]) -> None:
    """Set the customer's name / e-mail / language from ``profile`` where still empty."""
    changes: dict[str, Any] = {}
    if profile.get("name") and not customer.name:
        changes["name"] = profile["name"][:200]
    if profile.get("email") and not customer.email:
        changes["email"] = profile["email"][:254]
    if profile.get("locale") and not customer.language:
        changes["language"] = profile["locale"][:10]
    if changes:
        customer_actions.update_customer(customer=customer, data=changes)


def current_conversation(channel: Channel, visitor_id: str) -> Conversation | None:
    """The visitor's open conversation on this widget, if any."""
    identity = CustomerIdentity.objects.filter(
        tenant_id=channel.tenant_id, channel_type=CHANNEL_TYPE, external_id=visitor_id
    ).first()
    if identity is None:
        return None
    return (
        Conversation.objects.filter(
            channel=channel, customer_id=identity.customer_id, status__in=conversation_actions.OPEN_STATUSES
        )
        .order_by("-created_at")
        .first()
    )


def visitor_message(message: Message) -> dict[str, Any]:
    """The visitor-facing ``<Message>`` of the protocol (never private notes, never analysis).

    Stored files get an absolute signed URL on this server (the widget runs on another site).
    """
    from parley.connectors.webchat.uploads import attachment_url

    meta: Any = message.metadata if isinstance(message.metadata, dict) else {}
    sender_name = ""
    if message.sender_user_id is not None and message.sender_user is not None:
        sender_name = message.sender_user.name or ""
    return {
        "id": str(message.id),
        "conversation_id": str(message.conversation_id),
        "direction": message.direction,
        "sender_type": message.sender_type,
        "sender_name": sender_name,
        "text": message.text,
        "buttons": list(message.buttons or []),
        "attachments": [
            {
                "kind": attachment.kind,
                "mime_type": attachment.mime_type,
                "url": attachment_url(attachment) if attachment.file else attachment.url,
                "filename": attachment.filename,
            }
            for attachment in message.attachments.all()
        ],
        "delivery_status": message.delivery_status,
        "client_id": (meta.get("raw") or {}).get("client_id") if message.direction == "inbound" else None,
        "created_at": message.created_at.isoformat(),
    }


def history(channel: Channel, visitor_id: str, *, after_message_id: str | None = None) -> list[dict[str, Any]]:
    """The current conversation's public messages, oldest first (at most the last 50)."""
    conversation = current_conversation(channel, visitor_id)
    if conversation is None:
        return []
    rows = Message.objects.filter(conversation=conversation, is_private=False).select_related("sender_user")
    if after_message_id:
        anchor = _message_of_visitor(channel, visitor_id, after_message_id)
        if anchor is not None:
            rows = rows.filter(created_at__gt=anchor.created_at)
    latest = list(rows.prefetch_related("attachments").order_by("-created_at")[:HISTORY_LIMIT])
    return [visitor_message(message) for message in reversed(latest)]


def _message_of_visitor(channel: Channel, visitor_id: str, message_id: str) -> Message | None:
    try:
        parsed = uuid.UUID(message_id)
    except ValueError:
        return None
    return Message.objects.filter(
        pk=parsed,
        channel=channel,
        conversation__customer__identities__channel_type=CHANNEL_TYPE,
        conversation__customer__identities__external_id=visitor_id,
        is_private=False,
    ).first()


@dataclass(frozen=True)
class PostedMessage:
    """A visitor message stored (or found again for a repeated ``client_id``)."""

    message: Message
    duplicate: bool
    #: an assistant turn is wanted and the caller (``enqueue_turn=False``) still has to queue it
    turn_pending: bool = False

    def ack(self, client_id: str) -> dict[str, Any]:
        return {
            "client_id": client_id,
            "message_id": str(self.message.id),
            "conversation_id": str(self.message.conversation_id),
            "duplicate": self.duplicate,
        }


def post_message(
    channel: Channel,
    visitor_id: str,
    *,
    client_id: str,
    text: str,
    button_id: str | None = None,
    profile: dict[str, str] | None = None,
    enqueue_turn: bool = True,
) -> PostedMessage:
    """Store a visitor message exactly once per ``client_id`` and hand it to the assistant on commit.

    With ``enqueue_turn=False`` the caller queues the turn itself (``PostedMessage.turn_pending``): the
    socket first joins the conversation's group, so the first message's "assistant is typing" and
    the events of a fast turn are not published before the visitor listens.
    """
    profile = profile or {}
    result = conversation_actions.receive_inbound(
        channel=channel,
        inbound=InboundMessage(
            channel_type=CHANNEL_TYPE,
            external_id=f"{visitor_id}:{client_id}",
            sender_external_id=visitor_id,
            sender_name=profile.get("name", ""),
            text=text,
            content_type="button_reply" if button_id else "text",
            button_id=button_id or "",
            raw={"client_id": client_id},
        ),
        enqueue_turn=enqueue_turn,
    )
    if result.created and profile:
        fill_profile(result.conversation.customer, profile)
    message = Message.objects.select_related("sender_user").prefetch_related("attachments").get(pk=result.message.pk)
    return PostedMessage(
        message=message, duplicate=not result.created, turn_pending=result.created and result.turn_wanted and not enqueue_turn
    )


def mark_read(channel: Channel, visitor_id: str, message_id: str) -> int:
    """The visitor has seen every outbound message up to ``message_id``."""
    message = _message_of_visitor(channel, visitor_id, message_id)
    if message is None:
        raise WebchatError("unknown_message", "no such message in your conversations")
    return conversation_actions.mark_read_by_customer(conversation=message.conversation, up_to=message)


def push_to_visitor(channel: Channel, visitor_id: str, frame: dict[str, Any]) -> None:
    """Send a protocol frame to every open socket of the visitor (after the current commit)."""
    from django.db import transaction

    from parley.realtime.publish import group_send_nowait

    def push() -> None:
        group_send_nowait(visitor_group(channel.id, visitor_id), {"type": "webchat.frame", "frame": frame})

    transaction.on_commit(push)
