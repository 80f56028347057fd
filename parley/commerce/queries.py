"""Read helpers that always scope to one tenant AND one customer (what tools are allowed to see)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from parley.commerce.models import Order


def normalise_order_number(raw: str) -> str:
    """``"#1001"``, ``" 1001 "`` and ``"order 1001"`` all mean ``1001``."""
    text = raw.strip().lower().removeprefix("order").strip().lstrip("#").strip()
    return text


def customer_orders(*, tenant: Any, customer: Any) -> QuerySet[Order]:
    """The customer's orders, newest first."""
    return Order.objects.filter(tenant=tenant, customer=customer).prefetch_related("items").order_by("-placed_at")


def customer_order(*, tenant: Any, customer: Any, number: str) -> Order | None:
    """One of the customer's orders by number; another customer's (or tenant's) order is None."""
    return customer_orders(tenant=tenant, customer=customer).filter(number=normalise_order_number(number)).first()
