"""get_customer_profile: what we know about the customer in this conversation."""

from __future__ import annotations

from datetime import datetime

from parley.commerce.models import Order
from parley.conversations.models import Ticket, TicketStatus
from parley.tools.base import Tool, ToolContext, ToolInput, ToolOutput, ToolResult
from parley.tools.registry import register


class ProfileOutput(ToolOutput):
    name: str
    email: str
    phone: str
    language: str
    customer_since: datetime
    order_count: int
    open_ticket_count: int


@register
class GetCustomerProfile(Tool):
    name = "get_customer_profile"
    description = "The current customer's profile: name, contact details, language, number of orders and open tickets."
    Input = ToolInput
    Output = ProfileOutput

    def run(self, args: ToolInput, context: ToolContext) -> ToolResult:
        customer = context.customer
        return self.ok(
            ProfileOutput(
                name=customer.name,
                email=customer.email,
                phone=customer.phone,
                language=customer.language,
                customer_since=customer.created_at,
                order_count=Order.objects.filter(tenant=context.tenant, customer=customer).count(),
                open_ticket_count=Ticket.objects.filter(
                    tenant=context.tenant, customer=customer, status__in=[TicketStatus.OPEN, TicketStatus.PENDING]
                ).count(),
            )
        )
