"""State changes of the tools layer: the audit of calls, pending money actions, approvals, follow-ups."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from parley.audit.actions import record_audit_event
from parley.conversations.models import FollowUpStatus, FollowUpTask, SenderType
from parley.core.errors import DomainError, ErrorCode
from parley.tools.base import Proposal, ToolContext, ToolFailure, ToolResult
from parley.tools.models import PendingAction, PendingActionStatus, ToolExecution
from parley.tools.registry import get_tool
from parley.tools.texts import say

log = structlog.get_logger(__name__)

DEFAULT_APPROVAL_LIMIT = Decimal("100.00")
DEFAULT_CONFIRMATION_TTL_MINUTES = 15
MAX_SCHEDULED_FOLLOWUPS_PER_CONVERSATION = 5


def approval_limit(tenant: Any) -> Decimal:
    """Amounts above ``Tenant.settings["approval_limit"]`` (default 100.00) need an agent's approval."""
    raw = (getattr(tenant, "settings", None) or {}).get("approval_limit", DEFAULT_APPROVAL_LIMIT)
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        log.warning("invalid_approval_limit", tenant=str(getattr(tenant, "pk", "")), value=str(raw))
        return DEFAULT_APPROVAL_LIMIT


def confirmation_ttl(tenant: Any) -> timedelta:
    minutes = (getattr(tenant, "settings", None) or {}).get("confirmation_ttl_minutes", DEFAULT_CONFIRMATION_TTL_MINUTES)
    try:
        return timedelta(minutes=max(int(minutes), 1))
    except (TypeError, ValueError):
        return timedelta(minutes=DEFAULT_CONFIRMATION_TTL_MINUTES)


def record_execution(
    *,
    context: ToolContext,
    tool: str,
    arguments: dict[str, Any],
    result: ToolResult,
    started: float,
    phase: str = "call",
    error: str = "",
    pending_action: PendingAction | None = None,
    approved_by: str = "",
    actor: str | None = None,
) -> ToolExecution:
    """Append one entry to the audit of tool use."""
    tenant_id = getattr(context.tenant, "pk", None)
    # a refused call may name another tenant's rows; the audit row only links rows of its own tenant
    conversation = context.conversation if getattr(context.conversation, "tenant_id", None) == tenant_id else None
    customer = context.customer if getattr(context.customer, "tenant_id", None) == tenant_id else None
    return ToolExecution.objects.create(
        tenant=context.tenant,
        conversation=conversation,
        customer=customer,
        pending_action=pending_action,
        assistant_id=str(context.assistant_id or "")[:64],
        tool=tool[:100],
        phase=phase,
        arguments=_jsonable(arguments),
        status=result.status,
        result=result.data,
        message=result.message,
        error=error[:4000],
        latency_ms=int((time.perf_counter() - started) * 1000),
        actor=(actor or context.actor)[:200],
        approved_by=approved_by[:200],
    )


def _jsonable(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return {
            str(k): (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v))
            for k, v in arguments.items()
        }
    return {"_raw": str(arguments)[:2000]}


def record_refusal(*, context: ToolContext, tool: str, reason: str, data: dict[str, Any] | None = None) -> None:
    """An audit event for a tool call Parley refused (not allowed, out of scope, bad confirmation, ...)."""
    record_audit_event(
        action="tools.call_refused",
        actor=context.actor,
        tenant=context.tenant,
        target=context.conversation,
        data={"tool": tool, "reason": reason, **(data or {})},
    )


def create_pending_action(*, context: ToolContext, tool: str, proposal: Proposal) -> PendingAction:
    """Store a proposed money action; any earlier unconfirmed proposal in the conversation is superseded."""
    now = timezone.now()
    with transaction.atomic():
        PendingAction.objects.filter(
            tenant=context.tenant, conversation=context.conversation, status=PendingActionStatus.AWAITING_CONFIRMATION
        ).update(
            status=PendingActionStatus.CANCELLED, decision_note="superseded by a newer request", decided_at=now, updated_at=now
        )
        return PendingAction.objects.create(
            tenant=context.tenant,
            conversation=context.conversation,
            customer=context.customer,
            assistant_id=str(context.assistant_id or "")[:64],
            tool=tool,
            arguments=_jsonable(proposal.arguments),
            summary=proposal.summary[:500],
            amount=proposal.amount,
            currency=proposal.currency,
            requires_approval=proposal.amount > approval_limit(context.tenant),
            expires_at=now + confirmation_ttl(context.tenant),
        )


