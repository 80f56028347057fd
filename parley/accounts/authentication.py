"""Authentication for the API: ``Authorization: Bearer <api key>`` for machines, sessions for people.

Both produce an :class:`AuthContext` in ``request.auth`` naming the tenant and role the request acts as.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import structlog
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.request import Request

from parley.accounts.models import ApiKey, Membership, Tenant, User

TENANT_HEADER = "X-Parley-Tenant"


@dataclass(frozen=True)
class AuthContext:
    """Who is calling, for which tenant, with which role."""

    tenant: Tenant
    role: str
    user: User | None = None
    api_key: ApiKey | None = None

    @property
    def actor_label(self) -> str:
        if self.user is not None:
            return self.user.email
        if self.api_key is not None:
            return f"api-key:{self.api_key.prefix}"
        return "system"


class ApiKeyPrincipal:
    """Stands in for ``request.user`` when a machine calls with an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.pk = None
        self.id = None

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


def hash_secret(secret: str) -> str:
    """SHA-256 of an API key; keys are long random strings, so a fast hash is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """Return ``(prefix, full_key)`` for a well-formed ``pk_<prefix>_<secret>`` key, else None."""
    parts = raw.split("_")
    if len(parts) != 3 or parts[0] != "pk" or not parts[1] or len(parts[2]) < 20:
        return None
    return parts[1], raw


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer pk_<prefix>_<secret>``."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, AuthContext] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token = token.strip()
        if not token:
            raise exceptions.AuthenticationFailed("Empty bearer token.")
        parsed = split_key(token)
        if parsed is None:
            raise exceptions.AuthenticationFailed("Malformed API key.")
        prefix, full = parsed
        key = ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.hashed_key, hash_secret(full)):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key was revoked.")
        if not key.tenant.is_active:
            raise exceptions.AuthenticationFailed("This tenant is disabled.")
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        structlog.contextvars.bind_contextvars(tenant=key.tenant.slug, actor=f"api-key:{key.prefix}")
        return ApiKeyPrincipal(key), AuthContext(tenant=key.tenant, role=key.role, api_key=key)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="parley"'


def membership_for(user: User, tenant_slug: str | None) -> Membership | None:
    """The membership a logged-in user acts through: the named tenant, else their first one."""
    memberships = Membership.objects.select_related("tenant").filter(user=user, tenant__is_active=True)
    if tenant_slug:
        return memberships.filter(tenant__slug=tenant_slug).first()
    return memberships.order_by("created_at").first()


class TenantSessionAuthentication(SessionAuthentication):
    """Dashboard sessions (CSRF-checked); the tenant comes from ``X-Parley-Tenant`` or the first membership."""

    def authenticate(self, request: Request) -> tuple[Any, AuthContext] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        membership = membership_for(user, request.META.get("HTTP_X_PARLEY_TENANT"))
        if membership is None:
            raise exceptions.PermissionDenied("You are not a member of this tenant.")
        structlog.contextvars.bind_contextvars(tenant=membership.tenant.slug, actor=str(user.pk))
        return user, AuthContext(tenant=membership.tenant, role=membership.role, user=user)
