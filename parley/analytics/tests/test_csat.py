"""CSAT: the survey goes out on the conversation's channel, the answer is parsed, reminders follow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from parley.analytics import actions, tasks
from parley.analytics.csat import capture_csat_answer, parse_score
from parley.analytics.models import ConversationFact, CsatStatus, CsatSurvey
from parley.conversations import actions as conversation_actions
from parley.conversations.models import Conversation, ConversationStatus, Message
from parley.testing import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", (5, "")),
        ("4 - quick and friendly", (4, "quick and friendly")),
        ("3/5", (3, "")),
        ("2 stars", (2, "")),
        ("⭐⭐⭐⭐", (4, "")),
        ("five!", (5, "")),
        ("csat_1", (1, "")),
        ("7", None),
        ("12 items are missing from order 1234", None),
        ("Where is my order?", None),
        ("", None),
    ],
)
def test_parse_score(text: str, expected: tuple[int, str] | None) -> None:
    assert parse_score(text) == expected


def _resolved_conversation(channel: Any, customer: str = "cust-csat") -> Conversation:
    conversation = factories.inbound(channel, "My parcel is late", sender=customer).conversation
    conversation_actions.send_outbound(conversation=conversation, text="It arrives today.", sender_type="assistant")
    return conversation_actions.update_conversation(
        conversation=conversation, changes={"status": "resolved"}, actor="agent@acme.test"
    )


def test_survey_is_sent_once_and_the_answer_is_captured(channel: Any) -> None:
    conversation = _resolved_conversation(channel)
    assert tasks.send_due_csat_surveys() == 1  # beat finds it and queues the survey task
    survey = actions.send_csat_survey(conversation)
    assert survey is not None
    assert actions.send_csat_survey(conversation) is None  # once only
    question = Message.objects.get(pk=survey.sent_message_id)
    assert question.sender_type == "system" and question.channel_id == channel.id
    assert [b["title"] for b in question.buttons] == ["1", "2", "3", "4", "5"]

    # The customer answers on the same channel; the resolved conversation means a new thread opens.
    answer = factories.inbound(channel, "4 thanks, very quick", sender="cust-csat")
    assert capture_csat_answer(answer) is True
    survey.refresh_from_db()
    assert survey.status == CsatStatus.ANSWERED and survey.score == 4 and survey.comment == "thanks, very quick"
    answer_conversation = Conversation.objects.get(pk=answer.conversation_id)
    assert answer_conversation.status == ConversationStatus.CLOSED
    assert answer_conversation.messages.filter(sender_type="system", text__icontains="thank").exists()
    assert capture_csat_answer(answer) is False  # already answered

    actions.refresh_facts([str(conversation.id), str(answer_conversation.id)])
    fact = ConversationFact.objects.get(conversation=conversation)
    assert fact.csat_score == 4
    assert fact.reopened is False  # the survey answer is not a return visit


def test_a_real_question_is_not_taken_for_an_answer(channel: Any) -> None:
    conversation = _resolved_conversation(channel, "cust-q")
    actions.send_csat_survey(conversation)
    question = factories.inbound(channel, "Actually, can I change the delivery address?", sender="cust-q")
    assert capture_csat_answer(question) is False
    assert CsatSurvey.objects.get(conversation=conversation).status == CsatStatus.PENDING


def test_unresolved_or_imported_conversations_get_no_survey(channel: Any, tenant: Any) -> None:
    open_conversation = factories.inbound(channel, "hello", sender="cust-open").conversation
    assert actions.send_csat_survey(open_conversation) is None
    tenant.settings = {"csat": {"enabled": False}}
    tenant.save()
    assert actions.send_csat_survey(_resolved_conversation(channel, "cust-off")) is None


def test_reminder_then_expiry(channel: Any) -> None:
    conversation = _resolved_conversation(channel, "cust-slow")
    survey = actions.send_csat_survey(conversation)
    assert survey is not None
    assert actions.send_csat_reminder(survey, now=survey.sent_at + timedelta(hours=1)) is False
    assert actions.send_csat_reminder(survey, now=survey.sent_at + timedelta(hours=5)) is True
    survey.refresh_from_db()
    assert survey.reminders_sent == 1
    assert conversation.messages.filter(metadata__csat="reminder").count() == 1
    assert actions.send_csat_reminder(survey, now=survey.sent_at + timedelta(hours=10)) is False  # max 1 reminder
    actions.send_csat_reminder(survey, now=survey.sent_at + timedelta(hours=80))
    survey.refresh_from_db()
    assert survey.status == CsatStatus.EXPIRED
    late = factories.inbound(channel, "5", sender="cust-slow")
    assert capture_csat_answer(late) is False


def test_beat_schedule_has_the_analytics_jobs() -> None:
    from parley.config.celery import app

    names = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {
        "parley.analytics.refresh_stale_facts",
        "parley.analytics.rebuild_recent_rollups",
        "parley.analytics.send_due_csat_surveys",
        "parley.analytics.csat_reminders",
        "parley.analytics.evaluate_alerts",
    } <= names
