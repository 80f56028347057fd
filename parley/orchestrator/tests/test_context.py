"""The context a turn gives its responder: the customer's identities, open tickets and orders, and the
conversation's recent public messages within the token budget — only this customer's, only this
conversation's."""

from __future__ import annotations

from typing import Any

import pytest

from parley.conversations import actions as conversation_actions
from parley.conversations.models import SenderType, Ticket, TicketStatus
from parley.orchestrator import context
from parley.orchestrator.context import build_context
from parley.orchestrator.tests.conftest import make_order
from parley.testing import factories


@pytest.mark.django_db
def test_the_context_holds_this_customers_data_and_this_conversations_recent_public_messages(
    tenant: Any,
) -> None:
    channel = factories.make_channel(tenant)
    first = factories.inbound(channel, text="Hi, my blender is broken", sender="ana")
    conversation = first.conversation
    customer = conversation.customer
    conversation_actions.send_outbound(conversation=conversation, text="Sorry to hear that!", sender_type=SenderType.ASSISTANT)
    conversation_actions.send_outbound(
        conversation=conversation, text="internal: check stock", sender_type=SenderType.AGENT, is_private=True
    )
    factories.inbound(channel, text="It was order 7001", sender="ana")
    current = factories.inbound(channel, text="Can I get a refund?", sender="ana")
    factories.inbound(channel, text="Someone else's question", sender="ben")  # another customer's conversation
    make_order(customer, "7001", status="shipped")
    make_order(customer, "7000", status="delivered")  # finished: not an open order
    Ticket.objects.create(tenant=tenant, customer=customer, subject="Broken blender", status=TicketStatus.OPEN)
    Ticket.objects.create(tenant=tenant, customer=customer, subject="Old question", status=TicketStatus.CLOSED)
    other = factories.inbound(channel, text="Hello", sender="ben").conversation.customer
    make_order(other, "9001")
    Ticket.objects.create(tenant=tenant, customer=other, subject="Ben's ticket", status=TicketStatus.OPEN)

    conversation.refresh_from_db()
    bundle = build_context(conversation=conversation, message=current, assistant=None, version=None, language="en")

    assert [(line.role, line.text) for line in bundle.history] == [
        ("customer", "Hi, my blender is broken"),
        ("assistant", "Sorry to hear that!"),
        ("customer", "It was order 7001"),
    ]  # oldest first, before the current message, no private note
    assert bundle.open_orders == [{"number": "7001", "status": "shipped"}]
    assert [(t["subject"], t["status"]) for t in bundle.open_tickets] == [("Broken blender", "open")]
    assert bundle.identities == [{"channel": channel.type, "external_id": "ana"}]

    # the token budget keeps the newest messages that fit
    lines = context.recent_history(conversation, before=current, budget=10)
    assert [line.text for line in lines] == ["Sorry to hear that!", "It was order 7001"]
