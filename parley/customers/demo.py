"""Demo data of the customers app: a note on a demo customer (idempotent)."""

from __future__ import annotations

from typing import Any

from parley.customers import actions
from parley.customers.models import Customer, CustomerNote

DEMO_NOTE = "Regular customer since 2024; prefers e-mail updates about deliveries."


def seed(tenant: Any) -> None:
    """Add one note to the demo customer Maria Lopez, once."""
    customer = Customer.objects.filter(tenant=tenant, name="Maria Lopez").first()
    if customer is None or CustomerNote.objects.filter(tenant=tenant, customer=customer, text=DEMO_NOTE).exists():
        return
    actions.add_customer_note(customer=customer, text=DEMO_NOTE, author_name="demo-seed")
