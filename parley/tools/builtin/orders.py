"""list_customer_orders and get_order_status: the current customer's orders only."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from parley.commerce.models import Order, OrderStatus
from parley.commerce.queries import customer_order, customer_orders
from parley.tools.base import Tool, ToolContext, ToolFailure, ToolInput, ToolOutput, ToolResult
from parley.tools.registry import register
from parley.tools.texts import say

OrderStatusName = Literal[
    "pending_payment", "paid", "processing", "shipped", "delivered", "cancelled", "partially_refunded", "refunded"
]


class OrderSummary(ToolOutput):
    number: str
    status: str
    placed_at: datetime
    total: Decimal
    currency: str
    item_count: int


class ListOrdersInput(ToolInput):
    limit: int = Field(default=5, ge=1, le=20, description="How many of the most recent orders to return")
    status: OrderStatusName | None = Field(default=None, description="Only orders in this status")


class ListOrdersOutput(ToolOutput):
    orders: list[OrderSummary]


@register
class ListCustomerOrders(Tool):
    name = "list_customer_orders"
    description = "The current customer's most recent orders (number, status, date, total)."
    Input = ListOrdersInput
    Output = ListOrdersOutput

    def run(self, args: ListOrdersInput, context: ToolContext) -> ToolResult:
        orders = customer_orders(tenant=context.tenant, customer=context.customer)
        if args.status:
            orders = orders.filter(status=args.status)
        return self.ok(
            ListOrdersOutput(
                orders=[
                    OrderSummary(
                        number=order.number,
                        status=order.status,
                        placed_at=order.placed_at,
                        total=order.total,
                        currency=order.currency,
                        item_count=sum(item.quantity for item in order.items.all()),
                    )
                    for order in orders[: args.limit]
                ]
            )
        )


class OrderNumberInput(ToolInput):
    order_number: str = Field(min_length=1, max_length=64, description="The order number the customer gave, e.g. 1001")


class OrderLine(ToolOutput):
    name: str
    quantity: int


class OrderStatusOutput(ToolOutput):
    number: str
    status: str
    status_label: str
    placed_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    estimated_delivery: date | None
    carrier: str
    tracking_number: str
    tracking_url: str
    items: list[OrderLine]
    total: Decimal
    refunded_amount: Decimal
    currency: str


def find_order(context: ToolContext, number: str) -> Order:
    """The customer's order ``number``; another customer's order is 'not found' like a missing one."""
    order = customer_order(tenant=context.tenant, customer=context.customer, number=number)
    if order is None:
        raise ToolFailure(say("order_not_found", context.language, number=number), {"found": False})
    return order


@register
class GetOrderStatus(Tool):
    name = "get_order_status"
    description = "Status, shipping and tracking of one of the current customer's orders, by order number."
    Input = OrderNumberInput
    Output = OrderStatusOutput

    def run(self, args: OrderNumberInput, context: ToolContext) -> ToolResult:
        order = find_order(context, args.order_number)
        return self.ok(
            OrderStatusOutput(
                number=order.number,
                status=order.status,
                status_label=OrderStatus(order.status).label,
                placed_at=order.placed_at,
                shipped_at=order.shipped_at,
                delivered_at=order.delivered_at,
                estimated_delivery=order.estimated_delivery,
                carrier=order.carrier,
                tracking_number=order.tracking_number,
                tracking_url=order.tracking_url,
                items=[OrderLine(name=item.name, quantity=item.quantity) for item in order.items.all()],
                total=order.total,
                refunded_amount=order.refunded_amount,
                currency=order.currency,
            )
        )
