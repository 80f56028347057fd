from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from parley.commerce.models import Order, OrderItem, OrderStatus
from parley.testing import factories
from parley.tools.base import ToolContext
from parley.tools.registry import all_tools


def make_order(customer: Any, number: str, total: str = "49.90", status: str = OrderStatus.SHIPPED, **kwargs: Any) -> Order:
    order = Order.objects.create(
        tenant_id=customer.tenant_id,
        customer=customer,
        number=number,
        status=status,
        total=Decimal(total),
        currency="EUR",
        placed_at=timezone.now() - timedelta(days=3),
        carrier=kwargs.pop("carrier", "DHL"),
        tracking_number=kwargs.pop("tracking_number", f"TRK{number}"),
        **kwargs,
    )
    OrderItem.objects.create(
        tenant_id=customer.tenant_id, order=order, name="Ceramic mug", quantity=2, unit_price=Decimal(total) / 2
    )
    return order


def context_for(conversation: Any, allowed: set[str] | None = None) -> ToolContext:
    return ToolContext(
        tenant=conversation.tenant,
        customer=conversation.customer,
        conversation=conversation,
        assistant_id="assistant-1",
        allowed_tools=set(all_tools()) if allowed is None else allowed,
        actor="assistant:assistant-1",
    )


@pytest.fixture
def maria(channel: Any) -> Any:
    """A conversation with Maria, who has orders 1001 (shipped) and 1003 (unpaid)."""
    conversation = factories.make_conversation(channel, "Where is my order #1001?", sender="visitor-1")
    make_order(conversation.customer, "1001")
    make_order(conversation.customer, "1003", total="250.00", status=OrderStatus.PENDING_PAYMENT)
    return conversation


@pytest.fixture
def priya(channel: Any) -> Any:
    """Another customer of the same tenant, with order 1002 (delivered, 180.00)."""
    conversation = factories.make_conversation(channel, "I want a refund for order #1002", sender="visitor-3")
    make_order(conversation.customer, "1002", total="180.00", status=OrderStatus.DELIVERED)
    return conversation


from parley.testing.fake_llm import fake_llm_fixture  # noqa: E402

fake_llm = pytest.fixture(fake_llm_fixture)
