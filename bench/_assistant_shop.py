"""A throw-away demo shop for the assistant benches: a fresh tenant with the demo help centre, the demo
assistant, one online agent, a web-chat channel, and helpers to talk to it through the real pipeline."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any


def make_shop(prefix: str, **assistant_changes: Any) -> dict[str, Any]:
    """Create the shop; ``assistant_changes`` are applied to the demo assistant (e.g. a fake LLM)."""
    from parley.accounts import actions as accounts
    from parley.assistants import demo as assistant_demo
    from parley.assistants.actions import update_assistant
    from parley.assistants.models import Assistant
    from parley.connectors.models import Channel
    from parley.knowledge import demo as knowledge_demo

    slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
    tenant = accounts.create_tenant(slug=slug, name="Bench Shop")
    agent = accounts.create_user(email=f"agent@{slug}.bench", password=None, name="Bench Agent")
    accounts.add_member(tenant=tenant, user=agent, role="agent")
    channel = Channel.objects.create(tenant=tenant, type="webchat", name="Website chat", key=f"{slug}-widget")
    knowledge_demo.seed(tenant)
    assistant_demo.seed(tenant)
    assistant = Assistant.objects.get(tenant=tenant)
    if assistant_changes:
        assistant = update_assistant(assistant=assistant, data=assistant_changes, actor="bench")
    return {"tenant": tenant, "channel": channel, "assistant": assistant, "agent": agent}


def store_inbound(channel: Any, visitor: str, text: str, button_id: str = "", *, enqueue_turn: bool = False) -> Any:
    """Store a customer message the way a connector does (``enqueue_turn``: and hand it to the assistant
    on commit, as a connector does); returns the ReceiveResult."""
    from parley.connectors.base import InboundMessage
    from parley.conversations.actions import receive_inbound

    return receive_inbound(
        channel=channel,
        inbound=InboundMessage(
            channel_type="webchat",
            external_id=f"b-{uuid.uuid4().hex}",
            sender_external_id=visitor,
            text=text,
            button_id=button_id,
        ),
        enqueue_turn=enqueue_turn,
    )


def replies_to(message: Any) -> list[Any]:
    from parley.conversations.models import Message, SenderType

    return list(
        Message.objects.filter(
            conversation_id=message.conversation_id, sender_type=SenderType.ASSISTANT, metadata__turn_message_id=str(message.id)
        ).order_by("created_at")
    )


def customer_for(channel: Any, visitor: str) -> Any:
    """The web-chat visitor's customer record (created if new), e.g. to give them an order first."""
    from parley.conversations.actions import resolve_customer

    return resolve_customer(tenant=channel.tenant, channel_type=channel.type, external_id=visitor)


def make_order(customer: Any, number: str, total: str = "29.90", status: str = "shipped") -> Any:
    from django.utils import timezone

    from parley.commerce.models import Order, OrderItem

    order = Order.objects.create(
        tenant_id=customer.tenant_id,
        customer=customer,
        number=number,
        status=status,
        total=Decimal(total),
        currency="EUR",
        placed_at=timezone.now() - timedelta(days=4),
        shipped_at=timezone.now() - timedelta(days=2),
        carrier="DHL",
        tracking_number=f"JD{number}",
    )
    OrderItem.objects.create(
        tenant_id=customer.tenant_id, order=order, name="Linen tea towel", quantity=1, unit_price=Decimal(total)
    )
    return order
