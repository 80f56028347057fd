"""Building blocks for tenant-scoped REST endpoints."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from rest_framework import renderers, serializers, viewsets
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


class RawJSON(str):
    """JSON text that is already encoded (e.g. a page of rows PostgreSQL wrote); :class:`JSONRenderer` keeps it."""


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer that writes :class:`RawJSON` values of a top-level object as they are."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if not isinstance(data, Mapping) or not any(isinstance(value, RawJSON) for value in data.values()):
            return super().render(data, accepted_media_type, renderer_context)  # type: ignore[no-any-return]
        marker = f"parley-raw-json-{uuid.uuid4().hex}-"
        raw: dict[str, str] = {}
        swapped: dict[Any, Any] = {}
        for key, value in data.items():
            if isinstance(value, RawJSON):
                placeholder = f"{marker}{len(raw)}"
                # As DRF does: U+2028/U+2029 escaped, so the JSON is also valid JavaScript.
                raw[json.dumps(placeholder)] = str(value).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
                value = placeholder
            swapped[key] = value
        text = super().render(swapped, accepted_media_type, renderer_context).decode()
        for placeholder, value in raw.items():
            text = text.replace(placeholder, value, 1)
        return text.encode()


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
