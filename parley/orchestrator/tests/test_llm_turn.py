"""The LLM responder through a real OpenAI-compatible HTTP server (the fake, recording requests): tool loop,
confirmations, the model's hand-over, and falling back when the LLM is down, slow or returns garbage."""

from __future__ import annotations

import time
from typing import Any

import pytest

from parley.assistants.actions import update_assistant
from parley.conversations.models import Conversation, ConversationStatus
from parley.knowledge.models import KnowledgeQuery
from parley.llm.models import LLMCall
from parley.orchestrator.models import TurnTrace
from parley.orchestrator.tests.conftest import llm_settings, make_order
from parley.orchestrator.tests.test_run_turn import last_reply, say
from parley.testing.fake_llm import FakeReply


@pytest.mark.django_db
def test_llm_calls_a_tool_then_answers(shop: dict[str, Any], fake_llm: Any) -> None:
    update_assistant(assistant=shop["assistant"], data={"llm": llm_settings(fake_llm)}, actor="test")
    first = say(shop["channel"], "hello there")
    make_order(first.conversation.customer, "1001")
    fake_llm.enqueue(
        FakeReply.tool_call("get_order_status", {"order_number": "1001"}),
        FakeReply.text("Your order #1001 shipped with DHL, tracking TRK1001."),
    )
    message = say(shop["channel"], "Where is my order 1001? How long does shipping take?")
    assert last_reply(message).text == "Your order #1001 shipped with DHL, tracking TRK1001."
    trace = TurnTrace.objects.get(message=message)
    assert trace.responder == "llm"
    assert [call["name"] for call in trace.tool_calls] == ["get_order_status"] and trace.tool_calls[0]["status"] == "ok"
    assert len(trace.llm_calls) == 2
    body = fake_llm.requests[-2].body
    offered = {tool["function"]["name"] for tool in body["tools"]}
    assert {"get_order_status", "refund_order", "handover_to_human"} <= offered
    system = body["messages"][0]["content"]
    assert "Friendly and brief." in system and "3 to 5 business days" in system
    tool_message = fake_llm.requests[-1].body["messages"][-1]
    assert tool_message["role"] == "tool" and "TRK1001" in tool_message["content"]
    # the bookkeeping written after the reply: both LLM attempts and the knowledge query of this turn
    calls = LLMCall.objects.filter(conversation_id=str(message.conversation_id), outcome="ok", created_at__gte=message.created_at)
    assert calls.count() == 2 and all(call.tenant_id == message.tenant_id for call in calls)
    assert KnowledgeQuery.objects.filter(conversation=message.conversation, query__startswith="Where is my order").count() == 1


@pytest.mark.django_db
def test_llm_refund_needs_the_customers_yes(shop: dict[str, Any], fake_llm: Any) -> None:
    update_assistant(assistant=shop["assistant"], data={"llm": llm_settings(fake_llm)}, actor="test")
    first = say(shop["channel"], "hi")
    order = make_order(first.conversation.customer, "1001", total="20.00")
    fake_llm.enqueue(FakeReply.tool_call("refund_order", {"order_number": "1001", "reason": "broken mug"}))
    proposal = say(shop["channel"], "refund order 1001 please, the mug is broken")
    assert [b["title"] for b in last_reply(proposal).buttons] == ["Yes", "No"]
    order.refresh_from_db()
    assert order.refunded_amount == 0
    calls_before = len(fake_llm.requests)
    yes = say(shop["channel"], "yes")
    order.refresh_from_db()
    assert order.refunded_amount == order.total
    assert len(fake_llm.requests) == calls_before  # the confirmation is decided without the model
    assert TurnTrace.objects.get(message=yes).responder == "confirmation"


@pytest.mark.django_db
def test_llm_can_hand_over(shop: dict[str, Any], fake_llm: Any) -> None:
    update_assistant(assistant=shop["assistant"], data={"llm": llm_settings(fake_llm)}, actor="test")
    fake_llm.enqueue(FakeReply.tool_call("handover_to_human", {"reason": "legal question"}))
    message = say(shop["channel"], "Can I sue the carrier for the delay?")
    trace = TurnTrace.objects.get(message=message)
    assert trace.handover_reason == "llm_handover"
    assert Conversation.objects.get(pk=message.conversation_id).status == ConversationStatus.PENDING_HUMAN


