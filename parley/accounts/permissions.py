"""Role-based access: each view names the roles that may read and the roles that may write."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from parley.accounts.authentication import AuthContext
from parley.accounts.roles import ALL_ROLES, MANAGERS


class RolePermission(BasePermission):
    """Grants access when the caller's role is in ``view.read_roles`` / ``view.write_roles``.

    Views may also set ``action_roles = {"action_name": {...}}`` for individual actions.
    Unauthenticated callers get 401 (DRF turns a False for them into NotAuthenticated).
    """

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        context = request.auth
        if not isinstance(context, AuthContext):
            return False
        action = getattr(view, "action", None)
        action_roles: dict[str, frozenset[str]] = getattr(view, "action_roles", {})
        if action and action in action_roles:
            allowed = action_roles[action]
        elif request.method in SAFE_METHODS:
            allowed = getattr(view, "read_roles", ALL_ROLES)
        else:
            allowed = getattr(view, "write_roles", MANAGERS)
        return context.role in allowed
