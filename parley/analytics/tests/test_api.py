"""The analytics API end to end: metrics, flow, failures, agents, drill-down, exports, roles, bad input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from parley.analytics import actions
from parley.analytics.models import ConversationFact, QAScore
from parley.analytics.rollups import rebuild_rollups
from parley.analytics.tests.helpers import analysis, build
from parley.audit.models import AuditEvent
from parley.testing import factories

pytestmark = pytest.mark.django_db
START = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def dataset(tenant: Any, channel: Any) -> dict[str, Any]:
    agent = factories.make_user(tenant, "agent")
    resolved = build(
        channel,
        [
            ("customer", "Where is my order?", analysis("order_status"), 0),
            ("assistant", "Hello! It ships tomorrow.", None, 1),
        ],
        start=START,
        resolved_at_min=5,
    )
    handed = build(
        channel,
        [
            ("customer", "asdf qwer", analysis(None, "negative", -0.4), 0),
            ("assistant", "Sorry, I did not get that.", None, 1),
            ("customer", "This is useless, I want a human", analysis("human_agent", "negative", -0.9), 2),
            ("agent", "Hi, I'm sorry about that. Fixed now.", None, 6),
        ],
        start=START + timedelta(hours=1),
        handover_at_min=2.5,
        assignee=agent,
        agent=agent,
        resolved_at_min=8,
    )
    abandoned = build(
        channel,
        [("customer", "How do I get a refund?", analysis("refund"), 0), ("assistant", "Open your orders page.", None, 1)],
        start=START + timedelta(days=1),
    )
    ids = [str(c.id) for c in (resolved, handed, abandoned)]
    actions.refresh_facts(ids)
    rebuild_rollups(tenant.id, START.date(), (START + timedelta(days=1)).date())
    return {"agent": agent, "resolved": resolved, "handed": handed, "abandoned": abandoned}


def test_summary_breakdown_and_timeseries(api: Any, dataset: dict[str, Any]) -> None:
    summary = api.get("/api/v1/analytics/summary/", {"start": "2026-10-01", "end": "2026-10-31"}).json()
    assert summary["conversations"] == 3
    assert summary["resolution_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["ai_resolution_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert summary["handover_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert summary["abandonment_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert summary["first_response_median_s"] == pytest.approx(60)
    assert summary["queue_wait_median_s"] == pytest.approx(60)
    only_october_5 = api.get("/api/v1/analytics/summary/", {"start": "2026-10-05", "end": "2026-10-05"}).json()
    assert only_october_5["conversations"] == 2
    by_intent = api.get("/api/v1/analytics/breakdown/", {"by": "intent"}).json()["rows"]
    assert {row["key"]: row["conversations"] for row in by_intent} == {"order_status": 1, "human_agent": 1, "refund": 1}
    by_agent = api.get("/api/v1/analytics/breakdown/", {"by": "agent"}).json()["rows"]
    assert any(row["key"] == str(dataset["agent"].id) and row["label"] == dataset["agent"].name for row in by_agent)
    points = api.get("/api/v1/analytics/timeseries/", {"start": "2026-10-01", "end": "2026-10-31"}).json()["points"]
    assert [(p["day"], p["conversations"]) for p in points] == [("2026-10-05", 2), ("2026-10-06", 1)]


def test_flow_failures_agents_and_drilldown(api: Any, dataset: dict[str, Any]) -> None:
    flow = api.get("/api/v1/analytics/flow/").json()
    edges = {(e["source"], e["target"]): e["count"] for e in flow["graph"]["edges"]}
    assert edges[("start", "order_status")] == 1
    assert edges[("order_status", "resolved_by_ai")] == 1
    assert edges[("human_agent", "handover")] == 1
    assert edges[("handover", "resolved_by_agent")] == 1
    assert flow["typical_paths"]["abandoned"][0]["path"] == ["start", "refund", "abandoned"]
    assert any(link["source"] == "0:start" for link in flow["sankey"]["links"])

    failures = {k["kind"]: k for k in api.get("/api/v1/analytics/failures/").json()["kinds"]}
    assert failures["frustration"]["conversations"] == 1
    assert failures["frustration"]["examples"][0]["turn_index"] == 2
    assert failures["abandonment"]["conversations"] == 1
    assert failures["tool_error"]["conversations"] == 0

    rows = api.get("/api/v1/analytics/agents/").json()["rows"]
    human = next(r for r in rows if r["kind"] == "agent")
    assert human["conversations"] == 1 and human["resolution_rate"] == 1.0
    assert human["sentiment_change_avg"] == pytest.approx(-0.5)
    assert any(r["kind"] == "assistant" and r["conversations"] == 2 for r in rows)

    drill = api.get("/api/v1/analytics/conversations/", {"failure_kind": "abandonment"}).json()
    assert [r["conversation"] for r in drill["results"]] == [str(dataset["abandoned"].id)]
    drill = api.get("/api/v1/analytics/conversations/", {"outcome": "resolved_by_ai"}).json()
    assert [r["conversation"] for r in drill["results"]] == [str(dataset["resolved"].id)]

    detail = api.get(f"/api/v1/analytics/conversations/{dataset['handed'].id}/").json()
    assert [t["state"] for t in detail["turns"]] == ["unrecognised", "assistant", "human_agent", "agent"]
    assert {f["kind"] for f in detail["turns"][2]["failures"]} == {"frustration", "sentiment_drop"}


def test_csv_exports(api: Any, dataset: dict[str, Any]) -> None:
    response = api.get("/api/v1/analytics/export/conversations/", {"start": "2026-10-01", "end": "2026-10-31"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 3
    assert {r["outcome"] for r in rows} == {"resolved_by_ai", "resolved_by_agent", "abandoned"}
    for table in (
        "summary",
        "breakdown",
        "agents",
        "failures",
        "failure_points",
        "flow",
        "paths",
        "csat",
        "timeseries",
        "economics",
        "alerts",
        "qa",
        "tools",
    ):
        response = api.get(f"/api/v1/analytics/export/{table}/", {"by": "intent"} if table == "breakdown" else {})
        assert response.status_code == 200, table
        body = b"".join(response.streaming_content).decode()
        assert body.count("\n") >= 1 or table in ("alerts", "qa", "tools"), table
    assert api.get("/api/v1/analytics/export/nope/").status_code == 404


def test_bad_input_is_a_400_with_reasons(api: Any, dataset: dict[str, Any]) -> None:
    response = api.get("/api/v1/analytics/summary/", {"start": "2026-10-31", "end": "2026-10-01"})
    assert response.status_code == 400 and "end" in response.json()["errors"]
    response = api.get("/api/v1/analytics/summary/", {"start": "yesterday", "colour": "red"})
    assert response.status_code == 400 and {"start", "colour"} <= set(response.json()["errors"])
    assert api.get("/api/v1/analytics/breakdown/", {"by": "shoe_size"}).status_code == 400
    assert api.get("/api/v1/analytics/breakdown/").status_code == 400
    assert api.get("/api/v1/analytics/flow/", {"max_steps": "99"}).status_code == 400
    assert api.get("/api/v1/analytics/summary/", {"channel": "not-a-uuid"}).status_code == 400
    assert api.get("/api/v1/analytics/conversations/", {"failure_kind": "gremlins"}).status_code == 400
    assert api.get("/api/v1/analytics/ab-test/", {"a": "v1"}).status_code == 400


def test_roles_and_tenant_scope(tenant: Any, other_tenant: Any, dataset: dict[str, Any]) -> None:
    assert factories.api_client(tenant, "analyst").get("/api/v1/analytics/summary/").status_code == 200
    assert factories.api_client(tenant, "agent").get("/api/v1/analytics/summary/").status_code == 403
    other = factories.api_client(other_tenant, "owner")
    assert other.get("/api/v1/analytics/summary/").json()["conversations"] == 0
    assert other.get(f"/api/v1/analytics/conversations/{dataset['handed'].id}/").status_code == 404


def test_qa_scores_by_rules_and_supervisor_override(tenant: Any, dataset: dict[str, Any]) -> None:
    qa = actions.score_conversation_quality(str(dataset["handed"].id), use_llm=False)
    assert qa.method == "rules"
    assert qa.criteria["greeting"]["score"] == 0.0  # "Sorry, I did not get that." greets nobody
    assert qa.criteria["empathy"]["score"] == 1.0
    assert qa.criteria["resolution"]["score"] == 1.0
    assert qa.criteria["policy_compliance"]["score"] == 1.0
    assert qa.criteria["correct_information"]["score"] is None or 0 <= qa.criteria["correct_information"]["score"] <= 1
    assert ConversationFact.objects.get(conversation=dataset["handed"]).qa_score == qa.score

    analyst = factories.api_client(tenant, "analyst")
    assert (
        analyst.post(f"/api/v1/analytics/qa-scores/{qa.id}/override/", {"override_score": 10}, format="json").status_code == 403
    )
    supervisor = factories.api_client(tenant, "supervisor")
    response = supervisor.post(f"/api/v1/analytics/qa-scores/{qa.id}/override/", {"override_score": 150}, format="json")
    assert response.status_code == 400
    response = supervisor.post(
        f"/api/v1/analytics/qa-scores/{qa.id}/override/",
        {"override_score": 35, "override_note": "wrong refund policy"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["effective_score"] == 35
    assert ConversationFact.objects.get(conversation=dataset["handed"]).qa_score == 35
    assert AuditEvent.objects.filter(action="qa_score.overridden", target_id=str(qa.id)).exists()
    # Re-scoring keeps the supervisor's override.
    actions.score_conversation_quality(str(dataset["handed"].id), use_llm=False)
    assert QAScore.objects.get(pk=qa.pk).effective_score == 35


def test_ab_comparison_with_significance(api: Any, tenant: Any, channel: Any) -> None:
    facts = []
    for i in range(60):
        version = "v1" if i % 2 else "v2"
        resolved = (i % 2 == 0) or i % 6 == 1  # v2 resolves everything, v1 a third
        conversation = build(
            channel,
            [("customer", "Where is my order?", analysis("order_status"), 0), ("assistant", "Tomorrow.", None, 1)],
            start=START,
            resolved_at_min=3 if resolved else None,
            status=None if resolved else "bot",
        )
        conversation.metadata = {**conversation.metadata, "prompt_version": version}
        conversation.save(update_fields=["metadata"])
        facts.append(str(conversation.id))
    actions.refresh_facts(facts)
    result = api.get("/api/v1/analytics/ab-test/", {"a": "v1", "b": "v2"}).json()
    assert result["a"]["conversations"] == 30 and result["b"]["conversations"] == 30
    assert result["b"]["resolution_rate"] == 1.0
    assert result["tests"]["resolution_rate"]["significant"] is True
    assert result["tests"]["resolution_rate"]["p_value"] < 0.001


def test_openapi_documents_the_analytics_endpoints(api: Any) -> None:
    schema = api.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"] if schema["Content-Type"].startswith("application/json") else {}
    if not paths:
        import yaml  # type: ignore[import-untyped]

        paths = yaml.safe_load(schema.content)["paths"]
    for path in (
        "/api/v1/analytics/summary/",
        "/api/v1/analytics/flow/",
        "/api/v1/analytics/export/{table}/",
        "/api/v1/analytics/alert-rules/",
    ):
        assert path in paths
    parameters = {p["name"] for p in paths["/api/v1/analytics/summary/"]["get"]["parameters"]}
    assert {"start", "end", "channel", "assistant", "team", "agent", "intent", "topic", "language"} <= parameters


def test_qa_score_by_the_configured_llm(tenant: Any, dataset: dict[str, Any], settings: Any) -> None:
    from parley.testing.fake_llm import FakeLLMServer, FakeReply

    with FakeLLMServer() as llm:
        settings.LLM_BASE_URL = f"{llm.url}"
        settings.LLM_MODEL = "fake-model"
        llm.enqueue(
            FakeReply.text(
                '{"greeting": {"score": 1, "reason": "said hello"}, "correct_information": {"score": 0.5, "reason": "vague"},'
                ' "empathy": {"score": null, "reason": "n/a"}, "resolution": {"score": 1, "reason": "resolved"},'
                ' "policy_compliance": {"score": 1, "reason": "ok"}}'
            )
        )
        qa = actions.score_conversation_quality(str(dataset["resolved"].id))
    assert qa.method == "llm"
    assert qa.criteria["correct_information"] == {"score": 0.5, "reason": "vague"}
    assert qa.criteria["empathy"]["score"] is None
    assert qa.score == pytest.approx(87.5)
    prompt = llm.requests[-1].body["messages"][-1]["content"]
    assert "Where is my order?" in prompt and "greeting" in prompt


def test_qa_falls_back_to_rules_when_the_llm_fails(tenant: Any, dataset: dict[str, Any], settings: Any) -> None:
    from parley.testing.fake_llm import FakeLLMServer, FakeReply

    with FakeLLMServer() as llm:
        settings.LLM_BASE_URL = f"{llm.url}"
        settings.LLM_MODEL = "fake-model"
        llm.responder = lambda body: FakeReply.text("I refuse to answer in JSON")
        qa = actions.score_conversation_quality(str(dataset["resolved"].id))
    assert qa.method == "rules"
    assert qa.criteria["greeting"]["score"] == 1.0


def test_economics_reads_llm_calls_tool_executions_handovers_and_payments(api: Any, tenant: Any, dataset: dict[str, Any]) -> None:
    from decimal import Decimal

    from django.utils import timezone

    from parley.handover.models import Handover
    from parley.llm.models import LLMCall
    from parley.tools.models import PendingAction, ToolExecution

    handed, resolved = dataset["handed"], dataset["resolved"]
    # Given what the other apps record during a conversation...
    for conversation, tokens in ((resolved, 100), (handed, 300)):
        LLMCall.objects.create(
            tenant=tenant,
            conversation_id=str(conversation.id),
            backend="default",
            model="m",
            outcome="ok",
            prompt_tokens=tokens,
            completion_tokens=tokens // 10,
            cost=Decimal("0.002"),
        )
    LLMCall.objects.create(
        tenant=tenant,
        conversation_id=str(resolved.id),
        backend="default",
        model="m",
        outcome="ok",
        purpose="qa",
        prompt_tokens=999,
    )
    ToolExecution.objects.create(tenant=tenant, conversation=handed, tool="get_order_status", status="ok", actor="assistant")
    ToolExecution.objects.create(
        tenant=tenant, conversation=handed, tool="create_refund", status="error", error="provider timeout", actor="assistant"
    )
    Handover.objects.create(tenant=tenant, conversation=handed, reason="customer_asked_for_human", queued_at=timezone.now())
    PendingAction.objects.create(
        tenant=tenant,
        conversation=resolved,
        customer=resolved.customer,
        tool="create_payment_link",
        summary="Pay 10 EUR",
        amount=Decimal("10"),
        currency="EUR",
        status="executed",
        expires_at=timezone.now(),
    )
    actions.refresh_facts([str(handed.id), str(resolved.id)])

    fact = ConversationFact.objects.get(conversation=handed)
    assert (fact.prompt_tokens, fact.completion_tokens, fact.tool_calls, fact.tool_errors) == (300, 30, 2, 1)
    assert fact.handover_reason == "customer_asked_for_human"
    assert "tool_error" in fact.failure_kinds
    assert ConversationFact.objects.get(conversation=resolved).prompt_tokens == 100  # QA grading is not counted

    result = api.get("/api/v1/analytics/economics/").json()
    assert result["prompt_tokens"] == 400 and result["cost"] == pytest.approx(0.004)
    assert result["cost_per_resolution"] == pytest.approx(0.002)
    assert result["tool_failure_rate"] == 0.5
    assert {t["tool"]: t["failures"] for t in result["tool_usage"]} == {"get_order_status": 0, "create_refund": 1}
    assert all(result["sources"].values())
    reasons = api.get("/api/v1/analytics/breakdown/", {"by": "handover_reason"}).json()["rows"]
    assert any(r["key"] == "customer_asked_for_human" for r in reasons)
