"""What the orchestrator calls: tool specs for the model, and executing tool calls safely.

Safety by construction:
- the model's arguments are data: validated against the tool's schema, never interpreted further;
- a tool runs only if it is registered, on the assistant's allow-list, and the context names a
  customer of the tenant (tools read the customer from the context, never from arguments);
- money tools (``requires_confirmation``) never run from a model's call: they store a PendingAction
  and return ``needs_confirmation``; :func:`confirm_pending_action` runs them only when the customer
  confirms in a later message of the same conversation, before expiry, once; above the tenant's
  approval limit an agent must also approve in the inbox;
- every call is audited (ToolExecution), and every refusal also leaves an audit event.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from parley.conversations.models import Direction, Message, SenderType
from parley.core.errors import DomainError
from parley.llm.types import ToolCall, ToolSpec
from parley.tools import actions
from parley.tools.base import Tool, ToolContext, ToolFailure, ToolResult, input_schema
from parley.tools.models import PendingAction, PendingActionStatus
from parley.tools.registry import all_tools, get_tool
from parley.tools.texts import say

log = structlog.get_logger(__name__)

GENERIC_FAILURE = "Sorry, I couldn't do that right now."


def tool_specs(allowed: Iterable[str]) -> list[ToolSpec]:
    """Specs of the allowed tools that exist (unknown names are skipped), sorted by name.

    Args:
        allowed: tool names from the assistant's allow-list.

    Returns:
        One :class:`ToolSpec` per tool, its ``parameters`` the JSON schema calls are validated against.
    """
    registered = all_tools()
    return [
        ToolSpec(name=name, description=registered[name].description, parameters=input_schema(registered[name]))
        for name in sorted(set(allowed))
        if name in registered
    ]


def _format_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(p) for p in error.get("loc", ())) or "arguments"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def check_tool_call(name: str, arguments: Any, allowed: Iterable[str]) -> str | None:
    """None when ``name(arguments)`` may be executed as far as allow-list and schema go, else the reason."""
    tool = get_tool(name)
    if tool is None:
        return f"unknown tool {name!r}"
    if name not in set(allowed):
        return f"tool {name!r} is not allowed for this assistant"
    if not isinstance(arguments, dict):
        return "arguments must be a JSON object"
    try:
        tool.Input.model_validate(arguments)
    except ValidationError as exc:
        return "invalid arguments: " + _format_errors(exc)
    return None


def tool_call_validator(allowed: Iterable[str]) -> Callable[[ToolCall], str | None]:
    """A validator for :func:`parley.llm.router.complete_with_tool_validation`."""
    allowed_set = set(allowed)

    def validate(call: ToolCall) -> str | None:
        return call.parse_error or check_tool_call(call.name, call.arguments, allowed_set)

    return validate


def _scope_problem(tool: type[Tool], context: ToolContext) -> str | None:
    tenant_id = getattr(context.tenant, "pk", None)
    customer = context.customer
    if tenant_id is None or customer is None or getattr(customer, "tenant_id", None) != tenant_id:
        return "no customer of this tenant in the context"
    conversation = context.conversation
    if conversation is not None and (conversation.tenant_id != tenant_id or conversation.customer_id != customer.pk):
        return "the conversation does not belong to this customer"
    if tool.scope == "conversation" and conversation is None:
        return "this tool needs a conversation"
    if tool.requires_confirmation and conversation is None:
        return "money tools need a conversation to confirm in"
    return None


def _refuse(context: ToolContext, name: str, arguments: Any, reason: str, started: float, message: str) -> ToolResult:
    result = ToolResult(status="refused", message=message, data={"reason": reason})
    actions.record_execution(
        context=context,
        tool=name,
        arguments=arguments if isinstance(arguments, dict) else {},
        result=result,
        started=started,
        error=reason,
    )
    actions.record_refusal(context=context, tool=name, reason=reason)
    log.warning("tool_call_refused", tool=name, reason=reason, conversation=str(getattr(context.conversation, "pk", "")))
    return result


def execute_tool(name: str, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
    """Run one tool call from the model, or refuse it.

    Args:
        name: the tool's name as the model gave it.
        arguments: the model's arguments (validated here against the tool's JSON schema).
        context: tenant, customer, conversation and the assistant's allow-list.

    Returns:
        ``ok`` with the tool's output; ``error`` (bad arguments, not found, tool failure) with a message
        safe for the customer; ``needs_confirmation`` for money tools (a PendingAction was stored,
        nothing was executed); ``refused`` when the call is not allowed (also written to the audit log).
    """
    started = time.perf_counter()
    tool = get_tool(name)
    if tool is None:
        return _refuse(context, name, arguments, f"unknown tool {name!r}", started, "That action is not available.")
    if name not in context.allowed_tools:
        return _refuse(context, name, arguments, "not on the assistant's allow-list", started, "That action is not available.")
    scope_problem = _scope_problem(tool, context)
    if scope_problem:
        return _refuse(context, name, arguments, scope_problem, started, say("not_available", context.language))
    if not isinstance(arguments, dict):
        arguments = {}
        problem = "arguments must be a JSON object"
    else:
        problem = None
    try:
        args = tool.Input.model_validate(arguments) if problem is None else None
    except ValidationError as exc:
        problem = "invalid arguments: " + _format_errors(exc)
        args = None
    if args is None:
        result = ToolResult(status="error", message=say("not_understood", context.language), data={"error": problem})
        actions.record_execution(
            context=context, tool=name, arguments=arguments, result=result, started=started, error=problem or ""
        )
        return result
    instance = tool()
    error = ""
    try:
        with transaction.atomic():
            if tool.requires_confirmation:
                proposal = instance.prepare(args, context)
                pending = actions.create_pending_action(context=context, tool=name, proposal=proposal)
                result = ToolResult(
                    status="needs_confirmation",
                    data={
                        "summary": proposal.summary,
                        "amount": str(proposal.amount),
                        "currency": proposal.currency,
                        "expires_at": pending.expires_at.isoformat(),
                    },
                    message=say("confirm", context.language, summary=proposal.summary),
                    pending_action_id=str(pending.pk),
                )
            else:
                result = instance.run(args, context)
    except (ToolFailure, DomainError) as exc:
        result = ToolResult(status="error", message=exc.message, data=getattr(exc, "data", {}) or {})
        error = exc.message
    except Exception as exc:  # a broken tool must not break the turn; the audit keeps the reason
        log.exception("tool_failed", tool=name)
        result = ToolResult(status="error", message=GENERIC_FAILURE)
        error = f"{type(exc).__name__}: {exc}"
    actions.record_execution(context=context, tool=name, arguments=arguments, result=result, started=started, error=error)
    return result


def pending_action_for(conversation: Any) -> PendingAction | None:
    """The action in ``conversation`` waiting for the customer's yes/no (newest, not expired), if any."""
    if conversation is None:
        return None
    return (
        PendingAction.objects.filter(
            tenant_id=conversation.tenant_id,
            conversation=conversation,
            status=PendingActionStatus.AWAITING_CONFIRMATION,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


def _customer_spoke_since(pending: PendingAction) -> bool:
    return Message.objects.filter(
        tenant_id=pending.tenant_id,
        conversation_id=pending.conversation_id,
        direction=Direction.INBOUND,
        sender_type=SenderType.CUSTOMER,
        created_at__gt=pending.created_at,
    ).exists()


def _record_confirm_phase(
    context: ToolContext, pending: Any, arguments: dict[str, Any], started: float, result: ToolResult, **extra: Any
) -> None:
    """Audit one outcome of the confirmation step of a pending action."""
    actions.record_execution(
        context=context,
        tool=pending.tool,
        arguments=arguments,
        result=result,
        started=started,
        phase="confirm",
        pending_action=pending,
        **extra,
    )


def confirm_pending_action(pending_action_id: Any, context: ToolContext, *, confirmed: bool) -> ToolResult:
    """Apply the customer's answer to a pending money action.

    Runs the action only when: it belongs to this tenant, conversation and customer; it is still
    waiting for confirmation and not expired; and the customer has written since it was proposed (a
    confirmation is always a later turn, never the model's own call). Above the tenant's approval
    limit it then waits for an agent (``needs_approval``).

    Args:
        pending_action_id: the id from the ``needs_confirmation`` result.
        context: the current turn's context.
        confirmed: the customer's answer (the orchestrator decides yes/no from their message).

    Returns:
        ``ok`` (executed, or cancelled when ``confirmed`` is False), ``needs_approval``, ``error``
        (expired, or the action failed) or ``refused`` (not theirs, already used, same turn).
    """
    started = time.perf_counter()
    try:
        pending_uuid = uuid.UUID(str(pending_action_id))
    except ValueError:
        return _refuse(
            context,
            "confirm_pending_action",
            {"id": str(pending_action_id)[:100]},
            "malformed pending action id",
            started,
            say("nothing_to_confirm", context.language),
        )
    with transaction.atomic():
        pending = (
            PendingAction.objects.select_for_update()
            .select_related("tenant", "customer", "conversation")
            .filter(pk=pending_uuid, tenant=context.tenant)
            .first()
        )
        if pending is None:
            return _refuse(
                context,
                "confirm_pending_action",
                {"id": str(pending_uuid)},
                "no such pending action in this tenant",
                started,
                say("nothing_to_confirm", context.language),
            )
        arguments = {"id": str(pending.pk), "confirmed": confirmed}
        if pending.conversation_id != getattr(context.conversation, "pk", None) or pending.customer_id != getattr(
            context.customer, "pk", None
        ):
            return _refuse(
                context,
                pending.tool,
                arguments,
                "pending action belongs to another conversation or customer",
                started,
                say("nothing_to_confirm", context.language),
            )
        if pending.status != PendingActionStatus.AWAITING_CONFIRMATION:
            return _refuse(
                context,
                pending.tool,
                arguments,
                f"pending action is already {pending.status}",
                started,
                say("already_handled", context.language),
            )
        if not _customer_spoke_since(pending):
            return _refuse(
                context,
                pending.tool,
                arguments,
                "confirmation must come from a later customer message",
                started,
                say("confirm_yourself", context.language),
            )
        if pending.expires_at <= timezone.now():
            actions.expire_pending_action(pending)
            result = ToolResult(
                status="error",
                message=say("expired", context.language),
                pending_action_id=str(pending.pk),
            )
            _record_confirm_phase(context, pending, arguments, started, result, error="expired")
            return result
        if not confirmed:
            actions.cancel_pending_action(pending, note="declined by the customer")
            result = ToolResult(
                status="ok",
                data={"cancelled": True},
                message=say("cancelled", context.language),
                pending_action_id=str(pending.pk),
            )
            _record_confirm_phase(context, pending, arguments, started, result)
            return result
        actions.confirm_pending_action(pending)
        if pending.status == PendingActionStatus.AWAITING_APPROVAL:
            result = ToolResult(
                status="needs_approval",
                data={"summary": pending.summary, "amount": str(pending.amount), "currency": pending.currency},
                message=say("needs_approval", context.language),
                pending_action_id=str(pending.pk),
            )
            _record_confirm_phase(context, pending, arguments, started, result, approved_by="customer")
            actions.note_for_agents(
                pending,
                f"Approval needed: {pending.summary} (confirmed by the customer). Approve or reject it in pending actions.",
            )
            return result
        return actions.run_pending_action(pending, context, phase="confirm", approved_by="customer")
