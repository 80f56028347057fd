"""Every state change of hand-overs: request, queue, assignment (round-robin or least-loaded among online
agents with capacity), take over, reassign, hand back, resolve, agent status, canned responses, suggestions.

Conversation fields change only through :func:`parley.conversations.actions.update_conversation`.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from parley.accounts.models import Membership, Tenant, User
from parley.accounts.roles import SUPPORT
from parley.conversations import actions as conversation_actions
from parley.conversations.models import Conversation, ConversationStatus, Message, SenderType
from parley.core.errors import DomainError, ErrorCode
from parley.handover.models import (
    AgentProfile,
    AgentStatus,
    CannedResponse,
    Handover,
    HandoverState,
    Suggestion,
    SuggestionStatus,
)
from parley.realtime.events import Event, inbox_group, send_event_on_commit

log = structlog.get_logger(__name__)

HUMAN_STATUSES = (ConversationStatus.PENDING_HUMAN, ConversationStatus.ASSIGNED)
OPEN_HANDOVER_STATES = (HandoverState.QUEUED, HandoverState.ASSIGNED)


class HandoverEvent(Event):
    """A hand-over was queued, assigned, handed back or closed (the inbox queue view listens)."""

    type: str = "handover.updated"
    conversation_id: str
    state: str
    reason: str
    assignee_id: str | None = None


class SuggestionEvent(Event):
    """The assistant drafted a reply for the agent."""

    type: str = "suggestion.created"
    conversation_id: str
    suggestion: dict[str, Any]


def _emit(handover: Handover) -> None:
    send_event_on_commit(
        HandoverEvent(
            tenant_id=str(handover.tenant_id),
            conversation_id=str(handover.conversation_id),
            state=handover.state,
            reason=handover.reason,
            assignee_id=str(handover.assignee_id) if handover.assignee_id else None,
        ),
        [inbox_group(handover.tenant_id)],
    )


def _rules_of(conversation: Conversation) -> tuple[str, str]:
    """(assignment strategy, required team) from the serving assistant's hand-over rules."""
    from parley.assistants.actions import settings_of

    _, rules, _ = settings_of(conversation.assistant)
    return rules.assignment, conversation.team or rules.team


def open_handover(conversation: Conversation) -> Handover | None:
    """The conversation's hand-over that is still waiting or assigned."""
    return Handover.objects.filter(conversation=conversation, state__in=OPEN_HANDOVER_STATES).order_by("-queued_at").first()


def request_handover(*, conversation: Conversation, reason: str, summary: str = "", actor: str) -> Conversation:
    """Hand the conversation to people: status pending_human, a queued Handover, then assignment if someone is free.

    Idempotent while a hand-over is open (a second request only adds nothing). The summary is stored on the
    hand-over and posted as a private note for the agent.

    Args:
        conversation: the conversation to hand over.
        reason: why (explicit_request, negative_sentiment, no_relevant_answer, tool_needs_human, ...).
        summary: text for the agent; built from the turns when empty.
        actor: who asked (the assistant, a user's e-mail, an API key).

    Returns:
        The conversation, refreshed (pending_human, or assigned when an agent was free).
    """
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",)).select_related("assistant", "customer").get(pk=conversation.pk)
        )
        if conversation.status in (ConversationStatus.RESOLVED, ConversationStatus.CLOSED):
            raise DomainError("this conversation is finished", code=ErrorCode.CONFLICT, status_code=409)
        if open_handover(conversation) is not None:
            return conversation
        strategy, team = _rules_of(conversation)
        summary_source = "given" if summary else "template"
        if not summary:
            from parley.handover.summary import build_summary

            summary, summary_source = build_summary(conversation, reason=reason)
        handover = Handover.objects.create(
            tenant_id=conversation.tenant_id,
            conversation=conversation,
            reason=reason[:200],
            summary=summary,
            summary_source=summary_source,
            team=team,
            language=conversation.language,
            strategy=strategy,
            requested_by=actor,
            queued_at=timezone.now(),
        )
        conversation = conversation_actions.update_conversation(
            conversation=conversation, changes={"status": ConversationStatus.PENDING_HUMAN}, actor=actor
        )
        conversation_actions.send_outbound(
            conversation=conversation,
            text=f"Handover ({reason}).\n{summary}",
            sender_type=SenderType.SYSTEM,
            is_private=True,
            metadata={"handover_id": str(handover.id)},
        )
        _emit(handover)
        _try_assign(handover)
        log.info("handover_requested", conversation_id=str(conversation.id), reason=reason, actor=actor)
        conversation.refresh_from_db()
    return conversation


