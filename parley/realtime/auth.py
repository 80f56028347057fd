"""Resolve who opened a websocket: a dashboard session or an ``Authorization: Bearer`` API key."""

from __future__ import annotations

import hmac
from typing import Any

from channels.db import database_sync_to_async

from parley.accounts.authentication import AuthContext, hash_secret, membership_for, split_key
from parley.accounts.models import ApiKey


def _from_api_key(raw: str) -> AuthContext | None:
    parsed = split_key(raw)
    if parsed is None:
        return None
    key = ApiKey.objects.select_related("tenant").filter(prefix=parsed[0], revoked_at__isnull=True).first()
    if key is None or not key.tenant.is_active or not hmac.compare_digest(key.hashed_key, hash_secret(parsed[1])):
        return None
    return AuthContext(tenant=key.tenant, role=key.role, api_key=key)


def _resolve(scope: dict[str, Any]) -> AuthContext | None:
    headers = {name.decode().lower(): value.decode() for name, value in scope.get("headers", [])}
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return _from_api_key(authorization[7:].strip())
    user = scope.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = membership_for(user, headers.get("x-parley-tenant"))
    if membership is None:
        return None
    return AuthContext(tenant=membership.tenant, role=membership.role, user=user)


resolve_socket_auth = database_sync_to_async(_resolve)
