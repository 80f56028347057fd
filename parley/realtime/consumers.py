"""The live inbox socket: ``/ws/inbox/`` streams the tenant's conversation and message events."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from parley.accounts.roles import ALL_ROLES
from parley.realtime.auth import resolve_socket_auth
from parley.realtime.events import inbox_group

UNAUTHENTICATED_CLOSE_CODE = 4401


class InboxConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Authenticated members receive every event of their tenant's inbox.

    Server → client frames are the typed events of :mod:`parley.realtime.events`, plus a first
    ``{"type": "hello", "tenant_id": ..., "role": ...}``. Client → server: ``{"type": "ping"}``.
    """

    group: str | None = None

    async def connect(self) -> None:
        context = await resolve_socket_auth(self.scope)
        if context is None or context.role not in ALL_ROLES:
            await self.close(code=UNAUTHENTICATED_CLOSE_CODE)
            return
        self.group = inbox_group(context.tenant.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "tenant_id": str(context.tenant.id), "role": context.role})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "detail": 'unknown frame; send {"type": "ping"}'})

    async def parley_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
