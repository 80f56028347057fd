"""Build conversations through the real actions, then place them in time (as stored history would be)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from parley.connectors.base import InboundMessage
from parley.conversations import actions as conversation_actions
from parley.conversations.models import Conversation, Message

_ids = itertools.count(1)


def analysis(
    intent: str | None, sentiment: str = "neutral", score: float = 0.0, *, oos: bool = False, language: str = "en"
) -> dict[str, Any]:
    """A ``MessageAnalysis.model_dump()`` as the intelligence pipeline stores it."""
    return {
        "intent": intent,
        "intent_confidence": 0.9 if intent else 0.1,
        "out_of_scope": oos,
        "sentiment": sentiment,
        "sentiment_score": score,
        "language": language,
        "model_version": "test",
    }


def build(
    channel: Any,
    script: list[tuple[str, str, dict[str, Any] | None, float]],
    *,
    customer: str | None = None,
    start: datetime | None = None,
    status: str | None = None,
    handover_at_min: float | None = None,
    resolved_at_min: float | None = None,
    assignee: Any = None,
    agent: Any = None,
) -> Conversation:
    """Play ``script`` — (sender, text, analysis, minutes after start) — through receive_inbound /
    send_outbound, then move the stored timestamps to ``start + minutes``."""
    start = start or timezone.now() - timedelta(days=1)
    customer = customer or f"cust-{next(_ids)}"
    conversation: Conversation | None = None
    placed: list[tuple[Message, float]] = []
    for sender, text, result, minutes in script:
        if sender == "customer":
            message = conversation_actions.receive_inbound(
                channel=channel,
                inbound=InboundMessage(
                    channel_type=channel.type, external_id=f"x-{next(_ids)}", sender_external_id=customer, text=text
                ),
                enqueue_turn=False,
            ).message
            conversation = message.conversation
        else:
            assert conversation is not None
            message = conversation_actions.send_outbound(
                conversation=conversation, text=text, sender_type=sender, sender_user=agent if sender == "agent" else None
            )
        if result is not None:
            Message.objects.filter(pk=message.pk).update(analysis=result)
        placed.append((message, minutes))
    assert conversation is not None
    for message, minutes in placed:
        Message.objects.filter(pk=message.pk).update(created_at=start + timedelta(minutes=minutes))
    fields: dict[str, Any] = {"created_at": start, "last_message_at": start + timedelta(minutes=placed[-1][1])}
    replies = [m for m, minutes in placed if m.sender_type in ("assistant", "agent")]
    if replies:
        fields["first_response_at"] = start + timedelta(
            minutes=next(mi for m, mi in placed if m.sender_type in ("assistant", "agent"))
        )
    if handover_at_min is not None:
        fields["handed_over_at"] = start + timedelta(minutes=handover_at_min)
        fields["status"] = "pending_human"
    if assignee is not None:
        fields["assignee"] = assignee
        fields["assigned_at"] = start + timedelta(minutes=(handover_at_min or 0) + 1)
        fields["status"] = "assigned"
    if resolved_at_min is not None:
        fields["resolved_at"] = start + timedelta(minutes=resolved_at_min)
        fields["status"] = "resolved"
    if status is not None:
        fields["status"] = status
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    conversation.refresh_from_db()
    return conversation
