"""refund_order and create_payment_intent: they only ever propose; money moves after confirmation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field

from parley.commerce.actions import check_refund, create_payment_intent, refund_order
from parley.commerce.models import OrderStatus
from parley.core.errors import DomainError
from parley.tools.base import Proposal, Tool, ToolContext, ToolFailure, ToolInput, ToolOutput, ToolResult
from parley.tools.builtin.orders import find_order
from parley.tools.registry import register
from parley.tools.texts import say


class RefundInput(ToolInput):
    order_number: str = Field(min_length=1, max_length=64, description="The order to refund")
    amount: Decimal | None = Field(
        default=None, gt=0, max_digits=12, decimal_places=2, description="Partial amount; omit for the full remaining amount"
    )
    reason: str = Field(min_length=3, max_length=500, description="Why the customer wants a refund")


class RefundOutput(ToolOutput):
    order_number: str
    refunded: Decimal
    currency: str
    order_status: str
    reference: str


@register
class RefundOrder(Tool):
    name = "refund_order"
    description = (
        "Refund one of the current customer's orders (fully or partly). The customer must confirm before anything happens; "
        "large amounts also need a team member's approval."
    )
    Input = RefundInput
    Output = RefundOutput
    requires_confirmation = True

    def prepare(self, args: RefundInput, context: ToolContext) -> Proposal:
        order = find_order(context, args.order_number)
        try:
            amount = check_refund(order, args.amount)
        except DomainError as exc:
            raise ToolFailure(exc.message) from exc
        return Proposal(
            summary=say("refund_summary", context.language, amount=amount, currency=order.currency, number=order.number),
            amount=amount,
            currency=order.currency,
            arguments={"order_number": order.number, "amount": str(amount), "reason": args.reason},
        )

    def commit(self, arguments: dict[str, Any], context: ToolContext, *, idempotency_key: str) -> ToolResult:
        order = find_order(context, str(arguments["order_number"]))
        refund = refund_order(
            order=order,
            amount=Decimal(str(arguments["amount"])),
            reason=str(arguments.get("reason", "")),
            actor=context.actor,
            idempotency_key=idempotency_key,
        )
        order.refresh_from_db()
        return self.ok(
            RefundOutput(
                order_number=order.number,
                refunded=refund.amount,
                currency=refund.currency,
                order_status=order.status,
                reference=refund.provider_ref,
            ),
            message=say(
                "refund_done",
                context.language,
                amount=refund.amount,
                currency=refund.currency,
                number=order.number,
                reference=refund.provider_ref,
            ),
        )


class PaymentInput(ToolInput):
    order_number: str = Field(min_length=1, max_length=64, description="The unpaid order the customer wants to pay")


class PaymentOutput(ToolOutput):
    order_number: str
    amount: Decimal
    currency: str
    payment_url: str


@register
class CreatePaymentIntent(Tool):
    name = "create_payment_intent"
    description = "Create a secure payment link for one of the current customer's unpaid orders. The customer must confirm first."
    Input = PaymentInput
    Output = PaymentOutput
    requires_confirmation = True

    def prepare(self, args: PaymentInput, context: ToolContext) -> Proposal:
        order = find_order(context, args.order_number)
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise ToolFailure(f"Order #{order.number} does not need a payment (it is {OrderStatus(order.status).label.lower()}).")
        return Proposal(
            summary=say("payment_summary", context.language, amount=order.total, currency=order.currency, number=order.number),
            amount=order.total,
            currency=order.currency,
            arguments={"order_number": order.number},
        )

    def commit(self, arguments: dict[str, Any], context: ToolContext, *, idempotency_key: str) -> ToolResult:
        order = find_order(context, str(arguments["order_number"]))
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise ToolFailure(f"Order #{order.number} no longer needs a payment.")
        intent = create_payment_intent(
            tenant=context.tenant,
            customer=context.customer,
            order=order,
            amount=order.total,
            currency=order.currency,
            description=f"Order #{order.number}",
            actor=context.actor,
            idempotency_key=idempotency_key,
        )
        return self.ok(
            PaymentOutput(
                order_number=order.number, amount=intent.amount, currency=intent.currency, payment_url=intent.payment_url
            ),
            message=say(
                "payment_link",
                context.language,
                number=order.number,
                amount=intent.amount,
                currency=intent.currency,
                url=intent.payment_url,
            ),
        )