def context_for(pending: PendingAction, *, actor: str) -> ToolContext:
    """The tool context a pending action runs in (its own tenant, customer and conversation)."""
    return ToolContext(
        tenant=pending.tenant,
        customer=pending.customer,
        conversation=pending.conversation,
        assistant_id=pending.assistant_id or None,
        allowed_tools={pending.tool},
        actor=actor,
        language=(getattr(pending.conversation, "language", "") or "en"),
    )


def expire_pending_action(pending: PendingAction) -> PendingAction:
    """The customer answered after the confirmation window closed: nothing will run."""
    pending.status = PendingActionStatus.EXPIRED
    pending.save(update_fields=["status", "updated_at"])
    return pending


def cancel_pending_action(pending: PendingAction, *, note: str) -> PendingAction:
    """The customer declined the proposed action: nothing runs."""
    pending.status = PendingActionStatus.CANCELLED
    pending.decided_at = timezone.now()
    pending.decision_note = note[:500]
    pending.save(update_fields=["status", "decided_at", "decision_note", "updated_at"])
    return pending


def confirm_pending_action(pending: PendingAction) -> PendingAction:
    """The customer confirmed: above the tenant's limit the action now waits for an agent's approval,
    otherwise the caller runs it (:func:`run_pending_action`)."""
    pending.confirmed_at = timezone.now()
    fields = ["confirmed_at", "updated_at"]
    if pending.requires_approval:
        pending.status = PendingActionStatus.AWAITING_APPROVAL
        fields.append("status")
    pending.save(update_fields=fields)
    return pending


def run_pending_action(pending: PendingAction, context: ToolContext, *, phase: str, approved_by: str) -> ToolResult:
    """Execute a confirmed (and if needed approved) action once; the caller holds the row lock.

    The provider call is idempotent on the pending action's id, so a retry never moves money twice.
    """
    started = time.perf_counter()
    tool_class = get_tool(pending.tool)
    error = ""
    if tool_class is None:
        result = ToolResult(status="error", message=say("no_longer_available", context.language))
        error = f"tool {pending.tool} is not registered"
    else:
        try:
            with transaction.atomic():
                result = tool_class().commit(dict(pending.arguments), context, idempotency_key=f"pending-action:{pending.pk}")
        except (ToolFailure, DomainError) as exc:
            message = exc.message if isinstance(exc, (ToolFailure, DomainError)) else str(exc)
            result = ToolResult(status="error", message=message)
            error = message
    now = timezone.now()
    pending.status = PendingActionStatus.EXECUTED if result.status == "ok" else PendingActionStatus.FAILED
    pending.result = {"status": result.status, "data": result.data, "message": result.message}
    pending.decided_at = pending.decided_at or now
    pending.save(update_fields=["status", "result", "decided_at", "updated_at"])
    record_execution(
        context=context,
        tool=pending.tool,
        arguments=pending.arguments,
        result=result,
        started=started,
        phase=phase,
        error=error,
        pending_action=pending,
        approved_by=approved_by,
    )
    result.pending_action_id = str(pending.pk)
    return result


def _locked_for_decision(pending: PendingAction) -> PendingAction:
    locked = PendingAction.objects.select_for_update().select_related("tenant", "customer", "conversation").get(pk=pending.pk)
    if locked.status != PendingActionStatus.AWAITING_APPROVAL:
        raise DomainError(f"this action is {locked.get_status_display().lower()}", code=ErrorCode.CONFLICT, status_code=409)
    return locked


def approve_pending_action(*, pending: PendingAction, user: Any, actor: str, note: str = "") -> PendingAction:
    """An agent approves a confirmed action above the approval limit: it runs now and the customer is told.

    Raises:
        DomainError: 409 when the action is not waiting for approval.
    """
    from parley.conversations.actions import send_outbound

    with transaction.atomic():
        locked = _locked_for_decision(pending)
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.decision_note = note[:500]
        locked.save(update_fields=["decided_by", "decided_at", "decision_note", "updated_at"])
        result = run_pending_action(locked, context_for(locked, actor=actor), phase="approve", approved_by=actor)
        record_audit_event(
            action="tools.pending_action_approved",
            actor=actor,
            actor_user=user,
            tenant=locked.tenant,
            target=locked,
            data={"tool": locked.tool, "summary": locked.summary, "outcome": result.status},
        )
        if result.message:
            _tell_customer(send_outbound, locked, result.message)
    return locked


