"""Authentication for the API: ``Authorization: Bearer <api key>`` for machines, sessions for people.

Both produce an :class:`AuthContext` in ``request.auth`` naming the tenant and role the request acts as.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import structlog
from django.conf import settings
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


# How long a process trusts an API key it resolved before reading it from the database again. Revoking through
# ``accounts.actions.revoke_api_key`` drops the key from this process's cache at once; a change made in another
# process (the CLI, a second web process) or straight in the database takes effect within this many seconds.
API_KEY_CACHE_SECONDS = 5.0
API_KEY_CACHE_MAX_ENTRIES = 4096
LAST_USED_RESOLUTION_SECONDS = 60

# Cached columns: everything but the JSON ones, which stay deferred (a fresh read if anything touches them),
# so no mutable value is shared between requests and tenant settings are never served stale.
_KEY_FIELDS = tuple(f.attname for f in ApiKey._meta.concrete_fields if f.attname != "metadata")
_TENANT_FIELDS = tuple(f.attname for f in Tenant._meta.concrete_fields if f.attname != "settings")


def _clock() -> float:
    return time.monotonic()


@dataclass(frozen=True)
class _CachedKey:
    hashed_key: str
    key_values: tuple[Any, ...]
    tenant_values: tuple[Any, ...]
    expires_at: float
    last_used_at: Any


class ApiKeyCache:
    """In-process cache of valid API keys by prefix: ``(key, tenant)`` without a database round trip.

    Only keys that authenticated (not revoked, tenant active) are cached, so a new key is never hidden by an
    earlier miss. Each hit returns fresh model instances.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _CachedKey] = {}
        self._lock = threading.Lock()

    @staticmethod
    def ttl() -> float:
        return float(getattr(settings, "PARLEY_API_KEY_CACHE_SECONDS", API_KEY_CACHE_SECONDS))

    def get(self, prefix: str) -> _CachedKey | None:
        entry = self._entries.get(prefix)
        if entry is None:
            return None
        if entry.expires_at <= _clock():
            self.forget(prefix)
            return None
        return entry

    def put(self, key: ApiKey) -> None:
        ttl = self.ttl()
        if ttl <= 0:
            return
        entry = _CachedKey(
            hashed_key=key.hashed_key,
            key_values=tuple(getattr(key, name) for name in _KEY_FIELDS),
            tenant_values=tuple(getattr(key.tenant, name) for name in _TENANT_FIELDS),
            expires_at=_clock() + ttl,
            last_used_at=key.last_used_at,
        )
        with self._lock:
            if len(self._entries) >= API_KEY_CACHE_MAX_ENTRIES and key.prefix not in self._entries:
                self._entries.clear()
            self._entries[key.prefix] = entry

    def touched(self, prefix: str, when: Any) -> None:
        """Record that ``last_used_at`` was written as ``when``."""
        with self._lock:
            entry = self._entries.get(prefix)
            if entry is not None:
                self._entries[prefix] = replace(entry, last_used_at=when)

    def forget(self, prefix: str) -> None:
        with self._lock:
            self._entries.pop(prefix, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def instances(self, entry: _CachedKey) -> ApiKey:
        """A fresh ``ApiKey`` (with its ``tenant``) built from ``entry``."""
        key = ApiKey.from_db("default", _KEY_FIELDS, entry.key_values)
        key.last_used_at = entry.last_used_at
        key.tenant = Tenant.from_db("default", _TENANT_FIELDS, entry.tenant_values)
        return key


api_key_cache = ApiKeyCache()


def forget_api_key(prefix: str) -> None:
    """Stop trusting the cached copy of a key in this process (called when it is revoked)."""
    api_key_cache.forget(prefix)


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
        cached = api_key_cache.get(prefix)
        if cached is not None:
            if not hmac.compare_digest(cached.hashed_key, hash_secret(full)):
                raise exceptions.AuthenticationFailed("Invalid API key.")
            key = api_key_cache.instances(cached)
        else:
            key = self._load(prefix, full)
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
            api_key_cache.touched(prefix, now)
        structlog.contextvars.bind_contextvars(tenant=key.tenant.slug, actor=f"api-key:{key.prefix}")
        return ApiKeyPrincipal(key), AuthContext(tenant=key.tenant, role=key.role, api_key=key)

    @staticmethod
    def _load(prefix: str, full: str) -> ApiKey:
        key = ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.hashed_key, hash_secret(full)):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key was revoked.")
        if not key.tenant.is_active:
            raise exceptions.AuthenticationFailed("This tenant is disabled.")
        api_key_cache.put(key)
        return key

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
