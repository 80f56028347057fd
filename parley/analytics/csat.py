"""Post-conversation CSAT surveys: send after resolution, parse the 1–5 answer, remind, expire.

The orchestrator calls :func:`capture_csat_answer` first for every inbound message; when it returns
True the message was a survey answer and needs no assistant turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from parley.analytics.models import CsatStatus, CsatSurvey
from parley.conversations import actions as conversation_actions
from parley.conversations.models import Conversation, ConversationStatus, Message
from parley.core.errors import DomainError

log = structlog.get_logger(__name__)

DEFAULT_QUESTION = "How would you rate our help today? Reply with a number from 1 (very poor) to 5 (excellent)."
DEFAULT_REMINDER = "A quick reminder: how would you rate our help? Reply 1 (very poor) to 5 (excellent)."
DEFAULT_THANKS = "Thank you for your feedback!"
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_SCORE = re.compile(
    r"^\s*(?:csat[_:\s-]*)?([1-5])(?:\s*(?:/|out of|of)\s*5)?(?:\s*(?:stars?|\*))?(?=$|[\s.,!:;)-])(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_WORD_SCORE = re.compile(r"^\s*(one|two|three|four|five)\b(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class CsatSettings:
    """``Tenant.settings["csat"]``: enabled, delay, reminder, expiry and the texts."""

    enabled: bool = True
    delay_minutes: int = 0
    reminder_after_hours: float = 4.0
    max_reminders: int = 1
    expire_after_hours: float = 72.0
    question: str = DEFAULT_QUESTION
    reminder: str = DEFAULT_REMINDER
    thanks: str = DEFAULT_THANKS

    @classmethod
    def for_tenant(cls, tenant: Any) -> CsatSettings:
        raw = (tenant.settings or {}).get("csat", {}) if isinstance(tenant.settings, dict) else {}
        defaults = cls()
        return cls(
            enabled=bool(raw.get("enabled", defaults.enabled)),
            delay_minutes=int(raw.get("delay_minutes", defaults.delay_minutes)),
            reminder_after_hours=float(raw.get("reminder_after_hours", defaults.reminder_after_hours)),
            max_reminders=int(raw.get("max_reminders", defaults.max_reminders)),
            expire_after_hours=float(raw.get("expire_after_hours", defaults.expire_after_hours)),
            question=str(raw.get("question") or defaults.question),
            reminder=str(raw.get("reminder") or defaults.reminder),
            thanks=str(raw.get("thanks") or defaults.thanks),
        )


def parse_score(text: str) -> tuple[int, str] | None:
    """A 1–5 score at the start of ``text`` ("4", "5/5", "3 stars", "⭐⭐⭐⭐", "four", "csat_2"),
    with the rest as a comment; None when the message is not an answer."""
    text = (text or "").strip()
    if not text:
        return None
    stars = len(text) - len(text.lstrip("⭐★"))
    if 1 <= stars <= 5:
        return stars, text[stars:].strip(" .,!-")
    match = _SCORE.match(text) or _WORD_SCORE.match(text)
    if not match:
        return None
    raw = match.group(1).lower()
    score = _WORDS.get(raw) or int(raw)
    comment = match.group(2).strip(" .,!-:;")
    return score, comment[:2000]


def _buttons() -> list[dict[str, str]]:
    return [{"id": f"csat_{n}", "title": str(n)} for n in range(1, 6)]


def send_csat_survey(conversation: Conversation) -> CsatSurvey | None:
    """Ask the customer of a resolved conversation for a rating, once, on the same channel.

    Returns:
        The survey, or None when the conversation is not eligible (not resolved, imported, already
        surveyed, CSAT disabled for the tenant).
    """
    settings = CsatSettings.for_tenant(conversation.tenant)
    if not settings.enabled or conversation.status != ConversationStatus.RESOLVED or conversation.source != "live":
        return None
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if CsatSurvey.objects.filter(conversation=locked).exists():
            return None
        message = conversation_actions.send_outbound(
            conversation=locked, text=settings.question, sender_type="system", buttons=_buttons(), metadata={"csat": "survey"}
        )
        survey = CsatSurvey.objects.create(
            tenant_id=locked.tenant_id,
            conversation=locked,
            customer_id=locked.customer_id,
            channel_id=locked.channel_id,
            sent_at=message.created_at,
            sent_message=message,
        )
    log.info("csat_survey_sent", conversation_id=str(conversation.id))
    return survey


def send_csat_reminder(survey: CsatSurvey, *, now: Any = None) -> bool:
    """Remind the customer of an unanswered survey, or expire it; returns True when a reminder went out."""
    now = now or timezone.now()
    settings = CsatSettings.for_tenant(survey.conversation.tenant)
    if survey.status != CsatStatus.PENDING:
        return False
    if now - survey.sent_at >= timedelta(hours=settings.expire_after_hours) or survey.reminders_sent >= settings.max_reminders:
        if now - survey.sent_at >= timedelta(hours=settings.expire_after_hours):
            CsatSurvey.objects.filter(pk=survey.pk, status=CsatStatus.PENDING).update(status=CsatStatus.EXPIRED, updated_at=now)
        return False
    last = survey.last_reminder_at or survey.sent_at
    if now - last < timedelta(hours=settings.reminder_after_hours):
        return False
    with transaction.atomic():
        locked = CsatSurvey.objects.select_for_update().get(pk=survey.pk)
        if locked.status != CsatStatus.PENDING or locked.reminders_sent != survey.reminders_sent:
            return False
        try:
            conversation_actions.send_outbound(
                conversation=locked.conversation,
                text=settings.reminder,
                sender_type="system",
                buttons=_buttons(),
                metadata={"csat": "reminder"},
            )
        except DomainError:
            locked.status = CsatStatus.EXPIRED
            locked.save(update_fields=["status", "updated_at"])
            return False
        locked.reminders_sent += 1
        locked.last_reminder_at = now
        locked.save(update_fields=["reminders_sent", "last_reminder_at", "updated_at"])
    return True


def pending_survey_for(message: Message) -> CsatSurvey | None:
    """The customer's open survey on the message's channel that this message could answer."""
    conversation = message.conversation
    settings = CsatSettings.for_tenant(conversation.tenant)
    return (
        CsatSurvey.objects.filter(
            tenant_id=message.tenant_id,
            customer_id=conversation.customer_id,
            channel_id=message.channel_id or conversation.channel_id,
            status=CsatStatus.PENDING,
            sent_at__lte=message.created_at,
            sent_at__gte=message.created_at - timedelta(hours=settings.expire_after_hours),
        )
        .select_related("conversation")
        .order_by("-sent_at")
        .first()
    )


def capture_csat_answer(message: Message) -> bool:
    """Record ``message`` as the answer to the customer's pending survey, if it is one.

    Args:
        message: an inbound customer message, just stored.

    Returns:
        True when the message answered a pending survey (the caller should not run an assistant
        turn for it); False otherwise — including when a survey is pending but the text is not a
        1–5 rating, so the customer's real question is still answered.
    """
    if message.direction != "inbound" or message.sender_type != "customer":
        return False
    button = str((message.metadata or {}).get("button_id") or "") if isinstance(message.metadata, dict) else ""
    parsed = parse_score(button if button.startswith("csat_") else message.text)
    if parsed is None:
        return False
    survey = pending_survey_for(message)
    if survey is None:
        return False
    score, comment = parsed
    with transaction.atomic():
        locked = CsatSurvey.objects.select_for_update().get(pk=survey.pk)
        if locked.status != CsatStatus.PENDING:
            return False
        locked.status = CsatStatus.ANSWERED
        locked.score = score
        locked.comment = comment
        locked.answered_at = message.created_at
        locked.answer_message = message
        locked.save(update_fields=["status", "score", "comment", "answered_at", "answer_message", "updated_at"])
        answer_conversation = Conversation.objects.get(pk=message.conversation_id)
        settings = CsatSettings.for_tenant(answer_conversation.tenant)
        if answer_conversation.status != ConversationStatus.CLOSED:
            conversation_actions.send_outbound(
                conversation=answer_conversation, text=settings.thanks, sender_type="system", metadata={"csat": "thanks"}
            )
        if answer_conversation.pk != locked.conversation_id and answer_conversation.message_count <= 1:
            # The answer opened a new thread (the surveyed one was resolved): close it again so it
            # does not count as a new conversation or a reopen.
            conversation_actions.update_conversation(
                conversation=answer_conversation, changes={"status": ConversationStatus.CLOSED}, actor="system:csat"
            )
        conversation_id = str(locked.conversation_id)
        transaction.on_commit(lambda: _refresh_later(conversation_id))
    log.info("csat_answer_captured", conversation_id=conversation_id, score=score)
    return True


def _refresh_later(conversation_id: str) -> None:
    from parley.analytics.tasks import refresh_facts

    refresh_facts.apply_async(args=[[conversation_id]], queue="analytics")
