"""REST representations of customers and their identities."""

from __future__ import annotations

from rest_framework import serializers

from parley.core.api import StrictModelSerializer
from parley.customers.models import Customer, CustomerIdentity


class CustomerIdentitySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = CustomerIdentity
        fields = ["id", "channel_type", "external_id", "display_name", "last_seen_at"]
        read_only_fields = fields


class CustomerSerializer(StrictModelSerializer):
    identities = CustomerIdentitySerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "language",
            "external_ref",
            "memory_summary",
            "identities",
            "metadata",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "identities", "memory_summary", "created_at", "updated_at"]
