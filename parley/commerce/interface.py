"""Dataclasses that cross into commerce: an order as a shop sync (or the demo seed) hands it over."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class OrderLineData:
    name: str
    quantity: int
    unit_price: Decimal
    sku: str = ""


@dataclass(frozen=True)
class OrderData:
    number: str
    status: str
    currency: str
    placed_at: datetime
    lines: list[OrderLineData]
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    estimated_delivery: date | None = None
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    shipping_address: dict[str, str] = field(default_factory=dict)
    source: str = "local"
    external_id: str = ""

    @property
    def total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal("0.00"))
