"""Small factories for tests: tenants, members, API clients, channels, conversations."""

from __future__ import annotations

import itertools
from typing import Any

from rest_framework.test import APIClient

from parley.accounts import actions as account_actions
from parley.accounts.models import Role, Tenant, User
from parley.connectors.base import InboundMessage
from parley.connectors.models import Channel, ChannelType
from parley.conversations import actions as conversation_actions
from parley.conversations.models import Conversation, Message

_counter = itertools.count(1)


def make_tenant(slug: str | None = None, name: str = "") -> Tenant:
    slug = slug or f"tenant-{next(_counter)}"
    return account_actions.create_tenant(slug=slug, name=name or slug.title())


def make_user(tenant: Tenant, role: str = Role.AGENT, email: str | None = None, password: str = "correct-horse-battery") -> User:
    email = email or f"user{next(_counter)}@{tenant.slug}.test"
    user = account_actions.create_user(email=email, password=password, name=email.split("@")[0])
    account_actions.add_member(tenant=tenant, user=user, role=role)
    return user


def api_client(tenant: Tenant, role: str = Role.OWNER) -> APIClient:
    """An API client authenticated with a fresh key of ``role`` in ``tenant``."""
    issued = account_actions.create_api_key(tenant=tenant, name=f"test-{role}", role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    return client


def make_channel(tenant: Tenant, type: str = ChannelType.WEBCHAT, **kwargs: Any) -> Channel:
    kwargs.setdefault("name", f"{type} {next(_counter)}")
    return Channel.objects.create(tenant=tenant, type=type, **kwargs)


def inbound(
    channel: Channel, text: str = "Hello", sender: str = "customer-1", external_id: str | None = None, **kwargs: Any
) -> Message:
    """Store a customer message through the real action (no assistant turn)."""
    result = conversation_actions.receive_inbound(
        channel=channel,
        inbound=InboundMessage(
            channel_type=channel.type,
            external_id=external_id or f"ext-{next(_counter)}",
            sender_external_id=sender,
            text=text,
            **kwargs,
        ),
        enqueue_turn=False,
    )
    return result.message


def make_conversation(channel: Channel, text: str = "Hello", sender: str | None = None) -> Conversation:
    return inbound(channel, text=text, sender=sender or f"customer-{next(_counter)}").conversation
