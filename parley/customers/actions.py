"""State changes for customers: profile edits, notes, and merging duplicates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from parley.accounts.models import Tenant
from parley.audit.actions import record_audit_event
from parley.core.errors import DomainError, ErrorCode
from parley.customers.models import Customer, CustomerNote
from parley.realtime.events import ConversationEvent, inbox_group, send_event_on_commit

# Open inboxes are told about at most this many moved conversations (they refetch on their own anyway).
MAX_CONVERSATION_EVENTS = 200
# Profile fields a merge copies from the duplicate when the kept customer has them empty.
MERGED_PROFILE_FIELDS = ("name", "email", "phone", "language", "external_ref")


def create_customer(*, tenant: Tenant, data: dict[str, Any]) -> Customer:
    """Create a customer record (identities are added when they write on a channel)."""
    return Customer.objects.create(tenant=tenant, **data)


def update_customer(*, customer: Customer, data: dict[str, Any]) -> Customer:
    """Change a customer's profile fields."""
    for key, value in data.items():
        setattr(customer, key, value)
    customer.save()
    return customer


def add_customer_note(*, customer: Customer, text: str, author: Any = None, author_name: str = "") -> CustomerNote:
    """Write a note on a customer.

    Args:
        customer: the customer the note is about.
        text: the note (already validated as non-blank).
        author: the User who wrote it, when a person did.
        author_name: a label for the author (e-mail or API key label).

    Returns:
        The stored note.
    """
    return CustomerNote.objects.create(
        tenant_id=customer.tenant_id, customer=customer, text=text, author=author, author_name=author_name
    )


@dataclass
class MergeResult:
    """What a merge moved from the duplicate to the kept customer, by related model."""

    kept: Customer
    duplicate: Customer
    moved: dict[str, int] = field(default_factory=dict)
    filled_fields: list[str] = field(default_factory=list)


def _reverse_foreign_keys() -> list[Any]:
    """Every foreign key that points at Customer (also those declared with ``related_name="+"``)."""
    return [
        relation
        for relation in Customer._meta.get_fields(include_hidden=True)
        if relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)
    ]


@transaction.atomic
def merge_customers(*, kept: Customer, duplicate: Customer, actor: str, actor_user: Any = None) -> MergeResult:
    """Merge ``duplicate`` into ``kept``: every row that points at the duplicate (identities,
    conversations, tickets, orders, notes, ...) is moved to the kept customer, empty profile fields
    are filled from the duplicate, and the duplicate is marked ``merged_into`` the kept one.

    Args:
        kept: the customer that stays.
        duplicate: the customer merged away (same tenant).
        actor: who merged (for the audit log).
        actor_user: the User who merged, when a person did.

    Returns:
        What was moved.

    Raises:
        DomainError: the two are the same customer, belong to different tenants, or one of them was
            already merged away.
    """
    if kept.pk == duplicate.pk:
        raise DomainError("a customer cannot be merged into itself", code=ErrorCode.INVALID)
    if kept.tenant_id != duplicate.tenant_id:
        raise DomainError("no such customer", code=ErrorCode.NOT_FOUND, status_code=404)
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[kept.pk, duplicate.pk]).order_by("pk")}
    kept, duplicate = locked[kept.pk], locked[duplicate.pk]
    if duplicate.merged_into_id is not None:
        raise DomainError("that customer was already merged into another one", code=ErrorCode.CONFLICT, status_code=409)
    if kept.merged_into_id is not None:
        raise DomainError(
            "this customer was merged into another one; merge into that one", code=ErrorCode.CONFLICT, status_code=409
        )

    from parley.conversations.models import Conversation

    moved_conversations = list(
        Conversation.objects.filter(customer=duplicate).values_list("pk", flat=True)[:MAX_CONVERSATION_EVENTS]
    )
    result = MergeResult(kept=kept, duplicate=duplicate)
    for relation in _reverse_foreign_keys():
        related_model = relation.related_model
        column = relation.field.name
        moved = related_model._base_manager.filter(**{column: duplicate}).update(**{column: kept})
        if moved:
            result.moved[related_model._meta.label_lower] = moved

    for name in MERGED_PROFILE_FIELDS:
        if not getattr(kept, name) and getattr(duplicate, name):
            setattr(kept, name, getattr(duplicate, name))
            result.filled_fields.append(name)
    if duplicate.memory_summary and duplicate.memory_summary not in kept.memory_summary:
        kept.memory_summary = "\n\n".join(part for part in (kept.memory_summary, duplicate.memory_summary) if part)
    kept.metadata = {**(duplicate.metadata or {}), **(kept.metadata or {})}
    kept.save()
    duplicate.merged_into = kept
    duplicate.save(update_fields=["merged_into", "updated_at"])
    _announce_moved_conversations(moved_conversations)
    record_audit_event(
        action="customer.merged",
        actor=actor,
        actor_user=actor_user,
        tenant=kept.tenant,
        target=kept,
        data={"duplicate": str(duplicate.pk), "moved": result.moved, "filled_fields": result.filled_fields},
    )
    return result


def _announce_moved_conversations(conversation_ids: list[Any]) -> None:
    """``conversation.updated`` (with the new customer) for each moved conversation, on commit."""
    from parley.conversations.models import Conversation
    from parley.conversations.serializers import ConversationSerializer

    for conversation in Conversation.objects.filter(pk__in=conversation_ids).select_related("customer", "channel"):
        send_event_on_commit(
            ConversationEvent(
                type="conversation.updated",
                tenant_id=str(conversation.tenant_id),
                conversation=dict(ConversationSerializer(conversation).data),
            ),
            [inbox_group(conversation.tenant_id)],
        )
