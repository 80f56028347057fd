"""State changes for channels."""

from __future__ import annotations

from typing import Any

from parley.accounts.models import Tenant
from parley.audit.actions import record_audit_event
from parley.connectors.models import Channel


def create_channel(*, tenant: Tenant, data: dict[str, Any], actor: str) -> Channel:
    """Connect a channel."""
    channel = Channel.objects.create(tenant=tenant, **data)
    record_audit_event(
        tenant=tenant, actor=actor, action="channel.created", target=channel, data={"type": channel.type, "name": channel.name}
    )
    return channel


def update_channel(*, channel: Channel, data: dict[str, Any], actor: str) -> Channel:
    """Change a channel; credentials given are merged into the stored ones."""
    credentials = data.pop("credentials", None)
    for key, value in data.items():
        setattr(channel, key, value)
    if credentials:
        stored: Any = channel.credentials or {}
        channel.credentials = {**stored, **credentials}  # type: ignore[assignment]  # encrypted JSON, typed as text by the stubs
    channel.save()
    record_audit_event(
        tenant=channel.tenant,
        actor=actor,
        action="channel.updated",
        target=channel,
        data={"fields": sorted(data), "credentials_changed": sorted(credentials or {})},
    )
    return channel


def disable_channel(*, channel: Channel, actor: str) -> Channel:
    """Disconnect a channel (kept for history; conversations keep pointing at it)."""
    channel.enabled = False
    channel.save(update_fields=["enabled", "updated_at"])
    record_audit_event(tenant=channel.tenant, actor=actor, action="channel.disabled", target=channel)
    return channel
