"""Recording audit events."""

from __future__ import annotations

from typing import Any

from parley.audit.models import AuditEvent


def record_audit_event(
    *,
    action: str,
    actor: str,
    tenant: Any = None,
    actor_user: Any = None,
    target: Any = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append an audit event.

    Args:
        action: dotted verb, e.g. ``apikey.created`` or ``webhook.unknown_phone_number``.
        actor: who acted (user e-mail, ``api-key:<prefix>``, ``assistant:<id>``, ``system``).
        tenant: the tenant concerned, when known.
        actor_user: the User who acted, when a person did.
        target: the model instance acted on, if any.
        data: extra JSON detail (never secrets).
        ip_address: the caller's address, for requests.

    Returns:
        The stored event.
    """
    return AuditEvent.objects.create(
        tenant=tenant,
        actor=actor,
        actor_user=actor_user,
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "")) if target is not None else "",
        data=data or {},
        ip_address=ip_address,
    )
