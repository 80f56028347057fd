"""Roll-up measures: the dashboards read from roll-ups give the same answers as aggregating the facts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from parley.analytics import actions
from parley.analytics.agents import agent_performance, agent_performance_for
from parley.analytics.economics import ab_comparison, ab_comparison_for, economics, economics_for
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.metrics import cube
from parley.analytics.metrics.query import filtered_facts
from parley.analytics.metrics.support import (
    breakdown,
    breakdown_for,
    csat_distribution,
    csat_for,
    drilldown_filter,
    summary,
    summary_for,
)
from parley.analytics.models import CsatStatus, CsatSurvey, DailyRollup
from parley.analytics.reports import failure_report, failure_report_for, flow_report, flow_report_for
from parley.analytics.rollups import rebuild_rollups
from parley.analytics.serializers import DrilldownQuerySerializer
from parley.analytics.tasks import backfill_rollups
from parley.analytics.tests.helpers import analysis, build
from parley.testing import factories

pytestmark = pytest.mark.django_db
START = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def conversations(tenant: Any, channel: Any) -> list[Any]:
    agent = factories.make_user(tenant, "agent")
    made = []
    for i in range(7):
        intent = ("order_status", "refund", "human_agent")[i % 3]
        script = [
            ("customer", "Where is my order?", analysis(intent, "negative" if i % 2 else "neutral", -0.5 if i % 2 else 0.0), 0),
            ("assistant", "Let me check.", None, 0.5 + i),
            ("customer", "Still waiting", analysis(intent, "negative", -0.8), 3 + i),
        ]
        kwargs: dict[str, Any] = {"start": START + timedelta(days=i % 3, hours=i), "resolved_at_min": 20 + 3 * i}
        if i % 3 == 2:
            script.append(("agent", "A human here, sorted.", None, 9 + 2 * i))
            kwargs.update(handover_at_min=4 + i, assignee=agent, agent=agent)
        else:
            script.append(("assistant", "Done.", None, 4 + 1.5 * i))
        if i == 6:
            kwargs.pop("resolved_at_min")  # still open / abandoned
        made.append(build(channel, script, **kwargs))
    first = made[0]
    CsatSurvey.objects.create(
        tenant=tenant,
        conversation=first,
        customer=first.customer,
        channel=channel,
        status=CsatStatus.ANSWERED,
        sent_at=START,
        score=4,
    )
    actions.refresh_facts([str(c.id) for c in made])
    rebuild_rollups(tenant.id, START.date(), (START + timedelta(days=3)).date())
    return made


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    a = {k: v for k, v in a.items() if k != "reply_time_median_method"}
    b = {k: v for k, v in b.items() if k != "reply_time_median_method"}
    assert a == pytest.approx(b, abs=1.01e-3)  # outputs are rounded; float sums may land either side of a half


FILTERS = [
    AnalyticsFilter(),
    AnalyticsFilter(start=START.date(), end=(START + timedelta(days=1)).date()),
    AnalyticsFilter(intent="refund"),
    AnalyticsFilter(business_hours=True),
    AnalyticsFilter(channel_type="webchat"),
]


@pytest.mark.parametrize("flt", FILTERS, ids=["all", "range", "intent", "business_hours", "channel_type"])
def test_rollups_answer_like_the_facts(tenant: Any, conversations: list[Any], flt: AnalyticsFilter) -> None:
    assert cube.load_single(tenant, flt) is not None  # answered from the roll-ups
    facts = filtered_facts(tenant, flt)
    expected = summary(facts, business_hours=flt.business_hours)
    got = summary_for(tenant, flt)
    assert got["conversations"] == expected["conversations"] > 0
    _same(got, expected)
    assert csat_for(tenant, flt) == csat_distribution(facts)
    assert economics_for(tenant, flt) == economics(facts)
    assert flow_report_for(tenant, flt) == flow_report(facts)
    if not flt.intent and not flt.channel_type:
        for by in ("intent", "agent", "outcome", "channel"):
            got_rows = sorted(breakdown_for(tenant, flt, by), key=lambda r: r["key"])
            expected_rows = sorted(breakdown(facts, by, business_hours=flt.business_hours), key=lambda r: r["key"])
            assert [r["key"] for r in got_rows] == [r["key"] for r in expected_rows]
            for g, e in zip(got_rows, expected_rows, strict=True):
                _same(g, e)
        got_agents = sorted(agent_performance_for(tenant, flt), key=lambda r: (r["kind"], r["id"]))
        expected_agents = sorted(agent_performance(facts), key=lambda r: (r["kind"], r["id"]))
        assert len(got_agents) == len(expected_agents) > 0
        for g, e in zip(got_agents, expected_agents, strict=True):
            assert g == pytest.approx(e)
    if not flt.intent and not flt.channel_type:
        # No prompt versions in these conversations: "" holds them all (with the CSAT answer), "v9" none.
        assert ab_comparison_for(tenant, flt, "", "v9") == ab_comparison(facts, "", "v9")
    if not flt.channel_type:
        got_failures, expected_failures = failure_report_for(tenant, flt), failure_report(facts)
        assert got_failures["conversations"] == expected_failures["conversations"]
        assert got_failures["kinds"] == expected_failures["kinds"]
        got_intents = sorted(got_failures["by_intent"], key=lambda r: r["intent"])
        expected_intents = sorted(expected_failures["by_intent"], key=lambda r: r["intent"])
        assert len(got_intents) == len(expected_intents) > 0
        for g, e in zip(got_intents, expected_intents, strict=True):
            assert g == pytest.approx(e)


def test_facts_changed_after_the_rollup_count_without_a_rebuild(tenant: Any, channel: Any, conversations: list[Any]) -> None:
    before = summary_for(tenant, AnalyticsFilter())["conversations"]
    late = build(channel, [("customer", "hello?", analysis("refund"), 0)], start=START + timedelta(hours=5))
    actions.refresh_facts([str(late.id)])
    assert summary_for(tenant, AnalyticsFilter())["conversations"] == before + 1
    assert summary_for(tenant, AnalyticsFilter(intent="refund")) == summary(
        filtered_facts(tenant, AnalyticsFilter(intent="refund"))
    ) | {"reply_time_median_method": "histogram"}
    # A day whose roll-up is missing is aggregated from its facts.
    DailyRollup.objects.filter(tenant=tenant, day=START.date()).delete()
    _same(summary_for(tenant, AnalyticsFilter()), summary(filtered_facts(tenant, AnalyticsFilter())))


def test_two_filters_are_answered_from_the_facts(tenant: Any, conversations: list[Any]) -> None:
    flt = AnalyticsFilter(intent="refund", channel_type="webchat")
    assert cube.load_single(tenant, flt) is None
    assert summary_for(tenant, flt) == summary(filtered_facts(tenant, flt))


def test_backfill_rolls_up_days_without_a_rollup(tenant: Any, conversations: list[Any]) -> None:
    DailyRollup.objects.filter(tenant=tenant).delete()
    assert backfill_rollups() > 0
    days = set(DailyRollup.objects.filter(tenant=tenant, dimension="all", key="").values_list("day", flat=True))
    assert days == {(START + timedelta(days=i)).date() for i in range(3)}
    assert backfill_rollups() == 0


def test_histogram_percentiles_track_percentile_cont() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(4, 1.5) for _ in range(5000)]
    hist: dict[int, list[float]] = {}
    for value in values:
        cube._add_value(hist, value)
    for p in (0.1, 0.5, 0.9):
        exact = float(np.percentile(values, p * 100))
        assert cube.hist_percentile(hist, p) == pytest.approx(exact, rel=0.1)
    few: dict[int, list[float]] = {}
    for value in (30.0, 60.0, 61.0, 3600.0):
        cube._add_value(few, value)
    assert cube.hist_percentile(few, 0.5) == pytest.approx(float(np.percentile([30, 60, 61, 3600], 50)))
    assert cube.hist_percentile({}, 0.5) is None


@pytest.mark.parametrize(
    "drill",
    [{}, {"outcome": "resolved_by_agent"}, {"handed_over": "false"}, {"failure_kind": "sentiment_drop"}, {"csat": "4"}],
)
def test_drilldown_totals_from_the_rollups_match_the_rows(api: Any, tenant: Any, conversations: list[Any], drill: dict) -> None:
    serializer = DrilldownQuerySerializer(data=drill)
    assert serializer.is_valid(), serializer.errors
    facts = drilldown_filter(filtered_facts(tenant, AnalyticsFilter()), serializer.drill())
    assert cube.drilldown_count(tenant, AnalyticsFilter(), serializer.drill()) == facts.count() > 0
    body = api.get("/api/v1/analytics/conversations/", {**drill, "page_size": 2}).json()
    assert body["count"] == facts.count()
    expected = [str(i) for i in facts.order_by("-started_at").values_list("conversation_id", flat=True)[:2]]
    assert [row["conversation"] for row in body["results"]] == expected
