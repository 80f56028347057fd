"""Building the ContextBundle: customer, identities, memory, recent messages within a token budget,
open orders and tickets, channel, language and the assistant's active configuration."""

from __future__ import annotations

from typing import Any

from parley.assistants.models import Assistant, AssistantVersion
from parley.conversations.models import Conversation, Message, SenderType, Ticket, TicketStatus
from parley.customers.models import CustomerIdentity
from parley.orchestrator.interface import ContextBundle, HistoryLine
from parley.orchestrator.optional import optional_module

HISTORY_TOKEN_BUDGET = 1500
HISTORY_MAX_MESSAGES = 40


def approx_tokens(text: str) -> int:
    """A cheap token estimate (about four characters per token), good enough for budgeting."""
    return max(1, len(text) // 4)


def recent_history(
    conversation: Conversation, *, before: Message | None, budget: int = HISTORY_TOKEN_BUDGET
) -> list[HistoryLine]:
    """The latest public messages before ``before``, oldest first, within ``budget`` tokens."""
    rows = Message.objects.filter(conversation=conversation, is_private=False).exclude(text="")
    if before is not None:
        rows = rows.filter(created_at__lt=before.created_at)
    picked: list[HistoryLine] = []
    spent = 0
    # two columns, not whole messages (their metadata can hold a provider's raw payload)
    for sender_type, text in rows.order_by("-created_at").values_list("sender_type", "text")[:HISTORY_MAX_MESSAGES]:
        cost = approx_tokens(text)
        if spent + cost > budget:
            break
        spent += cost
        role = {
            SenderType.CUSTOMER: "customer",
            SenderType.ASSISTANT: "assistant",
            SenderType.AGENT: "agent",
        }.get(SenderType(sender_type), "system")
        picked.append(HistoryLine(role=role, text=text))  # type: ignore[arg-type]
    picked.reverse()
    return picked


def open_orders(conversation: Conversation) -> list[dict[str, Any]]:
    """The customer's orders that are not finished, when the commerce app is installed."""
    models = optional_module("parley.commerce.models")
    order_model = getattr(models, "Order", None) if models else None
    if order_model is None:
        return []
    rows = order_model.objects.filter(tenant_id=conversation.tenant_id, customer_id=conversation.customer_id)
    found: list[dict[str, Any]] = []
    for number, status in rows.order_by("-created_at").values_list("number", "status")[:10]:
        if status in ("delivered", "cancelled", "canceled", "refunded", "closed", "completed"):
            continue
        found.append({"number": str(number), "status": str(status)})
    return found


def build_context(
    *,
    conversation: Conversation,
    message: Message | None,
    assistant: Assistant | None,
    version: AssistantVersion | None,
    language: str,
) -> ContextBundle:
    """Everything the responder may use for this turn."""
    customer = conversation.customer
    identities = [
        {"channel": channel_type, "external_id": external_id}
        for channel_type, external_id in CustomerIdentity.objects.filter(
            tenant_id=conversation.tenant_id, customer=customer
        ).values_list("channel_type", "external_id")
    ]
    tickets = [
        {"id": str(ticket_id), "subject": subject, "status": status}
        for ticket_id, subject, status in Ticket.objects.filter(
            tenant_id=conversation.tenant_id, customer=customer, status__in=(TicketStatus.OPEN, TicketStatus.PENDING)
        ).values_list("id", "subject", "status")[:10]
    ]
    return ContextBundle(
        tenant_id=str(conversation.tenant_id),
        conversation_id=str(conversation.id),
        channel_type=conversation.channel.type,
        language=language,
        customer={"name": customer.name, "email": customer.email, "phone": customer.phone, "language": customer.language},
        identities=identities,
        memory_summary=customer.memory_summary,
        history=recent_history(conversation, before=message),
        open_orders=open_orders(conversation),
        open_tickets=tickets,
        assistant_name=assistant.name if assistant else "",
        persona=version.persona if version else "",
        instructions=version.instructions if version else "",
        allowed_tools=list(assistant.allowed_tools or []) if assistant else [],
        reply_languages=list(assistant.languages or []) if assistant else [],
    )
