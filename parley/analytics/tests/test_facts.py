"""Conversation facts, flow and failure points derived from stored conversations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from parley.analytics import actions
from parley.analytics.business_hours import BusinessHours, InvalidBusinessHours
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.metrics.query import filtered_facts
from parley.analytics.metrics.support import breakdown, summary
from parley.analytics.models import ConversationFact, Outcome
from parley.analytics.tests.helpers import analysis, build
from parley.testing import factories

pytestmark = pytest.mark.django_db


def _fact(conversation: Any) -> ConversationFact:
    actions.refresh_facts([str(conversation.id)])
    return ConversationFact.objects.get(conversation=conversation)


def test_ai_resolved_conversation_has_times_path_and_no_failures(channel: Any) -> None:
    conversation = build(
        channel,
        [
            ("customer", "Where is my order?", analysis("order_status"), 0),
            ("assistant", "Hi! It ships tomorrow.", None, 2),
            ("customer", "Can I change the address?", analysis("change_address"), 10),
            ("assistant", "Done, the address is updated.", None, 14),
        ],
        resolved_at_min=20,
    )
    fact = _fact(conversation)
    assert fact.outcome == Outcome.RESOLVED_BY_AI
    assert fact.ai_resolved and fact.resolved and not fact.handed_over
    assert fact.first_response_s == pytest.approx(120)
    assert fact.reply_times == [pytest.approx(120), pytest.approx(240)]
    assert fact.reply_median_s == pytest.approx(180)
    assert fact.resolution_s == pytest.approx(1200)
    assert fact.intent == "order_status"
    assert fact.intent_path == ["order_status", "change_address"]
    assert fact.failure_count == 0
    assert fact.channel_type == channel.type


def test_handover_after_failed_turns_is_detected_with_the_turns(channel: Any, tenant: Any) -> None:
    agent = factories.make_user(tenant, "agent")
    conversation = build(
        channel,
        [
            ("customer", "my thing broke", analysis(None, "negative", -0.3), 0),
            ("assistant", "Sorry, I did not understand.", None, 1),
            ("customer", "Can you tell me the weather on Mars?", analysis(None, oos=True), 2),
            ("assistant", "I can only help with orders.", None, 3),
            ("customer", "This is useless, let me talk to a human!!!", analysis("human_agent", "negative", -0.9), 4),
            ("agent", "Hello, I'm sorry about that, let me help.", None, 9),
        ],
        handover_at_min=4.5,
        assignee=agent,
        agent=agent,
    )
    fact = _fact(conversation)
    kinds = {p["kind"]: p for p in fact.failure_points}
    assert kinds["fallback"]["turn_index"] == 0
    assert kinds["out_of_scope"]["turn_index"] == 2
    assert kinds["frustration"]["turn_index"] == 4
    assert "handover_after_failures" in kinds
    assert fact.handed_over and fact.outcome == Outcome.HANDED_OVER
    assert fact.agent_id == agent.id
    assert fact.queue_wait_s == pytest.approx(60)
    assert fact.intent_path == ["unrecognised", "out_of_scope", "human_agent", "handover"]
    assert fact.sentiment_first == pytest.approx(-0.3) and fact.sentiment_last == pytest.approx(-0.9)


def test_abandonment_after_assistant_turn_and_repeated_question(channel: Any) -> None:
    conversation = build(
        channel,
        [
            ("customer", "How do I get a refund?", analysis("refund", "neutral", 0.2), 0),
            ("assistant", "Go to your orders page.", None, 1),
            ("customer", "How do I get my money back?", analysis("refund", "negative", -0.6), 3),
            ("assistant", "Go to your orders page and click refund.", None, 4),
        ],
        start=datetime.now(UTC) - timedelta(days=2),
    )
    fact = _fact(conversation)
    assert fact.outcome == Outcome.ABANDONED and fact.abandoned
    kinds = [p["kind"] for p in fact.failure_points]
    assert kinds == ["repeated_question", "sentiment_drop", "abandonment"]
    assert fact.failure_points[-1]["turn_index"] == 3


def test_reopen_within_window_marks_resolution_not_durable(channel: Any) -> None:
    start = datetime.now(UTC) - timedelta(days=20)
    first = build(
        channel,
        [("customer", "Reset my password", analysis("password"), 0), ("assistant", "Link sent.", None, 1)],
        customer="returning",
        start=start,
        resolved_at_min=5,
    )
    lasting = build(
        channel,
        [("customer", "Cancel order", analysis("cancel"), 0), ("assistant", "Cancelled.", None, 1)],
        customer="happy",
        start=start,
        resolved_at_min=5,
    )
    second = build(
        channel,
        [("customer", "It still does not work", analysis("password", "negative", -0.5), 0)],
        customer="returning",
        start=start + timedelta(days=1),
    )
    assert second.id != first.id
    actions.refresh_facts([str(first.id), str(lasting.id), str(second.id)])
    assert ConversationFact.objects.get(conversation=first).reopened is True
    assert ConversationFact.objects.get(conversation=first).durable is False
    assert ConversationFact.objects.get(conversation=lasting).durable is True


def test_summary_and_breakdown_over_facts(channel: Any, tenant: Any) -> None:
    for minutes, resolved in ((1, True), (3, True), (5, False)):
        build(
            channel,
            [("customer", "Where is my order?", analysis("order_status"), 0), ("assistant", "Tomorrow.", None, minutes)],
            resolved_at_min=10 if resolved else None,
            status=None if resolved else "bot",
        )
    actions.refresh_facts([str(c) for c in ConversationFact.objects.none()] or [str(c.id) for c in channel.conversations.all()])
    facts = filtered_facts(tenant, AnalyticsFilter())
    result = summary(facts)
    assert result["conversations"] == 3
    assert result["first_response_avg_s"] == pytest.approx(180)
    assert result["first_response_median_s"] == pytest.approx(180)
    assert result["reply_time_median_s"] == pytest.approx(180)
    assert result["resolution_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert result["ai_resolution_rate"] == pytest.approx(2 / 3, abs=1e-3)
    rows = breakdown(facts, "intent")
    assert rows[0]["key"] == "order_status" and rows[0]["conversations"] == 3
    assert filtered_facts(tenant, AnalyticsFilter(intent="nothing")).count() == 0


def test_business_hours_count_only_opening_time() -> None:
    hours = BusinessHours.from_settings(
        {"business_hours": {"timezone": "Europe/Berlin", "hours": {"mon": ["09:00", "17:00"], "tue": ["09:00", "17:00"]}}}
    )
    assert hours is not None
    # Monday 16:00 Berlin → Tuesday 10:00 Berlin: one hour on Monday, one on Tuesday.
    start = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    end = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
    assert hours.seconds_between(start, end) == pytest.approx(7200)
    with pytest.raises(InvalidBusinessHours):
        BusinessHours.from_settings({"business_hours": {"hours": {"funday": ["09:00", "17:00"]}}})
    with pytest.raises(InvalidBusinessHours):
        BusinessHours.from_settings({"business_hours": {"hours": {"mon": ["17:00", "09:00"]}}})


def test_business_hours_variant_of_first_response(channel: Any, tenant: Any) -> None:
    tenant.settings = {
        "business_hours": {"timezone": "UTC", "hours": {d: ["09:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    }
    tenant.save()
    # Friday 16:30 UTC → Monday 09:30 UTC: 30 min Friday + 30 min Monday inside opening hours.
    start = datetime(2026, 11, 13, 16, 30, tzinfo=UTC)
    conversation = build(
        channel, [("customer", "Hello?", analysis("greeting"), 0), ("assistant", "Hi!", None, (2 * 24 + 17) * 60)], start=start
    )
    fact = _fact(conversation)
    assert fact.first_response_s == pytest.approx((2 * 24 + 17) * 3600)
    assert fact.first_response_bh_s == pytest.approx(3600)
