"""The live inbox socket: ``/ws/inbox/`` streams the tenant's conversation and message events."""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from pydantic import BaseModel, ConfigDict, ValidationError

from parley.accounts.authentication import AuthContext
from parley.accounts.roles import ALL_ROLES, SUPPORT
from parley.realtime.auth import resolve_socket_auth
from parley.realtime.events import inbox_group
from parley.realtime.typing import publish_typing

UNAUTHENTICATED_CLOSE_CODE = 4401
# A client that sends "typing" more often than this per conversation is ignored in between.
TYPING_MIN_INTERVAL_S = 1.0


class AgentTypingFrame(BaseModel):
    """``{"type": "typing", "conversation_id": ..., "is_typing": true}`` from the inbox composer."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["typing"]
    conversation_id: uuid.UUID
    is_typing: bool


def _conversation_in_tenant(tenant_id: Any, conversation_id: uuid.UUID) -> bool:
    from parley.conversations.models import Conversation

    return Conversation.objects.filter(tenant_id=tenant_id, pk=conversation_id).exists()


def _publish_agent_typing(context: AuthContext, conversation_id: uuid.UUID, is_typing: bool) -> bool:
    if not _conversation_in_tenant(context.tenant.id, conversation_id):
        return False
    name = ""
    if context.user is not None:
        name = getattr(context.user, "name", "") or context.user.email
    publish_typing(
        tenant_id=context.tenant.id, conversation_id=conversation_id, sender_type="agent", is_typing=is_typing, sender_name=name
    )
    return True


class InboxConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Authenticated members receive every event of their tenant's inbox.

    Server → client frames are the typed events of :mod:`parley.realtime.events`, plus a first
    ``{"type": "hello", "tenant_id": ..., "role": ...}``. Client → server: ``{"type": "ping"}`` and,
    for members who may reply, ``{"type": "typing", "conversation_id": ..., "is_typing": bool}``
    (shown to the web-chat visitor and the other agents).
    """

    group: str | None = None
    context: AuthContext | None = None

    async def connect(self) -> None:
        context = await resolve_socket_auth(self.scope)
        if context is None or context.role not in ALL_ROLES:
            await self.close(code=UNAUTHENTICATED_CLOSE_CODE)
            return
        self.context = context
        self.typing_sent: dict[uuid.UUID, tuple[bool, float]] = {}
        self.group = inbox_group(context.tenant.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "tenant_id": str(context.tenant.id), "role": context.role})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "typing":
            await self._typing(content)
        else:
            await self.send_json({"type": "error", "detail": 'unknown frame; send {"type": "ping"} or {"type": "typing", ...}'})

    async def _typing(self, content: dict[str, Any]) -> None:
        assert self.context is not None
        try:
            frame = AgentTypingFrame.model_validate(content)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            await self.send_json({"type": "error", "detail": f"{where}: {first.get('msg')}"})
            return
        if self.context.role not in SUPPORT:
            await self.send_json({"type": "error", "detail": "your role cannot reply to conversations"})
            return
        now = time.monotonic()
        previous = self.typing_sent.get(frame.conversation_id)
        if previous is not None and previous[0] == frame.is_typing and now - previous[1] < TYPING_MIN_INTERVAL_S:
            return
        if not await database_sync_to_async(_publish_agent_typing)(self.context, frame.conversation_id, frame.is_typing):
            await self.send_json({"type": "error", "detail": "no such conversation"})
            return
        self.typing_sent[frame.conversation_id] = (frame.is_typing, now)

    async def parley_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
