"""State changes for tenants, users, memberships and API keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from parley.accounts.authentication import forget_api_key, hash_secret
from parley.accounts.models import ApiKey, Membership, Role, Tenant, User
from parley.audit.actions import record_audit_event
from parley.core.errors import DomainError, ErrorCode


@dataclass(frozen=True)
class IssuedApiKey:
    """A freshly created key; ``secret`` is shown once and never stored."""

    api_key: ApiKey
    secret: str


def create_tenant(*, slug: str, name: str) -> Tenant:
    """Create a tenant; slugs are unique."""
    if Tenant.objects.filter(slug=slug).exists():
        raise DomainError(f"tenant {slug!r} already exists", code=ErrorCode.CONFLICT, status_code=409)
    return Tenant.objects.create(slug=slug, name=name)


def create_user(*, email: str, password: str | None, name: str = "") -> User:
    """Create a dashboard user (no password means the account cannot log in until one is set)."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise DomainError(f"a user with e-mail {email} already exists", code=ErrorCode.CONFLICT, status_code=409)
    return User.objects.create_user(email=email, password=password, name=name)


def add_member(*, tenant: Tenant, user: User, role: str, actor: str = "system") -> Membership:
    """Give ``user`` a ``role`` in ``tenant`` (updates the role if already a member)."""
    role = Role(role)
    membership, created = Membership.objects.update_or_create(tenant=tenant, user=user, defaults={"role": role})
    record_audit_event(
        tenant=tenant,
        actor=actor,
        action="membership.created" if created else "membership.updated",
        target=membership,
        data={"user": user.email, "role": role},
    )
    return membership


def change_role(*, membership: Membership, role: str, actor: str) -> Membership:
    """Change a member's role; the last owner cannot be demoted."""
    role = Role(role)
    with transaction.atomic():
        if membership.role == Role.OWNER and role != Role.OWNER:
            owners = Membership.objects.select_for_update().filter(tenant_id=membership.tenant_id, role=Role.OWNER)
            if owners.count() <= 1:
                raise DomainError("a tenant must keep at least one owner", code=ErrorCode.CONFLICT, status_code=409)
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        record_audit_event(
            tenant=membership.tenant, actor=actor, action="membership.role_changed", target=membership, data={"role": role}
        )
    return membership


def remove_member(*, membership: Membership, actor: str) -> None:
    """Remove a member; the last owner cannot be removed."""
    with transaction.atomic():
        if membership.role == Role.OWNER:
            owners = Membership.objects.select_for_update().filter(tenant_id=membership.tenant_id, role=Role.OWNER)
            if owners.count() <= 1:
                raise DomainError("a tenant must keep at least one owner", code=ErrorCode.CONFLICT, status_code=409)
        record_audit_event(
            tenant=membership.tenant,
            actor=actor,
            action="membership.removed",
            target=membership,
            data={"user_id": str(membership.user_id)},
        )
        membership.delete()


def create_api_key(
    *, tenant: Tenant, name: str, role: str, created_by: User | None = None, actor: str = "system"
) -> IssuedApiKey:
    """Issue an API key for ``tenant`` acting with ``role``.

    Returns:
        The stored key and the secret, which is shown to the caller once.
    """
    role = Role(role)
    prefix = secrets.token_hex(6)
    secret = f"pk_{prefix}_{secrets.token_urlsafe(32).replace('_', 'x')}"
    api_key = ApiKey.objects.create(
        tenant=tenant, name=name, prefix=prefix, hashed_key=hash_secret(secret), role=role, created_by=created_by
    )
    record_audit_event(tenant=tenant, actor=actor, action="apikey.created", target=api_key, data={"name": name, "role": role})
    return IssuedApiKey(api_key=api_key, secret=secret)


def revoke_api_key(*, api_key: ApiKey, actor: str) -> ApiKey:
    """Revoke a key; it stops working at once."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        record_audit_event(tenant=api_key.tenant, actor=actor, action="apikey.revoked", target=api_key)
    # Now, and again once committed: a request racing the transaction cannot re-cache the key as still active.
    prefix = api_key.prefix
    forget_api_key(prefix)
    transaction.on_commit(lambda: forget_api_key(prefix))
    return api_key


def set_business_hours(*, tenant: Tenant, config: dict[str, object] | None, actor: str) -> Tenant:
    """Store the tenant's business hours (``Tenant.settings["business_hours"]``), or remove them.

    Args:
        tenant: the tenant.
        config: ``{"timezone", "hours", "holidays"}`` already validated by the caller; None means
            "always open" (the setting is removed).
        actor: who changed it (for the audit log).

    Returns:
        The tenant with its settings saved.
    """
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        settings = dict(locked.settings or {})
        if config is None:
            settings.pop("business_hours", None)
        else:
            settings["business_hours"] = config
        locked.settings = settings
        locked.save(update_fields=["settings", "updated_at"])
        record_audit_event(
            tenant=locked, actor=actor, action="tenant.business_hours_changed", target=locked, data={"business_hours": config}
        )
    return locked
