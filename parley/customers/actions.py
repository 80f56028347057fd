"""State changes for customers."""

from __future__ import annotations

from typing import Any

from parley.accounts.models import Tenant
from parley.customers.models import Customer


def create_customer(*, tenant: Tenant, data: dict[str, Any]) -> Customer:
    """Create a customer record (identities are added when they write on a channel)."""
    return Customer.objects.create(tenant=tenant, **data)


def update_customer(*, customer: Customer, data: dict[str, Any]) -> Customer:
    """Change a customer's profile fields."""
    for key, value in data.items():
        setattr(customer, key, value)
    customer.save()
    return customer
