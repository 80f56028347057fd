"""Building blocks for tenant-scoped REST endpoints."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers, viewsets
from rest_framework.request import Request

from parley.accounts.authentication import AuthContext
from parley.accounts.models import Tenant


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Rejects fields it does not know instead of silently ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        unknown: dict[str, list[str]] = {}
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = {name: ["Unknown field."] for name in sorted(set(data) - writable)}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A ModelSerializer that rejects unknown fields."""


def auth_context(request: Request) -> AuthContext:
    """The :class:`AuthContext` of an authenticated request."""
    context = request.auth
    if not isinstance(context, AuthContext):  # RolePermission runs first, so this is a programming error
        raise RuntimeError("request has no tenant context")
    return context


class TenantScopedMixin:
    """Scopes ``queryset`` to the caller's tenant; another tenant's object is therefore a 404."""

    request: Any
    queryset: Any

    @property
    def tenant(self) -> Tenant:
        return auth_context(self.request).tenant

    def get_queryset(self) -> QuerySet[Any]:
        return self.queryset.filter(tenant=self.tenant)

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()  # type: ignore[misc]
        if isinstance(self.request.auth, AuthContext):
            context["tenant"] = self.request.auth.tenant
            context["auth"] = self.request.auth
        return context


class TenantReadOnlyViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """List and retrieve within the caller's tenant."""