def _load_by_user(tenant_id: Any) -> Counter[Any]:
    rows = Conversation.objects.filter(
        tenant_id=tenant_id, status=ConversationStatus.ASSIGNED, assignee__isnull=False
    ).values_list("assignee_id", flat=True)
    return Counter(rows)


def _pick_agent(handover: Handover, profiles: list[AgentProfile], load: Counter[Any]) -> AgentProfile | None:
    free = [p for p in profiles if load[p.user_id] < p.capacity and (not handover.team or handover.team in (p.skills or []))]
    speaking = [p for p in free if not p.languages or not handover.language or handover.language in p.languages]
    pool = speaking or free
    if not pool:
        return None
    epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    if handover.strategy == "round_robin":
        return min(pool, key=lambda p: (p.last_assigned_at or epoch, str(p.id)))
    return min(pool, key=lambda p: (load[p.user_id] / max(p.capacity, 1), p.last_assigned_at or epoch, str(p.id)))


def _online_profiles(tenant_id: Any) -> list[AgentProfile]:
    """Online agents of the tenant, locked (assignment is serialised per tenant through these rows)."""
    return list(
        AgentProfile.objects.select_for_update(of=("self",))
        .filter(tenant_id=tenant_id, status=AgentStatus.ONLINE, membership__role__in=SUPPORT, user__is_active=True)
        .order_by("id")
    )


def _assign(handover: Handover, profile: AgentProfile, *, actor: str) -> None:
    now = timezone.now()
    handover.state = HandoverState.ASSIGNED
    handover.assignee_id = profile.user_id
    handover.assigned_at = now
    handover.save(update_fields=["state", "assignee", "assigned_at", "updated_at"])
    profile.last_assigned_at = now
    profile.save(update_fields=["last_assigned_at", "updated_at"])
    conversation_actions.update_conversation(
        conversation=handover.conversation, changes={"assignee": profile.user_id}, actor=actor
    )
    _emit(handover)


def _try_assign(handover: Handover) -> bool:
    profiles = _online_profiles(handover.tenant_id)
    agent = _pick_agent(handover, profiles, _load_by_user(handover.tenant_id))
    if agent is None:
        return False
    _assign(handover, agent, actor="assignment")
    return True


def assign_waiting(*, tenant_id: Any) -> int:
    """Assign queued hand-overs, oldest first, while agents have capacity; returns how many were assigned."""
    assigned = 0
    with transaction.atomic():
        profiles = _online_profiles(tenant_id)
        if not profiles:
            return 0
        load = _load_by_user(tenant_id)
        queued = (
            Handover.objects.select_for_update(skip_locked=True)
            .select_related("conversation")
            .filter(tenant_id=tenant_id, state=HandoverState.QUEUED)
            .order_by("queued_at")
        )
        for handover in queued:
            if handover.conversation.status not in HUMAN_STATUSES:
                _close(handover, HandoverState.CLOSED)
                continue
            agent = _pick_agent(handover, profiles, load)
            if agent is None:
                continue
            _assign(handover, agent, actor="assignment")
            load[agent.user_id] += 1
            assigned += 1
    return assigned


def release_finished(*, tenant_id: Any) -> int:
    """Close hand-overs whose conversation was resolved/closed or handed back elsewhere; frees capacity."""
    stale = Handover.objects.filter(tenant_id=tenant_id, state__in=OPEN_HANDOVER_STATES).exclude(
        conversation__status__in=HUMAN_STATUSES
    )
    count = 0
    for handover in stale.select_related("conversation"):
        _close(handover, HandoverState.CLOSED)
        count += 1
    return count


def _close(handover: Handover, state: str) -> None:
    handover.state = state
    handover.ended_at = timezone.now()
    handover.save(update_fields=["state", "ended_at", "updated_at"])
    _emit(handover)


