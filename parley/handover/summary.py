"""The hand-over summary an agent reads first: built from the turns and their analysis by a template,
or written by the LLM when one is configured (falling back to the template on any failure)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import structlog

from parley.conversations.models import Conversation, Message, SenderType

log = structlog.get_logger(__name__)

REASONS = {
    "explicit_request": "the customer asked for a person",
    "negative_sentiment": "the customer seems upset",
    "low_confidence": "the assistant was not confident for several turns",
    "no_relevant_answer": "the knowledge base has no answer",
    "tool_needs_human": "an action needs a person's approval",
    "llm_handover": "the assistant decided a person should help",
    "out_of_scope": "the topic is outside the assistant's scope",
    "agent_takeover": "an agent took over",
    "attachment": "the customer sent a file the assistant cannot read",
}


def template_summary(conversation: Conversation, *, reason: str) -> str:
    """A factual summary: who, why, intents and sentiment seen, open items, the last customer messages."""
    messages = list(Message.objects.filter(conversation=conversation, is_private=False).order_by("-created_at")[:30])
    messages.reverse()
    customer_messages = [m for m in messages if m.sender_type == SenderType.CUSTOMER]
    intents = Counter(str(m.analysis.get("intent")) for m in customer_messages if m.analysis and m.analysis.get("intent"))
    scores = [float(m.analysis["sentiment_score"]) for m in customer_messages if m.analysis and "sentiment_score" in m.analysis]
    customer = conversation.customer
    lines = [
        f"Customer: {customer.name or 'unknown'}"
        + (f" <{customer.email}>" if customer.email else "")
        + (f", language {conversation.language}" if conversation.language else ""),
        f"Reason: {REASONS.get(reason, reason)}.",
    ]
    if intents:
        lines.append("Topics: " + ", ".join(f"{name} ×{count}" for name, count in intents.most_common(4)) + ".")
    if scores:
        lines.append(f"Sentiment: last {scores[-1]:+.2f}, lowest {min(scores):+.2f}.")
    tools = _tool_lines(conversation)
    if tools:
        lines.append("Actions so far: " + "; ".join(tools) + ".")
    if customer_messages:
        lines.append("Last customer messages:")
        lines.extend(f"  • {m.text[:200]}" for m in customer_messages[-3:])
    return "\n".join(lines)


def _tool_lines(conversation: Conversation) -> list[str]:
    from parley.orchestrator.models import TurnTrace

    lines: list[str] = []
    for trace in TurnTrace.objects.filter(conversation=conversation).order_by("created_at")[:20]:
        for call in trace.tool_calls or []:
            lines.append(f"{call.get('name')} → {call.get('status')}")
    return lines[-5:]


def build_summary(conversation: Conversation, *, reason: str) -> tuple[str, str]:
    """(summary, source): the LLM's summary when configured and working, else the template's."""
    template = template_summary(conversation, reason=reason)
    written = _llm_summary(conversation, template)
    return (written, "llm") if written else (template, "template")


def _llm_summary(conversation: Conversation, facts: str) -> str:
    from parley.orchestrator.llm_responder import routing_for
    from parley.orchestrator.optional import optional_module

    router = optional_module("parley.llm.router")
    types = optional_module("parley.llm.types")
    if router is None or types is None:
        return ""
    routing = routing_for(conversation.assistant)
    if routing is None:
        return ""
    history = Message.objects.filter(conversation=conversation, is_private=False).order_by("-created_at")[:20]
    transcript = "\n".join(f"{m.sender_type}: {m.text}" for m in reversed(list(history)))
    request: Any = types.LLMRequest(
        messages=[
            types.ChatMessage(
                role="system",
                content="Summarise this support conversation for the human agent taking over, in at most 5 short "
                "lines. Use only facts from the transcript and the notes; no greetings.",
            ),
            types.ChatMessage(role="user", content=f"Notes:\n{facts}\n\nTranscript:\n{transcript}"),
        ],
        tools=[],
        routing=routing,
        tenant_id=str(conversation.tenant_id),
        assistant_id=str(conversation.assistant_id) if conversation.assistant_id else None,
        conversation_id=str(conversation.id),
    )
    try:
        response = router.complete(request)
    except Exception as exc:  # noqa: BLE001 - summaries are best effort; the template is always there
        log.info("handover_summary_llm_failed", error=str(exc))
        return ""
    text = (getattr(response, "content", "") or "").strip()
    return f"{text}\n\n{facts}" if text else ""
