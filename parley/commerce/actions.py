"""State changes of commerce: refunds and payment requests, through the tenant's payment provider."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import structlog
from django.db import transaction

from parley.audit.actions import record_audit_event
from parley.commerce.interface import OrderData
from parley.commerce.models import (
    REFUNDABLE_STATUSES,
    Order,
    OrderItem,
    OrderStatus,
    PaymentIntent,
    Transaction,
    TransactionKind,
)
from parley.commerce.payments import PaymentError, provider_for
from parley.core.errors import DomainError, ErrorCode

log = structlog.get_logger(__name__)

CENT = Decimal("0.01")


def check_refund(order: Order, amount: Decimal | None) -> Decimal:
    """The amount a refund of ``order`` would return (the rest of the order when ``amount`` is None).

    Raises:
        DomainError: the order cannot be refunded, or not by that much.
    """
    if order.status not in REFUNDABLE_STATUSES:
        raise DomainError(f"order #{order.number} is {order.get_status_display().lower()} and cannot be refunded")
    refundable = order.refundable_amount
    value = refundable if amount is None else Decimal(amount).quantize(CENT)
    if value <= 0:
        raise DomainError("a refund must be more than zero")
    if value > refundable:
        raise DomainError(f"at most {refundable} {order.currency} of order #{order.number} can still be refunded")
    return value


def refund_order(*, order: Order, amount: Decimal | None, reason: str, actor: str, idempotency_key: str) -> Transaction:
    """Refund (part of) an order through the tenant's provider; idempotent on ``idempotency_key``.

    Marks the order ``refunded`` (or ``partially_refunded``), stores a refund :class:`Transaction` and an
    audit event.

    Raises:
        DomainError: not refundable, amount too high, or the provider declined.
    """
    with transaction.atomic():
        existing = Transaction.objects.filter(tenant_id=order.tenant_id, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        order = Order.objects.select_for_update().select_related("tenant").get(pk=order.pk)
        value = check_refund(order, amount)
        charge = order.transactions.filter(kind=TransactionKind.CHARGE).order_by("created_at").first()
        provider = provider_for(order.tenant)
        try:
            result = provider.refund(
                charge_ref=charge.provider_ref if charge else f"order:{order.number}",
                amount=value,
                currency=order.currency,
                idempotency_key=idempotency_key,
            )
        except PaymentError as exc:
            raise DomainError(str(exc), code=ErrorCode.CONFLICT, status_code=409) from exc
        refund = Transaction.objects.create(
            tenant_id=order.tenant_id,
            order=order,
            kind=TransactionKind.REFUND,
            amount=value,
            currency=order.currency,
            status=result.status,
            provider=provider.name,
            provider_ref=result.provider_ref,
            reason=reason[:500],
            idempotency_key=idempotency_key,
            created_by=actor,
        )
        order.refunded_amount = order.refunded_amount + value
        order.status = OrderStatus.REFUNDED if order.refunded_amount >= order.total else OrderStatus.PARTIALLY_REFUNDED
        order.save(update_fields=["refunded_amount", "status", "updated_at"])
        record_audit_event(
            action="commerce.order_refunded",
            actor=actor,
            tenant=order.tenant,
            target=order,
            data={"amount": str(value), "currency": order.currency, "reason": reason[:500], "provider_ref": result.provider_ref},
        )
    log.info("order_refunded", order=order.number, amount=str(value), actor=actor)
    return refund


def create_payment_intent(
    *,
    tenant: Any,
    customer: Any,
    amount: Decimal,
    currency: str,
    description: str,
    actor: str,
    idempotency_key: str,
    order: Order | None = None,
) -> PaymentIntent:
    """Ask the provider for a payment link; idempotent on ``idempotency_key``.

    Raises:
        DomainError: a non-positive amount, or the provider declined.
    """
    value = Decimal(amount).quantize(CENT)
    if value <= 0:
        raise DomainError("a payment must be more than zero")
    with transaction.atomic():
        existing = PaymentIntent.objects.filter(tenant=tenant, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        provider = provider_for(tenant)
        try:
            result = provider.create_payment(
                amount=value, currency=currency, description=description, idempotency_key=idempotency_key
            )
        except PaymentError as exc:
            raise DomainError(str(exc), code=ErrorCode.CONFLICT, status_code=409) from exc
        intent = PaymentIntent.objects.create(
            tenant=tenant,
            customer=customer,
            order=order,
            amount=value,
            currency=currency.upper(),
            description=description[:300],
            status=result.status,
            provider=provider.name,
            provider_ref=result.provider_ref,
            payment_url=result.payment_url,
            idempotency_key=idempotency_key,
        )
        record_audit_event(
            action="commerce.payment_requested",
            actor=actor,
            tenant=tenant,
            target=intent,
            data={"amount": str(value), "currency": currency.upper(), "order": order.number if order else None},
        )
    return intent


def upsert_order(*, tenant: Any, customer: Any, data: OrderData) -> Order:
    """Create or update an order (from a shop sync or the demo seed), replacing its lines.

    A paid order gets its charge :class:`Transaction` once (idempotent on the order number), so later
    refunds have a charge to refer to.
    """
    fields = {
        "customer": customer,
        "status": data.status,
        "currency": data.currency.upper(),
        "total": data.total,
        "placed_at": data.placed_at,
        "shipped_at": data.shipped_at,
        "delivered_at": data.delivered_at,
        "estimated_delivery": data.estimated_delivery,
        "carrier": data.carrier,
        "tracking_number": data.tracking_number,
        "tracking_url": data.tracking_url,
        "shipping_address": data.shipping_address,
        "source": data.source,
        "external_id": data.external_id,
    }
    with transaction.atomic():
        order, _ = Order.objects.update_or_create(tenant=tenant, number=data.number, defaults=fields)
        order.items.all().delete()
        OrderItem.objects.bulk_create(
            [
                OrderItem(
                    tenant=tenant, order=order, sku=line.sku, name=line.name, quantity=line.quantity, unit_price=line.unit_price
                )
                for line in data.lines
            ]
        )
        if data.status != OrderStatus.PENDING_PAYMENT:
            Transaction.objects.get_or_create(
                tenant=tenant,
                idempotency_key=f"charge:{data.source}:{data.number}",
                defaults={
                    "order": order,
                    "kind": TransactionKind.CHARGE,
                    "amount": data.total,
                    "currency": data.currency.upper(),
                    "provider": "test" if data.source == "local" else data.source,
                    "provider_ref": f"ch_{data.source}_{data.number}",
                    "created_by": "sync",
                },
            )
    return order
