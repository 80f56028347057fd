"""Commerce actions on the real database: refunds and payment links through the test provider, demo orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from parley.audit.models import AuditEvent
from parley.commerce import demo
from parley.commerce.actions import create_payment_intent, refund_order, upsert_order
from parley.commerce.interface import OrderData, OrderLineData
from parley.commerce.models import Order, OrderStatus, PaymentIntent, Transaction
from parley.commerce.payments import PaymentError, TestPaymentProvider, provider_for
from parley.commerce.queries import customer_order, normalise_order_number
from parley.core.errors import DomainError
from parley.testing import factories


def order_data(number: str = "1001", status: str = "delivered", price: str = "24.95", quantity: int = 2) -> OrderData:
    return OrderData(
        number=number,
        status=status,
        currency="eur",
        placed_at=timezone.now() - timedelta(days=3),
        lines=[OrderLineData(name="Mug", quantity=quantity, unit_price=Decimal(price))],
    )


@pytest.fixture
def customer(channel: Any) -> Any:
    return factories.make_conversation(channel, sender="shopper").customer


@pytest.mark.django_db
def test_upsert_order_is_idempotent_and_records_the_charge(customer: Any, tenant: Any) -> None:
    order = upsert_order(tenant=tenant, customer=customer, data=order_data())
    again = upsert_order(tenant=tenant, customer=customer, data=order_data(quantity=3))
    assert again.pk == order.pk and Order.objects.count() == 1
    assert again.total == Decimal("74.85") and again.currency == "EUR" and again.items.get().quantity == 3
    assert Transaction.objects.filter(kind="charge").count() == 1
    upsert_order(tenant=tenant, customer=customer, data=order_data("1009", status="pending_payment"))
    assert Transaction.objects.filter(kind="charge").count() == 1  # an unpaid order has no charge


@pytest.mark.django_db
def test_refund_is_idempotent_and_audited(customer: Any, tenant: Any) -> None:
    order = upsert_order(tenant=tenant, customer=customer, data=order_data())
    first = refund_order(order=order, amount=Decimal("10"), reason="chipped", actor="agent@acme.test", idempotency_key="k1")
    second = refund_order(order=order, amount=Decimal("10"), reason="chipped", actor="agent@acme.test", idempotency_key="k1")
    assert first.pk == second.pk and first.provider_ref.startswith("test_re_")
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("10.00") and order.status == OrderStatus.PARTIALLY_REFUNDED
    rest = refund_order(order=order, amount=None, reason="all broken", actor="agent@acme.test", idempotency_key="k2")
    order.refresh_from_db()
    assert rest.amount == Decimal("39.90") and order.status == OrderStatus.REFUNDED
    with pytest.raises(DomainError, match="cannot be refunded"):
        refund_order(order=order, amount=None, reason="again", actor="x", idempotency_key="k3")
    assert AuditEvent.objects.filter(action="commerce.order_refunded").count() == 2


@pytest.mark.django_db
def test_refund_rules(customer: Any, tenant: Any) -> None:
    unpaid = upsert_order(tenant=tenant, customer=customer, data=order_data("2001", status="pending_payment"))
    with pytest.raises(DomainError):
        refund_order(order=unpaid, amount=None, reason="x", actor="x", idempotency_key="a")
    order = upsert_order(tenant=tenant, customer=customer, data=order_data("2002", price="333.33"))
    with pytest.raises(DomainError, match=r"at most 666\.66"):
        refund_order(order=order, amount=Decimal("700"), reason="x", actor="x", idempotency_key="b")
    with pytest.raises(DomainError, match="declined"):  # the test provider's magic decline amount
        refund_order(order=order, amount=Decimal("666.66"), reason="x", actor="x", idempotency_key="c")
    order.refresh_from_db()
    assert order.refunded_amount == 0 and not Transaction.objects.filter(kind="refund").exists()


@pytest.mark.django_db
def test_payment_intent_through_test_provider(customer: Any, tenant: Any) -> None:
    order = upsert_order(tenant=tenant, customer=customer, data=order_data("3001", status="pending_payment"))
    intent = create_payment_intent(
        tenant=tenant,
        customer=customer,
        order=order,
        amount=order.total,
        currency="EUR",
        description="Order #3001",
        actor="x",
        idempotency_key="p1",
    )
    assert intent.payment_url.endswith(intent.provider_ref) and intent.status == "requires_payment"
    same = create_payment_intent(
        tenant=tenant,
        customer=customer,
        order=order,
        amount=order.total,
        currency="EUR",
        description="Order #3001",
        actor="x",
        idempotency_key="p1",
    )
    assert same.pk == intent.pk and PaymentIntent.objects.count() == 1
    with pytest.raises(DomainError):
        create_payment_intent(
            tenant=tenant, customer=customer, amount=Decimal("0"), currency="EUR", description="", actor="x", idempotency_key="p2"
        )


def test_test_provider_is_deterministic() -> None:
    provider = TestPaymentProvider()
    one = provider.refund(charge_ref="ch", amount=Decimal("5"), currency="EUR", idempotency_key="same")
    two = provider.refund(charge_ref="ch", amount=Decimal("5"), currency="EUR", idempotency_key="same")
    assert one == two
    with pytest.raises(PaymentError):
        provider.create_payment(amount=Decimal("-1"), currency="EUR", description="", idempotency_key="x")


@pytest.mark.django_db
def test_unknown_provider_is_a_clear_error(tenant: Any) -> None:
    tenant.settings = {"payment_provider": "stripe"}
    with pytest.raises(PaymentError, match="not installed"):
        provider_for(tenant)


@pytest.mark.django_db
def test_customer_scoped_lookup(customer: Any, tenant: Any, channel: Any) -> None:
    upsert_order(tenant=tenant, customer=customer, data=order_data("4001"))
    stranger = factories.make_conversation(channel, sender="stranger").customer
    assert customer_order(tenant=tenant, customer=customer, number="#4001") is not None
    assert customer_order(tenant=tenant, customer=stranger, number="4001") is None
    assert normalise_order_number(" Order #4001 ") == "4001"


@pytest.mark.django_db
def test_demo_orders_for_demo_visitors(tenant: Any, channel: Any) -> None:
    maria = factories.make_conversation(channel, sender="visitor-1").customer
    priya = factories.make_conversation(channel, sender="visitor-3").customer
    demo.seed(tenant)
    demo.seed(tenant)
    assert sorted(Order.objects.filter(customer=maria).values_list("number", flat=True)) == ["1001", "1004", "1005"]
    mug = Order.objects.get(customer=priya)
    assert mug.number == "1002" and mug.total == Decimal("34.90") and mug.status == OrderStatus.DELIVERED
    refund_order(order=mug, amount=None, reason="broken", actor="x", idempotency_key="demo")
    demo.seed(tenant)
    mug.refresh_from_db()
    assert mug.status == OrderStatus.REFUNDED  # reseeding keeps what happened
    assert Order.objects.count() == 4


@pytest.mark.django_db
def test_orders_api_for_the_inbox(customer: Any, tenant: Any) -> None:
    order = upsert_order(tenant=tenant, customer=customer, data=order_data("5001"))
    refund_order(order=order, amount=Decimal("5"), reason="dent", actor="agent@acme.test", idempotency_key="r")
    agent = factories.api_client(tenant, "agent")
    rows = agent.get(f"/api/v1/orders/?customer={customer.pk}").json()["results"]
    assert [row["number"] for row in rows] == ["5001"]
    assert rows[0]["items"][0]["name"] == "Mug" and {t["kind"] for t in rows[0]["transactions"]} == {"charge", "refund"}
    assert factories.api_client(tenant, "analyst").get("/api/v1/orders/").status_code == 403
    assert factories.api_client(tenant, "owner").post("/api/v1/orders/", {"number": "x"}, format="json").status_code == 405
