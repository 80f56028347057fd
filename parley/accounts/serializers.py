"""REST representations of users, memberships and API keys."""

from __future__ import annotations

from rest_framework import serializers

from parley.accounts.models import ApiKey, Membership, Role
from parley.core.api import StrictSerializer


class MembershipSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    user_id = serializers.UUIDField(source="user.id", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "name", "role", "created_at"]
        read_only_fields = fields


class MembershipCreateSerializer(StrictSerializer):
    """Add a person to the tenant (creating the user if new)."""

    email = serializers.EmailField()
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=Role.choices)
    password = serializers.CharField(min_length=10, max_length=128, required=False, write_only=True)


class MembershipUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


class ApiKeySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "role", "is_active", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.AGENT)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    """Returned once on creation: includes the secret."""

    key = serializers.CharField(read_only=True)

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class LoginSerializer(StrictSerializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=128)


class MeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.UUIDField(allow_null=True)
    email = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    tenant = serializers.DictField()
    tenants = serializers.ListField(child=serializers.DictField())