def _check_member(tenant_id: Any, user_id: Any, *, roles: frozenset[str] = SUPPORT) -> Membership:
    membership = Membership.objects.filter(tenant_id=tenant_id, user_id=user_id).first()
    if membership is None or membership.role not in roles:
        raise DomainError("that user is not an agent of this tenant", code=ErrorCode.INVALID)
    return membership


def take_over(*, conversation: Conversation, user: User, actor: str) -> Conversation:
    """An agent takes the conversation from the assistant or the queue."""
    _check_member(conversation.tenant_id, user.pk)
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update(of=("self",)).select_related("assistant").get(pk=conversation.pk)
        if conversation.status in (ConversationStatus.RESOLVED, ConversationStatus.CLOSED):
            raise DomainError("this conversation is finished", code=ErrorCode.CONFLICT, status_code=409)
        handover = open_handover(conversation)
        if handover is None:
            strategy, team = _rules_of(conversation)
            handover = Handover.objects.create(
                tenant_id=conversation.tenant_id,
                conversation=conversation,
                reason="agent_takeover",
                team=team,
                language=conversation.language,
                strategy=strategy,
                requested_by=actor,
                queued_at=timezone.now(),
            )
        handover.state = HandoverState.ASSIGNED
        handover.assignee_id = user.pk
        handover.assigned_at = timezone.now()
        handover.save(update_fields=["state", "assignee", "assigned_at", "updated_at"])
        conversation = conversation_actions.update_conversation(
            conversation=conversation, changes={"assignee": user.pk, "status": ConversationStatus.ASSIGNED}, actor=actor
        )
        _emit(handover)
    return conversation


def reassign(*, conversation: Conversation, user_id: Any, actor: str) -> Conversation:
    """A supervisor moves the conversation to another agent."""
    _check_member(conversation.tenant_id, user_id)
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status not in HUMAN_STATUSES:
            raise DomainError("only conversations with people can be reassigned", code=ErrorCode.CONFLICT, status_code=409)
        handover = open_handover(conversation)
        if handover is not None:
            handover.state = HandoverState.ASSIGNED
            handover.assignee_id = user_id
            handover.assigned_at = timezone.now()
            handover.save(update_fields=["state", "assignee", "assigned_at", "updated_at"])
            _emit(handover)
        conversation = conversation_actions.update_conversation(
            conversation=conversation, changes={"assignee": user_id}, actor=actor
        )
    return conversation


def hand_back_to_assistant(*, conversation: Conversation, actor: str) -> Conversation:
    """The agent returns the conversation to the assistant; their capacity goes to the queue."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status not in HUMAN_STATUSES:
            raise DomainError("the assistant already owns this conversation", code=ErrorCode.CONFLICT, status_code=409)
        handover = open_handover(conversation)
        if handover is not None:
            _close(handover, HandoverState.HANDED_BACK)
        conversation = conversation_actions.update_conversation(
            conversation=conversation, changes={"assignee": None, "status": ConversationStatus.BOT}, actor=actor
        )
        tenant_id = conversation.tenant_id
    assign_waiting(tenant_id=tenant_id)
    return conversation


def resolve(*, conversation: Conversation, actor: str) -> Conversation:
    """Resolve the conversation, close its hand-over and give the freed capacity to the queue."""
    with transaction.atomic():
        conversation = conversation_actions.update_conversation(
            conversation=conversation, changes={"status": ConversationStatus.RESOLVED}, actor=actor
        )
        handover = open_handover(conversation)
        if handover is not None:
            _close(handover, HandoverState.CLOSED)
    assign_waiting(tenant_id=conversation.tenant_id)
    return conversation


def ensure_profile(*, tenant: Tenant | Any, user: User | Any) -> AgentProfile:
    """The member's agent profile, created (offline) on first use."""
    tenant_id: Any = getattr(tenant, "pk", tenant)
    membership = Membership.objects.filter(tenant_id=tenant_id, user=user).first()
    if membership is None:
        raise DomainError("not a member of this tenant", code=ErrorCode.PERMISSION_DENIED, status_code=403)
    profile, _ = AgentProfile.objects.get_or_create(
        membership=membership, defaults={"tenant_id": tenant_id, "user_id": membership.user_id}
    )
    return profile


