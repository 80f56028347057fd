"""Orders, their items, payment intents and money movements (charges and refunds), stored locally.

Orders come from the business's shop (a sync or the demo seed); payments go through a
:mod:`parley.commerce.payments` provider. State changes live in :mod:`parley.commerce.actions`.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from parley.core.models import TenantScopedModel


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Waiting for payment"
    PAID = "paid", "Paid"
    PROCESSING = "processing", "Processing"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


REFUNDABLE_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.PROCESSING,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.PARTIALLY_REFUNDED,
)


class Order(TenantScopedModel):
    """A customer's order; ``number`` is what the customer quotes (e.g. ``1001``)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="orders")
    number = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PAID, db_index=True)
    currency = models.CharField(max_length=3, default="EUR")
    total = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    placed_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    estimated_delivery = models.DateField(null=True, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    shipping_address = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=20, default="local", help_text="local, shopify, magento, ...")
    external_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "number"], name="uniq_order_tenant_number")]
        indexes = [models.Index(fields=["tenant", "customer", "-placed_at"])]

    def __str__(self) -> str:
        return f"order #{self.number} ({self.status})"

    @property
    def refundable_amount(self) -> Decimal:
        return max(self.total - self.refunded_amount, Decimal("0.00"))


class OrderItem(TenantScopedModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["created_at"]


class PaymentIntentStatus(models.TextChoices):
    REQUIRES_PAYMENT = "requires_payment", "Waiting for the customer to pay"
    SUCCEEDED = "succeeded", "Paid"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


class PaymentIntent(TenantScopedModel):
    """A request for the customer to pay an amount (a payment link from the provider)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="payment_intents")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="payment_intents")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=PaymentIntentStatus.choices, default=PaymentIntentStatus.REQUIRES_PAYMENT)
    provider = models.CharField(max_length=40)
    provider_ref = models.CharField(max_length=200, db_index=True)
    payment_url = models.URLField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=200)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "idempotency_key"], name="uniq_payment_intent_idempotency")]


class TransactionKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    REFUND = "refund", "Refund"


class Transaction(TenantScopedModel):
    """Money that moved through a provider (a charge or a refund)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="transactions", null=True, blank=True)
    payment_intent = models.ForeignKey(
        PaymentIntent, on_delete=models.SET_NULL, null=True, blank=True, related_name="transactions"
    )
    kind = models.CharField(max_length=10, choices=TransactionKind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, default="succeeded")
    provider = models.CharField(max_length=40)
    provider_ref = models.CharField(max_length=200)
    reason = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=200)
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "idempotency_key"], name="uniq_transaction_idempotency")]
