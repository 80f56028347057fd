"""POST /llm/infer over the real API stack, routed to the fake LLM server."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from parley.llm.breaker import CircuitBreaker
from parley.llm.models import LLMCall
from parley.llm.router import default_routing
from parley.testing import factories
from parley.testing.fake_llm import FakeLLMServer, FakeReply

BODY = {
    "messages": [{"role": "user", "content": "Where is order 1001?"}],
    "tools": [
        {
            "name": "get_order_status",
            "description": "Order status",
            "parameters": {"type": "object", "properties": {"order_number": {"type": "string"}}, "required": ["order_number"]},
        }
    ],
    "routing": {"temperature": 0, "max_tokens": 64},
}


@pytest.fixture
def configured(settings: Any, fake_llm: FakeLLMServer, monkeypatch: Any) -> FakeLLMServer:
    settings.LLM_BASE_URL, settings.LLM_MODEL, settings.LLM_API_KEY = fake_llm.url, "fake-model", "sk-infer"
    monkeypatch.delenv("PARLEY_LLM_FALLBACK_BASE_URL", raising=False)
    routing = default_routing()
    assert routing is not None
    CircuitBreaker(routing.backends[0]).reset()
    return fake_llm


@pytest.mark.django_db
def test_infer_returns_message_tool_calls_and_usage(configured: FakeLLMServer, tenant: Any) -> None:
    configured.enqueue(FakeReply.tool_call("get_order_status", {"order_number": "1001"}, call_id="c1"))
    response = factories.api_client(tenant, "admin").post("/api/v1/llm/infer/", BODY, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"]["tool_calls"] == [
        {"id": "c1", "name": "get_order_status", "arguments": {"order_number": "1001"}, "parse_error": None}
    ]
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"] > 0
    assert body["backend"] == "default" and body["model"] == "fake-model"
    sent = configured.chat_requests[0].body
    assert sent["temperature"] == 0 and sent["max_tokens"] == 64 and sent["tools"][0]["function"]["name"] == "get_order_status"
    call = LLMCall.objects.get()
    assert call.tenant_id == tenant.pk and call.purpose == "api"
    # the service path works the same
    configured.enqueue(FakeReply.text("hi"))
    internal = factories.api_client(tenant, "owner").post(
        "/llm/infer", {"messages": [{"role": "user", "content": "hi"}]}, format="json"
    )
    assert internal.status_code == 200 and internal.json()["message"]["content"] == "hi"


@pytest.mark.django_db
def test_infer_requires_admin_key(configured: FakeLLMServer, tenant: Any) -> None:
    assert APIClient().post("/api/v1/llm/infer/", BODY, format="json").status_code == 401
    for role in ("agent", "supervisor", "analyst"):
        assert factories.api_client(tenant, role).post("/api/v1/llm/infer/", BODY, format="json").status_code == 403
    assert configured.chat_requests == []


@pytest.mark.django_db
def test_infer_bad_input_is_400_with_reasons(configured: FakeLLMServer, tenant: Any) -> None:
    client = factories.api_client(tenant, "admin")
    cases = [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "hacker", "content": "x"}]}, "messages.0.role"),
        ({**BODY, "routing": {"base_url": "http://169.254.169.254/"}}, "routing.base_url"),
        ({**BODY, "routing": {"backends": ["nope"]}}, None),
        ({**BODY, "surprise": 1}, "surprise"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/llm/infer/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        if field:
            assert field in response.json()["errors"], response.json()
    assert client.generic("POST", "/api/v1/llm/infer/", "[1, 2]", content_type="application/json").status_code == 400
    assert configured.chat_requests == []


@pytest.mark.django_db
def test_infer_is_503_when_unconfigured_or_all_backends_fail(configured: FakeLLMServer, tenant: Any, settings: Any) -> None:
    client = factories.api_client(tenant, "admin")
    configured.responder = lambda body: FakeReply.error(500)
    response = client.post("/api/v1/llm/infer/", {**BODY, "routing": {"timeout_s": 5}}, format="json")
    assert response.status_code == 503 and response.json()["code"] == "llm_unavailable"
    settings.LLM_BASE_URL = ""
    response = client.post("/api/v1/llm/infer/", BODY, format="json")
    assert response.status_code == 503 and "PARLEY_LLM_BASE_URL" in response.json()["detail"]


@pytest.mark.django_db
def test_infer_is_in_the_openapi_schema(tenant: Any) -> None:
    schema = factories.api_client(tenant, "owner").get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    operation = paths["/api/v1/llm/infer/"]["post"]
    assert operation["operationId"] == "llm_infer"
    assert "/llm/infer" not in paths
    assert "/api/v1/pending-actions/{id}/approve/" in paths


@pytest.mark.django_db
def test_llm_calls_usage_listing_is_for_managers(configured: FakeLLMServer, tenant: Any) -> None:
    configured.enqueue(FakeReply.error(500), FakeReply.text("ok"))
    admin = factories.api_client(tenant, "admin")
    assert admin.post("/api/v1/llm/infer/", BODY, format="json").status_code == 200
    rows = admin.get("/api/v1/llm-calls/?backend=default").json()["results"]
    assert sorted((row["attempt"], row["outcome"], row["error_kind"]) for row in rows) == [
        (1, "error", "server_error"),
        (2, "ok", ""),
    ]
    assert factories.api_client(tenant, "supervisor").get("/api/v1/llm-calls/").status_code == 403
