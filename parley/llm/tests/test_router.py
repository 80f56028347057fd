"""The router against the fake OpenAI-compatible server over real HTTP: tools, fallback, retries, breaker."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from parley.llm.breaker import CircuitBreaker
from parley.llm.models import LLMCall
from parley.llm.router import SAFE_REPLY, LLMUnavailable, complete, complete_with_tool_validation, default_routing, stream
from parley.llm.types import BackendConfig, ChatMessage, LLMRequest, RoutingConfig, ToolCall, ToolSpec
from parley.testing.fake_llm import FakeLLMServer, FakeReply

ORDER_TOOL = ToolSpec(
    name="get_order_status",
    description="Status of one of the customer's orders",
    parameters={
        "type": "object",
        "properties": {"order_number": {"type": "string"}},
        "required": ["order_number"],
        "additionalProperties": False,
    },
)


def backend(server: FakeLLMServer, name: str = "primary", **kwargs: Any) -> BackendConfig:
    kwargs.setdefault("timeout_s", 2.0)
    kwargs.setdefault("max_retries", 1)
    return BackendConfig(name=name, base_url=server.url, model=f"{name}-model", api_key="sk-test", **kwargs)


def request(
    *backends: BackendConfig, tools: list[ToolSpec] | None = None, tenant_id: str | None = None, **routing: Any
) -> LLMRequest:
    for config in backends:
        CircuitBreaker(config).reset()
    return LLMRequest(
        messages=[
            ChatMessage(role="system", content="You are a support bot."),
            ChatMessage(role="user", content="Where is order 1001?"),
        ],
        tools=tools or [],
        routing=RoutingConfig(backends=list(backends), **routing),
        tenant_id=tenant_id,
        conversation_id="conv-1",
    )


def _validator(call: ToolCall) -> str | None:
    if call.name != "get_order_status":
        return f"unknown tool {call.name}"
    if set(call.arguments) != {"order_number"} or not isinstance(call.arguments["order_number"], str):
        return "order_number (string) is required and nothing else"
    return None


@pytest.mark.django_db
def test_text_reply_is_recorded_with_usage_and_cost(fake_llm: FakeLLMServer, tenant: Any) -> None:
    fake_llm.enqueue(FakeReply.text("Your order ships today."))
    config = backend(fake_llm, price_prompt_per_1k=1.0, price_completion_per_1k=2.0)
    response = complete(request(config, tenant_id=str(tenant.pk)))
    assert response.content == "Your order ships today."
    assert response.backend == "primary" and response.tool_calls == []
    sent = fake_llm.chat_requests[0]
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.body["model"] == "primary-model"
    assert [m["role"] for m in sent.body["messages"]] == ["system", "user"]
    call = LLMCall.objects.get()
    assert call.tenant_id == tenant.pk and call.outcome == "ok" and call.conversation_id == "conv-1"
    assert call.prompt_tokens == response.prompt_tokens > 0 and call.completion_tokens == 4
    assert call.cost == (Decimal(response.prompt_tokens) * 1 + Decimal(4) * 2) / 1000


@pytest.mark.django_db
def test_native_tool_call_round_trip(fake_llm: FakeLLMServer) -> None:
    fake_llm.enqueue(FakeReply.tool_call("get_order_status", {"order_number": "1001"}, call_id="call_1"))
    response = complete(request(backend(fake_llm), tools=[ORDER_TOOL]))
    assert response.tool_calls == [ToolCall(id="call_1", name="get_order_status", arguments={"order_number": "1001"})]
    sent = fake_llm.chat_requests[0].body
    assert sent["tools"][0]["function"]["name"] == "get_order_status"
    assert sent["tools"][0]["function"]["parameters"]["required"] == ["order_number"]
    # the tool result goes back in OpenAI's shape
    fake_llm.enqueue(FakeReply.text("It shipped."))
    follow_up = request(backend(fake_llm), tools=[ORDER_TOOL])
    follow_up.messages += [
        ChatMessage(role="assistant", tool_calls=response.tool_calls),
        ChatMessage(role="tool", tool_call_id="call_1", name="get_order_status", content='{"status": "shipped"}'),
    ]
    assert complete(follow_up).content == "It shipped."
    messages = fake_llm.chat_requests[1].body["messages"]
    assert messages[2]["tool_calls"][0]["function"] == {"name": "get_order_status", "arguments": '{"order_number": "1001"}'}
    assert messages[3] == {
        "role": "tool",
        "content": '{"status": "shipped"}',
        "tool_call_id": "call_1",
    }


@pytest.mark.django_db
def test_json_mode_fallback_for_servers_without_tool_calling(fake_llm: FakeLLMServer) -> None:
    fake_llm.enqueue(
        FakeReply.text(
            'Sure.\n```json\n{"tool_calls": [{"name": "get_order_status", "arguments": {"order_number": "1001"}}]}\n```'
        )
    )
    response = complete(request(backend(fake_llm, supports_tools=False), tools=[ORDER_TOOL]))
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("get_order_status", {"order_number": "1001"})]
    sent = fake_llm.chat_requests[0].body
    assert "tools" not in sent
    assert "get_order_status" in sent["messages"][0]["content"] and "exactly one JSON object" in sent["messages"][0]["content"]
    fake_llm.enqueue(FakeReply.text('{"content": "It is on its way."}'))
    assert complete(request(backend(fake_llm, supports_tools=False), tools=[ORDER_TOOL])).content == "It is on its way."
    fake_llm.enqueue(FakeReply.text("Plain prose answer."))
    plain = complete(request(backend(fake_llm, supports_tools=False), tools=[ORDER_TOOL]))
    assert plain.content == "Plain prose answer." and plain.tool_calls == []


@pytest.mark.django_db
def test_429_and_500_are_retried_with_backoff_then_succeed(fake_llm: FakeLLMServer) -> None:
    fake_llm.enqueue(FakeReply.error(429, "slow down", retry_after=0.2), FakeReply.error(500), FakeReply.text("third time lucky"))
    response = complete(request(backend(fake_llm, max_retries=2)))
    assert response.content == "third time lucky"
    times = [r.received_at for r in fake_llm.chat_requests]
    assert len(times) == 3 and times[1] - times[0] >= 0.19  # Retry-After honoured
    outcomes = list(LLMCall.objects.order_by("created_at").values_list("attempt", "outcome", "status_code"))
    assert outcomes == [(1, "error", 429), (2, "error", 500), (3, "ok", None)]


@pytest.mark.django_db
def test_falls_back_to_next_backend_when_primary_is_down(fake_llm: FakeLLMServer, second_llm: FakeLLMServer) -> None:
    fake_llm.enqueue(FakeReply.error(503), FakeReply.error(503))
    second_llm.enqueue(FakeReply.text("from the fallback"))
    response = complete(request(backend(fake_llm), backend(second_llm, "fallback")))
    assert response.content == "from the fallback" and response.backend == "fallback"
    assert len(fake_llm.chat_requests) == 2
    assert list(LLMCall.objects.order_by("created_at").values_list("backend", "outcome")) == [
        ("primary", "error"),
        ("primary", "error"),
        ("fallback", "ok"),
    ]


@pytest.mark.django_db
def test_connection_refused_falls_back(second_llm: FakeLLMServer) -> None:
    dead = BackendConfig(name="dead", base_url="http://127.0.0.1:9/v1", model="m", timeout_s=1, max_retries=0)
    second_llm.enqueue(FakeReply.text("alive"))
    assert complete(request(dead, backend(second_llm, "alive"))).backend == "alive"
    assert LLMCall.objects.get(backend="dead").error_kind == "connection"


@pytest.mark.django_db
def test_timeout_and_garbage_are_failures_not_answers(fake_llm: FakeLLMServer, second_llm: FakeLLMServer) -> None:
    fake_llm.enqueue(FakeReply.hang(1.5))
    second_llm.enqueue(FakeReply.junk())
    with pytest.raises(LLMUnavailable) as excinfo:
        complete(request(backend(fake_llm, timeout_s=0.5, max_retries=0), backend(second_llm, "junk", max_retries=0)))
    assert "timeout" in str(excinfo.value) and "garbage" in str(excinfo.value)
    kinds = dict(LLMCall.objects.values_list("backend", "error_kind"))
    assert kinds == {"primary": "timeout", "junk": "garbage"}


@pytest.mark.django_db
def test_non_retryable_400_is_not_retried(fake_llm: FakeLLMServer) -> None:
    fake_llm.enqueue(FakeReply.error(400, "bad request"), FakeReply.text("never asked"))
    with pytest.raises(LLMUnavailable):
        complete(request(backend(fake_llm, max_retries=3)))
    assert len(fake_llm.chat_requests) == 1
    assert CircuitBreaker(backend(fake_llm)).state() == "closed"  # our bad request says nothing about its health


@pytest.mark.django_db
def test_circuit_opens_after_repeated_failures_and_skips_backend(
    fake_llm: FakeLLMServer, second_llm: FakeLLMServer, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PARLEY_LLM_BREAKER_THRESHOLD", "2")
    monkeypatch.setenv("PARLEY_LLM_BREAKER_COOLDOWN_S", "60")
    primary = backend(fake_llm, max_retries=0)
    fallback = backend(second_llm, "fallback")
    fake_llm.responder = lambda body: FakeReply.error(500)
    base = request(primary, fallback)
    for _ in range(2):
        assert complete(base).backend == "fallback"
    assert CircuitBreaker(primary).state() == "open"
    calls_before = len(fake_llm.chat_requests)
    assert complete(base).backend == "fallback"
    assert len(fake_llm.chat_requests) == calls_before  # skipped without a request
    assert LLMCall.objects.filter(backend="primary", outcome="circuit_open").count() == 1
    # the state is in Redis: a fresh breaker object (another worker) sees it open too
    assert CircuitBreaker(primary).allow() is False


@pytest.mark.django_db
def test_half_open_probe_closes_circuit_on_success(fake_llm: FakeLLMServer) -> None:
    primary = backend(fake_llm, max_retries=0)
    breaker = CircuitBreaker(primary, threshold=1, cooldown_s=1)
    breaker.reset()
    breaker.record_failure()
    assert breaker.state() == "open" and not breaker.allow()
    import time

    time.sleep(1.05)
    assert breaker.state() == "half_open"
    assert breaker.allow() is True and breaker.allow() is False  # one probe only
    breaker.record_success()
    assert breaker.state() == "closed"


@pytest.mark.django_db
def test_streaming_text_and_tool_calls(fake_llm: FakeLLMServer) -> None:
    fake_llm.enqueue(FakeReply.text("Your parcel is out for delivery"))
    pieces: list[str] = []
    response = stream(request(backend(fake_llm)), pieces.append)
    assert len(pieces) > 3 and "".join(pieces) == "Your parcel is out for delivery" == response.content
    assert fake_llm.chat_requests[0].body["stream"] is True
    assert response.completion_tokens == 6
    fake_llm.enqueue(FakeReply.tool_call("get_order_status", {"order_number": "1001"}))
    response = stream(request(backend(fake_llm), tools=[ORDER_TOOL]), pieces.append)
    assert response.tool_calls[0].arguments == {"order_number": "1001"}
    assert LLMCall.objects.filter(streamed=True, outcome="ok").count() == 2


@pytest.mark.django_db
def test_stream_failure_before_text_falls_back_but_broken_stream_raises(
    fake_llm: FakeLLMServer, second_llm: FakeLLMServer
) -> None:
    fake_llm.enqueue(FakeReply.error(500))
    second_llm.enqueue(FakeReply.text("fallback streamed"))
    pieces: list[str] = []
    assert stream(request(backend(fake_llm, max_retries=0), backend(second_llm, "b")), pieces.append).backend == "b"
    assert "".join(pieces) == "fallback streamed"
    fake_llm.enqueue(FakeReply(content="one two three four five", cut_stream_after=3))
    second_llm.enqueue(FakeReply.text("must not be used"))
    with pytest.raises(LLMUnavailable):
        stream(request(backend(fake_llm, max_retries=0), backend(second_llm, "b")), [].append)
    assert len(second_llm.chat_requests) == 1


@pytest.mark.django_db
def test_invalid_tool_call_gets_one_repair_round(fake_llm: FakeLLMServer) -> None:
    fake_llm.enqueue(
        FakeReply.tool_call("get_order_status", '{"order_number": 1001', call_id="bad"),
        FakeReply.tool_call("get_order_status", {"order_number": "1001"}, call_id="good"),
    )
    response = complete_with_tool_validation(request(backend(fake_llm), tools=[ORDER_TOOL]), _validator)
    assert [c.id for c in response.tool_calls] == ["good"] and not response.safe_fallback
    repair_messages = fake_llm.chat_requests[1].body["messages"]
    assert repair_messages[-1]["role"] == "tool" and "not valid JSON" in repair_messages[-1]["content"]
    assert LLMCall.objects.filter(purpose="repair").count() == 1


@pytest.mark.django_db
def test_still_invalid_after_repair_gives_safe_reply_without_tool_calls(fake_llm: FakeLLMServer) -> None:
    fake_llm.enqueue(
        FakeReply.tool_call("get_order_status", {"order_number": 1001}),
        FakeReply.tool_call("refund_order", {"order_number": "1001"}),
    )
    response = complete_with_tool_validation(request(backend(fake_llm), tools=[ORDER_TOOL]), _validator)
    assert response.tool_calls == [] and response.safe_fallback and response.content == SAFE_REPLY
    assert len(fake_llm.chat_requests) == 2


def test_default_routing_from_settings(settings: Any) -> None:
    settings.LLM_BASE_URL = ""
    assert default_routing() is None
    settings.LLM_BASE_URL, settings.LLM_MODEL, settings.LLM_API_KEY = "http://127.0.0.1:11434/v1", "llama3", "k"
    routing = default_routing()
    assert routing is not None and routing.backends[0].model == "llama3" and routing.backends[0].api_key == "k"


def test_json_mode_parser_never_guesses_broken_arguments() -> None:
    from parley.llm.jsonmode import parse_json_mode_reply

    content, calls = parse_json_mode_reply('{"name": "refund_order", "arguments": "{broken"}')
    assert content is None and calls[0].parse_error
    content, calls = parse_json_mode_reply(json.dumps({"tool_call": {"name": "x", "arguments": {"a": 1}}}))
    assert calls[0].arguments == {"a": 1}
