"""run_turn end to end on real PostgreSQL/Redis: knowledge answers, order lookups, refunds with
confirmation, hand-over; idempotency, the per-conversation lock, suggestions while a human owns it."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pytest

from parley.connectors.base import InboundMessage
from parley.conversations import actions as conversation_actions
from parley.conversations.models import Conversation, ConversationStatus, Message, SenderType
from parley.core.redis import get_redis
from parley.handover.models import Handover, HandoverState, Suggestion
from parley.orchestrator import turn as turn_module
from parley.orchestrator.models import TurnTrace
from parley.orchestrator.tests.conftest import make_order, online_agent
from parley.orchestrator.turn import TurnBusy, run_turn
from parley.testing import factories

_ids = iter(range(1, 10_000))


def say(channel: Any, text: str, *, sender: str = "cust-1", button_id: str = "") -> Message:
    """The customer writes; the turn runs synchronously; returns the inbound message."""
    result = conversation_actions.receive_inbound(
        channel=channel,
        inbound=InboundMessage(
            channel_type=channel.type, external_id=f"m-{next(_ids)}", sender_external_id=sender, text=text, button_id=button_id
        ),
        enqueue_turn=False,
    )
    run_turn(str(result.message.id))
    return result.message


def replies(message: Message) -> list[Message]:
    return list(
        Message.objects.filter(
            conversation=message.conversation, sender_type=SenderType.ASSISTANT, metadata__turn_message_id=str(message.id)
        )
    )


def last_reply(message: Message) -> Message:
    found = replies(message)
    assert found, f"no reply to {message.text!r}"
    return found[-1]


@pytest.mark.django_db
def test_knowledge_answer_order_lookup_refund_with_confirmation_then_handover(shop: dict[str, Any]) -> None:
    channel, tenant = shop["channel"], shop["tenant"]
    agent = online_agent(tenant)

    question = say(channel, "How long does a refund take to reach my card?")
    answer = last_reply(question)
    assert "5 business days" in answer.text and "Returns and refunds" in answer.text
    assert answer.metadata["citations"][0]["title"] == "Returns and refunds"
    customer = question.conversation.customer
    make_order(customer, "1001", total="30.00")

    lookup = say(channel, "Where is my order #1001?")
    status = last_reply(lookup)
    assert "#1001" in status.text and "Shipped" in status.text and "TRK1001" in status.text
    trace = TurnTrace.objects.get(message=lookup)
    assert trace.tool_calls[0]["name"] == "get_order_status" and trace.tool_calls[0]["status"] == "ok"

    refund = say(channel, "Please refund order #1001, the mug came in pieces")
    proposal = last_reply(refund)
    assert "confirm" in proposal.text.lower() and "1001" in proposal.text
    assert [b["id"] for b in proposal.buttons] == ["confirm_yes", "confirm_no"]
    order = customer.orders.get(number="1001")
    assert order.refunded_amount == 0

    unclear = say(channel, "hmm what would that mean for my points?")
    assert "Yes or No" in last_reply(unclear).text
    order.refresh_from_db()
    assert order.refunded_amount == 0

    confirmed = say(channel, "Yes please", button_id="confirm_yes")
    done = last_reply(confirmed)
    order.refresh_from_db()
    assert order.refunded_amount == order.total
    assert "30.00" in done.text
    assert TurnTrace.objects.get(message=confirmed).outcome == "confirmed"

    human = say(channel, "Now I'd like to talk to a human please")
    notice = last_reply(human)
    assert "team" in notice.text
    conversation = Conversation.objects.get(pk=human.conversation_id)
    assert conversation.status == ConversationStatus.ASSIGNED and conversation.assignee_id == agent.id
    handover = Handover.objects.get(conversation=conversation)
    assert handover.reason == "explicit_request" and handover.state == HandoverState.ASSIGNED
    assert "refund_order" in handover.summary and "talk to a human" in handover.summary
    assert Message.objects.filter(conversation=conversation, is_private=True, text__contains="Handover").exists()
    stored = Message.objects.get(pk=human.pk)
    assert stored.analysis["language"] == "en" and "sentiment_score" in stored.analysis


@pytest.mark.django_db
def test_a_turn_embeds_the_message_once_in_the_background_and_reads_the_knowledge_settings_once(
    shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from parley.intelligence import embeddings

    encoder = embeddings.get_encoder()
    seen: list[tuple[str, str]] = []

    class Recording:
        def encode(self, texts: list[str], **kwargs: Any) -> Any:
            seen.extend((text, threading.current_thread().name) for text in texts)
            return encoder.encode(texts, **kwargs)

    monkeypatch.setattr(embeddings, "get_encoder", lambda: Recording())
    text = f"How long does a refund take to reach my card, case {next(_ids)}?"  # never embedded before
    with CaptureQueriesContext(connection) as queries:
        question = say(shop["channel"], text)
    assert "5 business days" in last_reply(question).text  # the background vector found the right passage
    names = [name for embedded, name in seen if embedded == text]
    assert len(names) == 1 and names[0].startswith("parley-embed"), names
    settings_reads = [q["sql"] for q in queries.captured_queries if 'FROM "knowledge_knowledgesettings"' in q["sql"]]
    assert len(settings_reads) == 1


@pytest.mark.django_db
def test_a_turn_queued_with_its_conversation_reads_message_and_conversation_in_one_query(shop: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    message = factories.inbound(shop["channel"], text="Hello there", sender="cust-q")
    with CaptureQueriesContext(connection) as queries:
        run_turn(str(message.id), conversation_id=str(message.conversation_id))
    before_trace = []
    for query in queries.captured_queries:
        if 'INSERT INTO "orchestrator_turntrace"' in query["sql"]:
            break
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            before_trace.append(query["sql"])
    assert len(before_trace) == 1 and 'FROM "conversations_message"' in before_trace[0]
    assert 'JOIN "conversations_conversation"' in before_trace[0]
    assert replies(message)


@pytest.mark.django_db
def test_a_turn_queued_with_the_wrong_conversation_still_answers_under_the_right_lock(shop: dict[str, Any]) -> None:
    first = factories.inbound(shop["channel"], text="Hi", sender="cust-a")
    other = factories.inbound(shop["channel"], text="How long does a refund take to reach my card?", sender="cust-b")
    assert first.conversation_id != other.conversation_id
    run_turn(str(other.id), conversation_id=str(first.conversation_id))
    assert "5 business days" in last_reply(other).text
    assert not replies(first)


@pytest.mark.django_db
def test_german_request_for_a_person_is_answered_in_german_and_queued_without_agents(shop: dict[str, Any]) -> None:
    message = say(shop["channel"], "Ich möchte bitte mit einem Mitarbeiter sprechen")
    assert "Team" in last_reply(message).text
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.status == ConversationStatus.PENDING_HUMAN
    assert Handover.objects.get(conversation=conversation).state == HandoverState.QUEUED


@pytest.mark.django_db
def test_nothing_relevant_hands_over_instead_of_guessing(shop: dict[str, Any]) -> None:
    message = say(shop["channel"], "Do you sell replacement parts for vintage tractors?")
    trace = TurnTrace.objects.get(message=message)
    assert trace.outcome == "handover" and trace.handover_reason == "no_relevant_answer"
    assert trace.responder == "retrieval"
    assert trace.retrieved is not None


@pytest.mark.django_db
def test_retried_turn_does_not_reply_twice(shop: dict[str, Any]) -> None:
    message = say(shop["channel"], "How long does shipping take?")
    assert run_turn(str(message.id)) == "duplicate"
    TurnTrace.objects.filter(message=message).update(status="running")  # a crash after the reply was stored
    assert run_turn(str(message.id)) == "duplicate"
    assert len(replies(message)) == 1


@pytest.mark.django_db
def test_the_trace_counts_runs_and_a_retry_after_a_crash_runs_again_without_a_second_reply(shop: dict[str, Any]) -> None:
    message = say(shop["channel"], "How long does shipping take?")
    trace = TurnTrace.objects.get(message=message)
    assert (trace.status, trace.attempts) == ("done", 1)
    # a worker died mid-turn before the reply: the trace says running, and no reply exists yet
    replies(message)[0].delete()
    TurnTrace.objects.filter(message=message).update(status="running")
    assert run_turn(str(message.id)) == "answer"
    trace.refresh_from_db()
    assert (trace.status, trace.attempts) == ("done", 2)
    assert len(replies(message)) == 1


@pytest.mark.django_db
def test_a_busy_conversation_makes_the_turn_retry_later(shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    message = factories.inbound(shop["channel"], "How long does shipping take?")
    monkeypatch.setattr(turn_module, "LOCK_WAIT_S", 0.2)
    lock = get_redis().lock(f"parley:turn-lock:{message.conversation_id}", timeout=30)
    assert lock.acquire()
    try:
        with pytest.raises(TurnBusy):
            run_turn(str(message.id))
        assert not replies(message)
    finally:
        lock.release()
    assert run_turn(str(message.id)) == "answer"


@pytest.mark.django_db
def test_while_an_agent_owns_the_conversation_the_assistant_only_suggests(shop: dict[str, Any]) -> None:
    from parley.handover.actions import take_over

    first = factories.inbound(shop["channel"], "hello", sender="cust-9")
    agent = factories.make_user(shop["tenant"], "agent")
    take_over(conversation=first.conversation, user=agent, actor="test")
    message = say(shop["channel"], "How long does shipping take?", sender="cust-9")
    assert not replies(message)
    suggestion = Suggestion.objects.get(message=message)
    assert "3 to 5 business days" in suggestion.text
    assert TurnTrace.objects.get(message=message).mode == "suggestion"


@pytest.mark.django_db
def test_negative_sentiment_hands_over(shop: dict[str, Any]) -> None:
    message = say(shop["channel"], "This is the worst, most useless and horrible service ever. I hate it!")
    assert TurnTrace.objects.get(message=message).handover_reason == "negative_sentiment"


@pytest.mark.django_db
def test_declining_a_refund_cancels_it(shop: dict[str, Any]) -> None:
    proposal = say(shop["channel"], "I want a refund for order #2002", sender="cust-5")
    customer = proposal.conversation.customer
    assert "couldn't find" in last_reply(proposal).text  # not this customer's order yet
    make_order(customer, "2002")
    proposal = say(shop["channel"], "I want a refund for order #2002", sender="cust-5")
    assert last_reply(proposal).buttons
    no = say(shop["channel"], "nein", sender="cust-5")
    assert TurnTrace.objects.get(message=no).outcome == "declined"
    assert customer.orders.get(number="2002").refunded_amount == 0


@pytest.mark.django_db(transaction=True)
def test_inbound_message_is_answered_by_the_worker_and_traced(celery_worker_thread: Any) -> None:
    from parley.orchestrator.tests.conftest import REFUND_POLICY, add_knowledge, make_assistant

    tenant = factories.make_tenant("turns-worker")
    make_assistant(tenant)
    add_knowledge(tenant, [("Returns and refunds", REFUND_POLICY)])
    channel = factories.make_channel(tenant)
    result = conversation_actions.receive_inbound(
        channel=channel,
        inbound=InboundMessage(
            channel_type=channel.type,
            external_id="w-1",
            sender_external_id="v1",
            text="How many days do I have to return an item?",
        ),
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not TurnTrace.objects.filter(message=result.message, status="done").exists():
        time.sleep(0.2)
    trace = TurnTrace.objects.get(message=result.message)
    assert trace.status == "done" and trace.outcome == "answer"
    assert trace.timings_ms["total_ms"] >= 0
    reply = trace.reply_message
    assert reply is not None and "30 days" in reply.text
    api = factories.api_client(tenant, "agent")
    traces = api.get(f"/api/v1/conversations/{result.conversation.id}/traces/").json()
    assert traces[0]["id"] == str(trace.id) and traces[0]["responder"] == "retrieval"
    listed = api.get(f"/api/v1/turn-traces/?conversation={result.conversation.id}").json()["results"]
    assert [row["id"] for row in listed] == [str(trace.id)]


@pytest.mark.django_db
def test_out_of_scope_topics_by_rule_and_closed_hours(shop: dict[str, Any]) -> None:
    from parley.assistants.actions import update_assistant

    update_assistant(
        assistant=shop["assistant"],
        data={
            "handover_rules": {"out_of_scope_keywords": ["lawyer"]},
            "business_hours": {"timezone": "UTC", "days": {"sun": [["00:00", "00:01"]]}},
        },
        actor="test",
    )
    message = say(shop["channel"], "My lawyer says your return policy is illegal")
    assert TurnTrace.objects.get(message=message).handover_reason == "out_of_scope"
    assert "offline" in last_reply(message).text


@pytest.mark.django_db
def test_a_turn_that_fails_for_good_hands_over_instead_of_dropping(shop: dict[str, Any]) -> None:
    from parley.orchestrator.tasks import run_turn_task

    message = factories.inbound(shop["channel"], "How long does shipping take?")
    run_turn_task.on_failure(RuntimeError("boom"), "task-1", [str(message.id)], {}, None)
    trace = TurnTrace.objects.get(message=message)
    assert trace.status == "failed" and trace.handover_reason == "assistant_error" and "RuntimeError: boom" in trace.errors
    assert Conversation.objects.get(pk=message.conversation_id).status == ConversationStatus.PENDING_HUMAN
    assert "team" in last_reply(message).text
    from parley.core.models import DeadLetter

    assert DeadLetter.objects.filter(task_name="parley.orchestrator.run_turn").exists()


@pytest.mark.django_db
def test_a_rating_that_answers_a_pending_survey_is_recorded_not_answered(shop: dict[str, Any]) -> None:
    from parley.analytics import actions as analytics_actions
    from parley.analytics.models import CsatStatus

    channel = shop["channel"]
    question = say(channel, "How long does a refund take to reach my card?", sender="cust-csat")
    conversation = conversation_actions.update_conversation(
        conversation=question.conversation, changes={"status": "resolved"}, actor="agent@acme.test"
    )
    survey = analytics_actions.send_csat_survey(conversation)
    assert survey is not None

    rating = say(channel, "5", sender="cust-csat")

    survey.refresh_from_db()
    assert survey.status == CsatStatus.ANSWERED and survey.score == 5
    assert replies(rating) == []
    assert TurnTrace.objects.get(message=rating).outcome == "csat_answer"
    follow_up = say(channel, "Where is my order #1001?", sender="cust-csat")
    assert replies(follow_up), "a real question after the rating is answered"


@pytest.mark.django_db
def test_refund_confirmation_and_result_speak_the_customers_language(shop: dict[str, Any]) -> None:
    first = say(shop["channel"], "Hola, quiero un reembolso del pedido #2031 por favor", sender="cust-es")
    make_order(first.conversation.customer, "2031")
    proposal = say(shop["channel"], "Quiero un reembolso del pedido #2031, por favor", sender="cust-es")
    prompt = last_reply(proposal).text
    assert "Por favor, confirma: reembolso de" in prompt and "#2031" in prompt, prompt
    assert "Please confirm" not in prompt
    yes = say(shop["channel"], "sí", sender="cust-es")
    done = last_reply(yes).text
    assert done.startswith("Hecho:") and "#2031" in done, done
    assert first.conversation.customer.orders.get(number="2031").refunded_amount > 0


@pytest.mark.django_db
def test_a_file_without_words_goes_to_people_with_a_notice(shop: dict[str, Any]) -> None:
    from parley.connectors.base import InboundAttachment

    result = conversation_actions.receive_inbound(
        channel=shop["channel"],
        inbound=InboundMessage(
            channel_type=shop["channel"].type,
            external_id=f"m-{next(_ids)}",
            sender_external_id="cust-photo",
            text="",
            attachments=[InboundAttachment(kind="image", mime_type="image/jpeg", url="https://example.com/p.jpg")],
        ),
        enqueue_turn=False,
    )
    run_turn(str(result.message.id))
    assert "I can't open files myself" in last_reply(result.message).text
    trace = TurnTrace.objects.get(message=result.message)
    assert trace.outcome == "handover" and trace.handover_reason == "attachment"
    conversation = Conversation.objects.get(pk=result.message.conversation_id)
    assert conversation.status in (ConversationStatus.PENDING_HUMAN, ConversationStatus.ASSIGNED)
    assert len(replies(result.message)) == 1  # the notice only, no second hand-over message


@pytest.mark.django_db(transaction=True)
def test_the_live_worker_answers_customers_at_the_same_time_each_with_their_own_data(celery_app_real: Any) -> None:
    """The live worker's threads pool (as `parley up` runs it): turns of different conversations run at once,
    and each customer's order lookup only ever sees that customer's order."""
    from celery.contrib.testing.worker import start_worker

    from parley.config.celery import LIVE_QUEUES, QUEUE_NAMES
    from parley.orchestrator.tests.conftest import REFUND_POLICY, add_knowledge, make_assistant
    from parley.runtime.supervisor import LIVE_POOL

    tenant = factories.make_tenant("turns-threads")
    make_assistant(tenant)
    add_knowledge(tenant, [("Returns and refunds", REFUND_POLICY)])
    channel = factories.make_channel(tenant)
    visitors = [f"t-{index}" for index in range(6)]
    for index, visitor in enumerate(visitors):
        customer = conversation_actions.resolve_customer(tenant=tenant, channel_type=channel.type, external_id=visitor)
        make_order(customer, str(7100 + index), status="shipped" if index % 2 else "paid")
    with celery_app_real.connection_for_write() as connection:
        for queue in QUEUE_NAMES:
            connection.default_channel.queue_purge(queue)
    with start_worker(
        celery_app_real, pool=LIVE_POOL, concurrency=4, perform_ping_check=False, queues=list(LIVE_QUEUES), loglevel="WARNING"
    ):
        messages = [
            conversation_actions.receive_inbound(
                channel=channel,
                inbound=InboundMessage(
                    channel_type=channel.type,
                    external_id=f"th-{index}",
                    sender_external_id=visitor,
                    text=f"Where is my order #{7100 + index}?",
                ),
            ).message
            for index, visitor in enumerate(visitors)
        ]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and TurnTrace.objects.filter(message__in=messages, status="done").count() < 6:
            time.sleep(0.1)
    traces = {trace.message_id: trace for trace in TurnTrace.objects.filter(message__in=messages).select_related("reply_message")}
    assert len(traces) == 6 and all(trace.status == "done" and trace.attempts == 1 for trace in traces.values())
    for index, message in enumerate(messages):
        reply = traces[message.id].reply_message
        assert reply is not None and f"#{7100 + index}" in reply.text
        assert not any(f"#{7100 + other}" in reply.text for other in range(6) if other != index)
    spans = sorted((trace.created_at, trace.finished_at) for trace in traces.values())
    assert any(later_start < earlier_end for (_, earlier_end), (later_start, _) in itertools.pairwise(spans))
