"""REST representations of customers and their identities."""

from __future__ import annotations

from rest_framework import serializers

from parley.core.api import StrictModelSerializer, StrictSerializer
from parley.customers.models import Customer, CustomerIdentity, CustomerNote


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
            "merged_into",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "identities", "memory_summary", "merged_into", "created_at", "updated_at"]


class CustomerNoteSerializer(StrictModelSerializer):
    text = serializers.CharField(max_length=10000, trim_whitespace=True, allow_blank=False)

    class Meta:
        model = CustomerNote
        fields = ["id", "customer", "text", "author_name", "created_at"]
        read_only_fields = ["id", "customer", "author_name", "created_at"]


class MergeRequestSerializer(StrictSerializer):
    duplicate = serializers.UUIDField(help_text="The customer to merge into this one; it is marked merged afterwards.")


class MergeResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    customer = CustomerSerializer(help_text="The kept customer after the merge.")
    duplicate = serializers.UUIDField()
    moved = serializers.DictField(child=serializers.IntegerField(), help_text="Rows moved, by model (app.model).")
    filled_fields = serializers.ListField(child=serializers.CharField())
