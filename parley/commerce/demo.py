"""Demo orders for the demo shop's web-chat visitors (idempotent).

Maria (``visitor-1``) asks where order #1001 is: it shipped and is a day late. Priya (``visitor-3``)
wants a refund for #1002 (a broken mug, under the approval limit, so her confirmation is enough).
Maria also has an unpaid order #1004 (payment link demo) and a large delivered order #1005 whose refund
would need an agent's approval.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from parley.commerce.actions import upsert_order
from parley.commerce.interface import OrderData, OrderLineData
from parley.commerce.models import Order, OrderStatus
from parley.customers.models import CustomerIdentity

ADDRESS = {"line1": "Hauptstrasse 1", "city": "Berlin", "postcode": "10115", "country": "DE"}


def _orders() -> dict[str, list[OrderData]]:
    now = timezone.now()
    today = now.date()
    return {
        "visitor-1": [
            OrderData(
                number="1001",
                status="shipped",
                currency="EUR",
                placed_at=now - timedelta(days=5),
                shipped_at=now - timedelta(days=4),
                estimated_delivery=today - timedelta(days=1),
                carrier="DHL",
                tracking_number="JD014600006281230",
                tracking_url="https://www.dhl.de/en/privatkunden/pakete-empfangen/verfolgen.html?piececode=JD014600006281230",
                shipping_address=ADDRESS,
                lines=[OrderLineData(name="Linen tea towel set", quantity=2, unit_price=Decimal("14.95"), sku="TT-LIN-2")],
            ),
            OrderData(
                number="1004",
                status="pending_payment",
                currency="EUR",
                placed_at=now - timedelta(hours=3),
                shipping_address=ADDRESS,
                lines=[OrderLineData(name="Stoneware dinner plate", quantity=4, unit_price=Decimal("12.50"), sku="PL-STW-1")],
            ),
            OrderData(
                number="1005",
                status="delivered",
                currency="EUR",
                placed_at=now - timedelta(days=20),
                shipped_at=now - timedelta(days=19),
                delivered_at=now - timedelta(days=16),
                carrier="DPD",
                tracking_number="01234567890123",
                shipping_address=ADDRESS,
                lines=[
                    OrderLineData(name="Cast-iron casserole 28 cm", quantity=1, unit_price=Decimal("189.00"), sku="CI-CAS-28")
                ],
            ),
        ],
        "visitor-3": [
            OrderData(
                number="1002",
                status="delivered",
                currency="EUR",
                placed_at=now - timedelta(days=8),
                shipped_at=now - timedelta(days=7),
                delivered_at=now - timedelta(days=2),
                carrier="DHL",
                tracking_number="JD014600006281999",
                shipping_address={"line1": "Rue de Rivoli 10", "city": "Paris", "postcode": "75001", "country": "FR"},
                lines=[OrderLineData(name="Hand-glazed mug", quantity=2, unit_price=Decimal("17.45"), sku="MG-HG-1")],
            )
        ],
    }


def seed(tenant: Any) -> None:
    """Give the demo visitors their orders; orders already there are refreshed, never duplicated.

    An order a demo user already refunded keeps its refund (the seed does not reset money movements).
    """
    for visitor, orders in _orders().items():
        identity = (
            CustomerIdentity.objects.filter(tenant=tenant, channel_type="webchat", external_id=visitor)
            .select_related("customer")
            .first()
        )
        if identity is None:
            continue
        for data in orders:
            existing = Order.objects.filter(tenant=tenant, number=data.number).first()
            if existing is not None and existing.status in (
                OrderStatus.REFUNDED,
                OrderStatus.PARTIALLY_REFUNDED,
                OrderStatus.PAID,
            ):
                continue
            upsert_order(tenant=tenant, customer=identity.customer, data=data)
