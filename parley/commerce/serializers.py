"""REST representations of orders (read-only: orders come from the shop)."""

from __future__ import annotations

from rest_framework import serializers

from parley.commerce.models import Order, OrderItem, Transaction


class OrderItemSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = OrderItem
        fields = ["sku", "name", "quantity", "unit_price"]


class TransactionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Transaction
        fields = ["id", "kind", "amount", "currency", "status", "provider", "provider_ref", "reason", "created_by", "created_at"]


class OrderSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    items = OrderItemSerializer(many=True, read_only=True)
    transactions = TransactionSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "customer",
            "status",
            "currency",
            "total",
            "refunded_amount",
            "placed_at",
            "shipped_at",
            "delivered_at",
            "estimated_delivery",
            "carrier",
            "tracking_number",
            "tracking_url",
            "source",
            "items",
            "transactions",
        ]
        read_only_fields = fields
