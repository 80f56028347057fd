"""Role sets used by views to declare who may read and who may write."""

from __future__ import annotations

from parley.accounts.models import Role

ALL_ROLES: frozenset[str] = frozenset(r.value for r in Role)
MANAGERS: frozenset[str] = frozenset({Role.OWNER, Role.ADMIN})
SUPERVISORS: frozenset[str] = frozenset({Role.OWNER, Role.ADMIN, Role.SUPERVISOR})
SUPPORT: frozenset[str] = frozenset({Role.OWNER, Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
ANALYSTS: frozenset[str] = frozenset({Role.OWNER, Role.ADMIN, Role.SUPERVISOR, Role.ANALYST})

_RANK = {Role.OWNER: 0, Role.ADMIN: 1, Role.SUPERVISOR: 2, Role.AGENT: 3, Role.ANALYST: 4}


def can_grant(granter: str, role: str) -> bool:
    """A member may only hand out roles no more powerful than their own (owners excepted)."""
    return _RANK[Role(granter)] <= _RANK[Role(role)]