def reject_pending_action(*, pending: PendingAction, user: Any, actor: str, note: str = "") -> PendingAction:
    """An agent rejects a confirmed action; nothing runs and the customer is told.

    Raises:
        DomainError: 409 when the action is not waiting for approval.
    """
    from parley.conversations.actions import send_outbound

    with transaction.atomic():
        locked = _locked_for_decision(pending)
        locked.status = PendingActionStatus.REJECTED
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.decision_note = note[:500]
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        context = context_for(locked, actor=actor)
        record_execution(
            context=context,
            tool=locked.tool,
            arguments=locked.arguments,
            result=ToolResult(status="refused", message="rejected by an agent"),
            started=time.perf_counter(),
            phase="reject",
            pending_action=locked,
            approved_by=actor,
        )
        record_audit_event(
            action="tools.pending_action_rejected",
            actor=actor,
            actor_user=user,
            tenant=locked.tenant,
            target=locked,
            data={"tool": locked.tool, "summary": locked.summary, "note": note[:500]},
        )
        _tell_customer(
            send_outbound,
            locked,
            f"A member of our team reviewed your request ({locked.summary}) and could not approve it."
            + (f" {note}" if note else "")
            + " Reply here if you have questions.",
        )
    return locked


def _tell_customer(send_outbound: Any, pending: PendingAction, text: str) -> None:
    try:
        send_outbound(
            conversation=pending.conversation,
            text=text,
            sender_type=SenderType.ASSISTANT,
            metadata={"pending_action": str(pending.pk)},
        )
    except DomainError as exc:  # a closed conversation: the decision stands, the agent sees it in the inbox
        log.info("pending_action_customer_not_told", pending_action=str(pending.pk), reason=exc.message)


def note_for_agents(pending: PendingAction, text: str) -> None:
    """A private note in the conversation so agents see that something waits for them."""
    from parley.conversations.actions import send_outbound

    send_outbound(
        conversation=pending.conversation,
        text=text,
        sender_type=SenderType.SYSTEM,
        is_private=True,
        metadata={"pending_action": str(pending.pk), "kind": "approval_request"},
    )


def schedule_followup(*, context: ToolContext, text: str, due_at: datetime) -> FollowUpTask:
    """Schedule a message to the conversation's customer at ``due_at`` (sent by the beat task).

    Raises:
        ToolFailure: too many follow-ups are already scheduled in this conversation.
    """
    scheduled = FollowUpTask.objects.filter(
        tenant=context.tenant, conversation=context.conversation, status=FollowUpStatus.SCHEDULED
    )
    if scheduled.count() >= MAX_SCHEDULED_FOLLOWUPS_PER_CONVERSATION:
        raise ToolFailure("There are already several follow-ups scheduled for this conversation.")
    return FollowUpTask.objects.create(
        tenant=context.tenant,
        conversation=context.conversation,
        customer=context.customer,
        due_at=due_at,
        text=text,
        created_by=context.actor[:200],
    )


def send_followup(followup_id: Any) -> str:
    """Send one due follow-up exactly once; returns what happened (sent, skipped, failed)."""
    from parley.conversations.actions import send_outbound

    with transaction.atomic():
        followup = (
            FollowUpTask.objects.select_for_update(skip_locked=True)
            .select_related("conversation")
            .filter(pk=followup_id, status=FollowUpStatus.SCHEDULED, due_at__lte=timezone.now())
            .first()
        )
        if followup is None:
            return "skipped"
        try:
            with transaction.atomic():
                message = send_outbound(
                    conversation=followup.conversation,
                    text=followup.text,
                    sender_type=SenderType.ASSISTANT,
                    metadata={"followup": str(followup.pk)},
                )
        except DomainError as exc:
            followup.status = FollowUpStatus.FAILED
            followup.metadata = {**followup.metadata, "error": exc.message}
            followup.save(update_fields=["status", "metadata", "updated_at"])
            return "failed"
        followup.status = FollowUpStatus.SENT
        followup.sent_at = timezone.now()
        followup.sent_message = message
        followup.save(update_fields=["status", "sent_at", "sent_message", "updated_at"])
    return "sent"


def due_followup_ids(limit: int = 200) -> list[str]:
    return [
        str(pk)
        for pk in FollowUpTask.objects.filter(status=FollowUpStatus.SCHEDULED, due_at__lte=timezone.now())
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    ]


def expire_pending_actions() -> int:
    """Mark unconfirmed actions past their expiry as ``expired`` (they could no longer run anyway)."""
    now = timezone.now()
    return PendingAction.objects.filter(status=PendingActionStatus.AWAITING_CONFIRMATION, expires_at__lte=now).update(
        status=PendingActionStatus.EXPIRED, updated_at=now
    )
