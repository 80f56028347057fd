"""An Order of another tenant, for the core API-access test."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from parley.commerce.models import Order


def commerce_area_objects(other: Any, conversation: Any) -> dict[type, Any]:
    order = Order.objects.create(
        tenant=other, customer=conversation.customer, number="G-1", total=Decimal("999.00"), placed_at=timezone.now()
    )
    return {Order: order}