def update_agent(*, profile: AgentProfile, changes: dict[str, Any], actor: str) -> AgentProfile:
    """Change an agent's status, capacity, skills or languages; going online (or more capacity) pulls from the queue."""
    with transaction.atomic():
        profile = AgentProfile.objects.select_for_update().get(pk=profile.pk)
        for name in ("status", "capacity", "skills", "languages"):
            if name in changes:
                setattr(profile, name, changes[name])
        if "status" in changes:
            profile.status_changed_at = timezone.now()
        profile.save()
        log.info("agent_updated", user_id=str(profile.user_id), changes=sorted(changes), actor=actor)
    if profile.status == AgentStatus.ONLINE:
        assign_waiting(tenant_id=profile.tenant_id)
    return profile


def queue(*, tenant_id: Any) -> list[Handover]:
    """Hand-overs waiting for an agent, oldest first."""
    return list(
        Handover.objects.filter(tenant_id=tenant_id, state=HandoverState.QUEUED)
        .select_related("conversation", "conversation__customer")
        .order_by("queued_at")
    )


# Canned responses --------------------------------------------------------------------------------

VARIABLE = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)?)\s*\}\}")
KNOWN_VARIABLES = {
    "customer.name",
    "customer.first_name",
    "customer.email",
    "customer.phone",
    "agent.name",
    "agent.email",
    "conversation.id",
    "tenant.name",
}


def check_canned_text(text: str) -> str:
    """Reject templates with unknown ``{{variables}}`` (400 with the list of known ones)."""
    unknown = sorted({name for name in VARIABLE.findall(text) if name not in KNOWN_VARIABLES})
    if unknown:
        raise DomainError(
            f"unknown variable(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_VARIABLES))}", code=ErrorCode.INVALID
        )
    return text


def save_canned_response(
    *, tenant: Tenant, data: dict[str, Any], actor: str, instance: CannedResponse | None = None
) -> CannedResponse:
    """Create or update a canned response (shortcut unique per tenant and language)."""
    if "text" in data:
        check_canned_text(data["text"])
    shortcut = data.get("shortcut", instance.shortcut if instance else "")
    language = data.get("language", instance.language if instance else "")
    clash = CannedResponse.objects.filter(tenant=tenant, shortcut=shortcut, language=language)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise DomainError(f"shortcut /{shortcut} already exists", code=ErrorCode.CONFLICT, status_code=409)
    if instance is None:
        return CannedResponse.objects.create(tenant=tenant, created_by=actor, **data)
    for name, value in data.items():
        setattr(instance, name, value)
    instance.save()
    return instance


def render_canned(*, canned: CannedResponse, conversation: Conversation, agent: User | None) -> str:
    """Fill the template's variables for this conversation and agent."""
    customer = conversation.customer
    values = {
        "customer.name": customer.name or "",
        "customer.first_name": (customer.name or "").split(" ")[0],
        "customer.email": customer.email,
        "customer.phone": customer.phone,
        "agent.name": (agent.name or agent.email) if agent else "",
        "agent.email": agent.email if agent else "",
        "conversation.id": str(conversation.id),
        "tenant.name": Tenant.objects.filter(pk=conversation.tenant_id).values_list("name", flat=True).first() or "",
    }
    return VARIABLE.sub(lambda match: values.get(match.group(1), ""), canned.text)


# Suggestions -------------------------------------------------------------------------------------


def create_suggestion(
    *, conversation: Conversation, message: Message, text: str, source: str, citations: list[dict[str, str]]
) -> Suggestion:
    """Store a drafted reply for the agent (one per customer message) and tell the inbox."""
    suggestion, created = Suggestion.objects.get_or_create(
        message=message,
        defaults={
            "tenant_id": conversation.tenant_id,
            "conversation": conversation,
            "text": text,
            "source": source,
            "citations": citations,
        },
    )
    if created:
        send_event_on_commit(
            SuggestionEvent(
                tenant_id=str(conversation.tenant_id),
                conversation_id=str(conversation.id),
                suggestion={"id": str(suggestion.id), "text": text, "source": source, "citations": citations},
            ),
            [inbox_group(conversation.tenant_id)],
        )
    return suggestion


def set_suggestion_status(*, suggestion: Suggestion, status: str) -> Suggestion:
    """Mark a suggestion used or dismissed."""
    suggestion.status = SuggestionStatus(status)
    suggestion.save(update_fields=["status", "updated_at"])
    return suggestion