@pytest.mark.django_db
def test_primary_down_uses_the_fallback_backend(shop: dict[str, Any], fake_llm: Any, second_llm: Any) -> None:
    update_assistant(assistant=shop["assistant"], data={"llm": llm_settings(fake_llm, second_llm)}, actor="test")
    fake_llm.responder = lambda body: FakeReply.error(500, "boom")
    second_llm.enqueue(FakeReply.text("Standard shipping takes 3 to 5 business days (see Shipping)."))
    message = say(shop["channel"], "How long does shipping take?")
    assert last_reply(message).text.startswith("Standard shipping takes")
    assert TurnTrace.objects.get(message=message).llm_calls[0]["backend"] == "fake-1"


@pytest.mark.django_db
@pytest.mark.parametrize("failure", ["down", "garbage", "slow"])
def test_broken_llm_falls_back_to_the_retrieval_responder_in_time(shop: dict[str, Any], fake_llm: Any, failure: str) -> None:
    update_assistant(assistant=shop["assistant"], data={"llm": llm_settings(fake_llm, timeout_s=1.5)}, actor="test")
    replies = {"down": FakeReply.error(503, "overloaded"), "garbage": FakeReply.junk(), "slow": FakeReply.hang(8)}
    fake_llm.responder = lambda body: replies[failure]
    started = time.monotonic()
    message = say(shop["channel"], "How long does shipping take?")
    elapsed = time.monotonic() - started
    reply = last_reply(message)
    assert "3 to 5 business days" in reply.text and "Shipping" in reply.text
    trace = TurnTrace.objects.get(message=message)
    assert trace.responder == "retrieval" and any(error.startswith("llm:") for error in trace.errors)
    assert elapsed < 6, elapsed


@pytest.mark.django_db
def test_consecutive_low_confidence_turns_hand_over(shop: dict[str, Any], fake_llm: Any) -> None:
    update_assistant(
        assistant=shop["assistant"],
        data={"llm": llm_settings(fake_llm), "handover_rules": {"low_confidence_turns": 2}},
        actor="test",
    )
    fake_llm.responder = lambda body: FakeReply.text("I am not sure, could you tell me more?")
    first = say(shop["channel"], "blorp the zanzibar widget")
    assert TurnTrace.objects.get(message=first).low_confidence
    assert last_reply(first).text == "I am not sure, could you tell me more?"
    second = say(shop["channel"], "the quux frobnicator again")
    trace = TurnTrace.objects.get(message=second)
    assert trace.outcome == "handover" and trace.handover_reason == "low_confidence"


@pytest.mark.django_db
def test_an_invalid_tool_call_gets_one_repair_round_and_never_runs(shop: dict[str, Any], fake_llm: Any) -> None:
    update_assistant(assistant=shop["assistant"], data={"llm": llm_settings(fake_llm)}, actor="test")
    first = say(shop["channel"], "hello")
    make_order(first.conversation.customer, "1001")
    fake_llm.enqueue(
        FakeReply.tool_call("get_order_status", {"order": 1001, "drop_table": True}),  # off-schema arguments
        FakeReply.tool_call("get_order_status", {"order_number": "1001"}),  # the repaired call
        FakeReply.text("Order #1001 shipped."),
    )
    message = say(shop["channel"], "status of order 1001?")
    assert last_reply(message).text == "Order #1001 shipped."
    trace = TurnTrace.objects.get(message=message)
    assert [(call["name"], call["arguments"]) for call in trace.tool_calls] == [("get_order_status", {"order_number": "1001"})]
    feedback = fake_llm.requests[-2].body["messages"][-1]  # the repair round tells the model what was wrong
    assert feedback["role"] == "tool" and feedback["content"].startswith("ERROR: this call was not executed")
