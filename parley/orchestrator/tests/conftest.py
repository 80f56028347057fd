"""Helpers for orchestrator tests: an assistant, an online agent, orders and a small knowledge base."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from parley.assistants.actions import create_assistant
from parley.testing import factories

REFUND_POLICY = (
    "# Returns and refunds\n\n"
    "You can return any item within 30 days of delivery for a full refund. "
    "Once we receive the item, the refund reaches your original payment method within 5 business days.\n"
)
SHIPPING = "# Shipping\n\nStandard shipping inside the EU takes 3 to 5 business days. Express shipping takes 1 business day.\n"


def make_assistant(tenant: Any, **data: Any) -> Any:
    values: dict[str, Any] = {
        "name": "Ava",
        "is_default": True,
        "languages": ["en", "es", "de", "fr"],
        "allowed_tools": ["get_order_status", "refund_order", "list_customer_orders"],
        "persona": "Friendly and brief.",
        "instructions": "Help with orders and refunds.",
    }
    values.update(data)
    return create_assistant(tenant=tenant, data=values, actor="test")


def online_agent(tenant: Any, *, capacity: int = 3, languages: list[str] | None = None, role: str = "agent") -> Any:
    from parley.handover.actions import ensure_profile, update_agent

    user = factories.make_user(tenant, role)
    profile = ensure_profile(tenant=tenant, user=user)
    update_agent(profile=profile, changes={"status": "online", "capacity": capacity, "languages": languages or []}, actor="test")
    return user


def make_order(customer: Any, number: str, total: str = "49.90", status: str = "shipped") -> Any:
    from parley.commerce.models import Order, OrderItem

    order = Order.objects.create(
        tenant_id=customer.tenant_id,
        customer=customer,
        number=number,
        status=status,
        total=Decimal(total),
        currency="EUR",
        placed_at=timezone.now() - timedelta(days=3),
        shipped_at=timezone.now() - timedelta(days=1),
        carrier="DHL",
        tracking_number=f"TRK{number}",
    )
    OrderItem.objects.create(tenant_id=customer.tenant_id, order=order, name="Ceramic mug", quantity=1, unit_price=Decimal(total))
    return order


def add_knowledge(tenant: Any, documents: list[tuple[str, str]]) -> None:
    """Index ``(title, markdown)`` documents synchronously through the knowledge app's actions."""
    from parley.knowledge import actions as knowledge

    source = knowledge.create_source(tenant=tenant, data={"name": "Help center", "kind": "upload"}, sync=False)
    for title, text in documents:
        result = knowledge.add_text_document(source=source, title=title, text=text, enqueue=False)
        knowledge.index_document(document_id=result.document.pk)


@pytest.fixture
def shop(tenant: Any) -> dict[str, Any]:
    """A tenant with an assistant, a web-chat channel and a knowledge base about refunds and shipping."""
    assistant = make_assistant(tenant)
    add_knowledge(tenant, [("Returns and refunds", REFUND_POLICY), ("Shipping", SHIPPING)])
    return {"tenant": tenant, "assistant": assistant, "channel": factories.make_channel(tenant)}


from parley.testing.fake_llm import fake_llm_fixture  # noqa: E402

fake_llm = pytest.fixture(fake_llm_fixture)
second_llm = pytest.fixture(fake_llm_fixture)


def llm_settings(*servers: Any, timeout_s: float = 10.0) -> dict[str, Any]:
    """An assistant ``llm`` block pointing at fake servers (first primary, the rest fallbacks)."""
    return {
        "backends": [
            {"name": f"fake-{index}", "base_url": server.url, "model": "fake-model", "timeout_s": timeout_s, "max_retries": 0}
            for index, server in enumerate(servers)
        ],
        "timeout_s": timeout_s,
    }
