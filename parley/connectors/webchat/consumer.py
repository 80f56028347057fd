"""``/ws/webchat/<widget_key>/``: the visitor's socket (protocol in docs/webchat-protocol.md)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from pydantic import ValidationError

from parley.connectors.models import Channel
from parley.connectors.webchat import service
from parley.connectors.webchat.schemas import FRAME_TYPES, MAX_FRAME_BYTES, HelloFrame, MessageFrame, ReadFrame, TypingFrame
from parley.orchestrator.dispatch import enqueue_turn
from parley.realtime.events import TypingEvent, conversation_group, inbox_group, send_event_on_commit

HELLO_TIMEOUT_S = 10.0
RATE_LIMIT_MESSAGES = 20
RATE_LIMIT_WINDOW_S = 10.0
CLOSE_PROTOCOL = 4400
CLOSE_ORIGIN = 4403
CLOSE_UNKNOWN_WIDGET = 4404


def _publish_typing(channel: Channel, conversation_id: str, is_typing: bool) -> None:
    send_event_on_commit(
        TypingEvent(
            type="typing",
            tenant_id=str(channel.tenant_id),
            conversation_id=conversation_id,
            sender_type="customer",
            is_typing=is_typing,
        ),
        [inbox_group(channel.tenant_id), conversation_group(conversation_id)],
    )


class WebchatConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    """One browser tab of one visitor."""

    channel: Channel | None = None
    visitor_id: str | None = None
    profile: dict[str, str]
    conversation_id: str | None = None
    conversation_status: str | None = None
    groups_joined: set[str]

    async def connect(self) -> None:
        self.groups_joined = set()
        self.profile = {}
        self.sent_times: deque[float] = deque()
        self.hello_timer: asyncio.Task[None] | None = None
        widget_key = self.scope["url_route"]["kwargs"]["widget_key"]
        self.channel = await database_sync_to_async(service.find_widget)(widget_key)
        await self.accept()
        if self.channel is None:
            await self._error("unknown_widget", "no enabled web-chat widget has this key")
            await self.close(code=CLOSE_UNKNOWN_WIDGET)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in self.scope.get("headers", [])}
        if not service.origin_allowed(self.channel, headers.get("origin")):
            await self._error("origin_not_allowed", "this page's origin is not in the widget's allowed_origins")
            await self.close(code=CLOSE_ORIGIN)
            self.channel = None
            return
        self.hello_timer = asyncio.ensure_future(self._require_hello())

    async def _require_hello(self) -> None:
        await asyncio.sleep(HELLO_TIMEOUT_S)
        if self.visitor_id is None:
            await self.close(code=CLOSE_PROTOCOL)

    async def disconnect(self, code: int) -> None:
        if self.hello_timer is not None:
            self.hello_timer.cancel()
        for group in list(self.groups_joined):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined.clear()

    async def _error(self, code: str, detail: str, client_id: str | None = None) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
        if client_id is not None:
            frame["client_id"] = client_id
        await self.send(text_data=json.dumps(frame))

    async def _send(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame))

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def _follow_conversation(self, conversation_id: str | None) -> None:
        if conversation_id == self.conversation_id:
            return
        if self.conversation_id is not None:
            old = conversation_group(self.conversation_id)
            await self.channel_layer.group_discard(old, self.channel_name)
            self.groups_joined.discard(old)
        self.conversation_id = conversation_id
        if conversation_id is not None:
            await self._join(conversation_group(conversation_id))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.channel is None:
            return
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw.encode()) > MAX_FRAME_BYTES:
            await self._error("frame_too_large", f"frames are limited to {MAX_FRAME_BYTES} bytes")
            return
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            await self._error("invalid_frame", "not JSON")
            return
        if not isinstance(data, dict) or data.get("type") not in FRAME_TYPES:
            await self._error("invalid_frame", f"type must be one of {', '.join(sorted(FRAME_TYPES))}")
            return
        client_id = data.get("client_id") if isinstance(data.get("client_id"), str) else None
        try:
            frame = FRAME_TYPES[data["type"]].model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            await self._error("invalid_frame", f"{where}: {first.get('msg')}", client_id)
            return
        if isinstance(frame, HelloFrame):
            await self._hello(frame)
        elif self.visitor_id is None:
            await self._error("hello_required", 'send {"type": "hello"} first')
        elif isinstance(frame, MessageFrame):
            await self._message(frame)
        elif isinstance(frame, TypingFrame):
            if self.conversation_id is not None:
                await database_sync_to_async(_publish_typing)(self.channel, self.conversation_id, frame.is_typing)
        elif isinstance(frame, ReadFrame):
            try:
                await database_sync_to_async(service.mark_read)(self.channel, self.visitor_id, frame.message_id)
            except service.WebchatError as exc:
                await self._error(exc.code, exc.detail)
        else:
            await self._send({"type": "pong"})

    async def _hello(self, frame: HelloFrame) -> None:
        assert self.channel is not None
        channel = self.channel

        def load() -> tuple[service.Session, list[dict[str, Any]]]:
            session = service.start_session(
                channel, token=frame.visitor_token, name=frame.name, email=frame.email, locale=frame.locale
            )
            return session, service.history(channel, session.visitor_id, after_message_id=frame.after_message_id)

        session, messages = await database_sync_to_async(load)()
        if self.visitor_id is not None and self.visitor_id != session.visitor_id:
            old = service.visitor_group(channel.id, self.visitor_id)
            await self.channel_layer.group_discard(old, self.channel_name)
            self.groups_joined.discard(old)
        self.visitor_id = session.visitor_id
        self.profile = session.profile
        await self._join(service.visitor_group(channel.id, session.visitor_id))
        await self._follow_conversation(str(session.conversation.id) if session.conversation else None)
        self.conversation_status = session.conversation.status if session.conversation else None
        await self._send({"type": "welcome", **session.welcome(channel), "history": messages})

    async def _message(self, frame: MessageFrame) -> None:
        assert self.channel is not None and self.visitor_id is not None
        now = time.monotonic()
        while self.sent_times and now - self.sent_times[0] > RATE_LIMIT_WINDOW_S:
            self.sent_times.popleft()
        if len(self.sent_times) >= RATE_LIMIT_MESSAGES:
            await self._error("rate_limited", "too many messages; retry shortly with the same client_id", frame.client_id)
            return
        self.sent_times.append(now)
        channel, visitor_id, profile = self.channel, self.visitor_id, self.profile

        def store() -> tuple[service.PostedMessage, dict[str, Any]]:
            posted = service.post_message(
                channel,
                visitor_id,
                client_id=frame.client_id,
                text=frame.text,
                button_id=frame.button_id,
                profile=profile,
                enqueue_turn=False,
            )
            return posted, service.visitor_message(posted.message)

        posted, message = await database_sync_to_async(store)()
        self.profile = {}
        try:  # listen to the conversation before its assistant turn starts (a first message opens it)
            await self._follow_conversation(message["conversation_id"])
        finally:  # the stored message gets its turn whatever happened to the subscription
            if posted.turn_pending:
                await database_sync_to_async(enqueue_turn)(posted.message.id)
        await self._send({"type": "ack", **posted.ack(frame.client_id)})
        if not posted.duplicate:
            await self.channel_layer.group_send(
                service.visitor_group(channel.id, visitor_id),
                {"type": "webchat.frame", "frame": {"type": "message", "message": message}},
            )

    async def webchat_frame(self, event: dict[str, Any]) -> None:
        """A frame for this visitor (an outbound message pushed by the connector, an echo)."""
        frame = event["frame"]
        if frame.get("type") == "message":
            await self._follow_conversation(frame["message"]["conversation_id"])
        await self._send(frame)

    async def parley_event(self, event: dict[str, Any]) -> None:
        """Realtime events of the visitor's conversation, translated to protocol frames."""
        payload = event["event"]
        kind = payload.get("type")
        if kind == "typing" and payload.get("sender_type") != "customer":
            await self._send({"type": "typing", "sender_type": payload["sender_type"], "is_typing": payload["is_typing"]})
        elif kind == "conversation.updated" and payload["conversation"]["status"] != self.conversation_status:
            conversation = payload["conversation"]
            self.conversation_status = conversation["status"]
            await self._send({"type": "conversation", "conversation_id": conversation["id"], "status": conversation["status"]})
        elif kind == "message.updated":
            message = payload["message"]
            if message.get("direction") == "outbound" and not message.get("is_private"):
                at = message.get("read_at") or message.get("delivered_at") or message.get("sent_at")
                await self._send(
                    {"type": "delivery", "message_id": message["id"], "delivery_status": message["delivery_status"], "at": at}
                )
