"""Imported datasets through the batch analysis, and the fact refresh through a real Celery worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.analytics.agents import agent_performance
from parley.analytics.batch import analyse_tenant
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.metrics.query import filtered_facts
from parley.analytics.metrics.support import summary
from parley.analytics.models import ConversationFact, DailyRollup
from parley.analytics.tests.helpers import analysis, build


def _datasets() -> Path:
    from parley.intelligence.datasets import datasets_dir

    return Path(datasets_dir())


@pytest.mark.django_db
def test_imported_sgd_dialogues_get_states_acts_and_rollups(tenant: Any) -> None:
    from parley.intelligence.actions import import_dataset

    sgd = _datasets() / "sgd" / "dev" / "dialogues_001.json"
    if not sgd.exists():
        pytest.skip("SGD sample not available")
    import_dataset(tenant, "sgd", sgd, limit=5, progress=False)
    result = analyse_tenant(tenant)
    assert result.conversations == 5 and result.facts_written == 5
    # The intelligence pipeline ran on every customer turn (once per distinct text), and each got its analysis.
    from parley.conversations.models import Message

    customer_turns = Message.objects.filter(tenant=tenant, sender_type="customer").exclude(text="")
    assert result.messages_analysed == customer_turns.count() > 0
    assert not customer_turns.filter(analysis={}).exists()
    assert all(m.analysis.get("model_version") for m in customer_turns)
    facts = list(ConversationFact.objects.filter(tenant=tenant))
    assert all(f.source == "sgd" for f in facts)
    assert all(f.act_path and f.act_path[0].startswith("USER:") for f in facts)
    # SGD's gold dialogue state names the intents (e.g. FindRestaurants, ReserveRestaurant).
    assert all(f.intent_path and f.intent_path[0][0].isupper() for f in facts)
    # SGD's SYSTEM side is an automated assistant: its replies are assistant turns, not a human agent's.
    assert all(f.outcome == "resolved_by_ai" and f.reply_count > 0 for f in facts)
    assert all(f.assistant_messages > 0 and f.agent_messages == 0 and not f.handed_over for f in facts)
    assert DailyRollup.objects.filter(tenant=tenant, dimension="all").exists()
    metrics = summary(filtered_facts(tenant, AnalyticsFilter(source="sgd")))
    assert metrics["handover_rate"] == 0.0 and metrics["deflection_rate"] == 1.0 and metrics["ai_resolution_rate"] == 1.0
    # No human agent shows up in agent performance; the dialogues count for the (unnamed) assistant.
    rows = agent_performance(filtered_facts(tenant, AnalyticsFilter(source="sgd")))
    assert [(r["kind"], r["conversations"]) for r in rows] == [("assistant", 5)]


@pytest.mark.django_db(transaction=True)
def test_stale_facts_are_refreshed_by_the_worker(celery_worker_thread: Any, tenant: Any, channel: Any) -> None:
    from parley.analytics.tasks import refresh_stale_facts

    conversation = build(
        channel,
        [("customer", "Where is my order?", analysis("order_status"), 0), ("assistant", "Tomorrow.", None, 1)],
        resolved_at_min=2,
    )
    assert not ConversationFact.objects.filter(conversation=conversation).exists()
    assert refresh_stale_facts.apply_async(queue="analytics").get(timeout=60) >= 1
    fact = ConversationFact.objects.get(conversation=conversation)
    assert fact.outcome == "resolved_by_ai"
    # Nothing changed: the next run has nothing to do for this conversation.
    assert refresh_stale_facts.apply_async(queue="analytics").get(timeout=60) == 0


@pytest.mark.django_db
def test_batch_analysis_stores_one_analysis_per_distinct_text_on_every_message(tenant: Any, channel: Any) -> None:
    from parley.conversations.models import Message

    for text in ("my card has not arrived yet", "my card has not arrived yet", "Ich möchte mein Geld zurück, bitte"):
        build(channel, [("customer", text, None, 0), ("assistant", "Let me check.", None, 1)])
    result = analyse_tenant(tenant)
    assert result.messages_analysed == 3 and result.facts_written == 3
    stored = {m.text: [] for m in Message.objects.filter(tenant=tenant, sender_type="customer")}
    for message in Message.objects.filter(tenant=tenant, sender_type="customer"):
        stored[message.text].append(message.analysis)
    same = stored["my card has not arrived yet"]
    assert len(same) == 2 and same[0] == same[1] and same[0]["language"] == "en"
    assert stored["Ich möchte mein Geld zurück, bitte"][0]["language"] == "de"
    # Nothing left to analyse: a second run analyses nothing and leaves the analyses as they are.
    assert analyse_tenant(tenant).messages_analysed == 0
