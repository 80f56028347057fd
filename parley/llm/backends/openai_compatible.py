"""Any OpenAI-compatible chat-completions server (vLLM, Ollama, llama.cpp server, LM Studio, OpenAI).

Uses the ``openai`` SDK with its own retries switched off: the router owns retries, backoff, fallback
and the circuit breaker, so every attempt is visible and recorded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
from openai.types.chat import ChatCompletion

from parley.llm.errors import BackendError
from parley.llm.jsonmode import parse_json_mode_reply, to_json_mode_messages
from parley.llm.types import BackendConfig, ChatMessage, LLMRequest, LLMResponse, StreamChunk, ToolCall, unparseable_call


def to_openai_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Our messages in the chat-completions wire format."""
    out: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.role, "content": message.content or ""}
        if message.role == "assistant" and message.tool_calls:
            item["content"] = message.content or None
            item["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
                }
                for call in message.tool_calls
            ]
        if message.role == "tool":
            item["tool_call_id"] = message.tool_call_id or ""
        if message.name and message.role == "user":
            item["name"] = message.name  # tool messages carry tool_call_id only; strict servers reject a name there
        out.append(item)
    return out


def parse_tool_call(call_id: str, name: str, raw_arguments: str | None) -> ToolCall:
    """A native tool call; arguments that are not a JSON object are flagged, never guessed."""
    text = raw_arguments or "{}"
    try:
        arguments = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return unparseable_call(call_id, name, text, "arguments are not valid JSON")
    if not isinstance(arguments, dict):
        return unparseable_call(call_id, name, text, "arguments are not a JSON object")
    return ToolCall(id=call_id, name=name, arguments=arguments)


def _retry_after(response: Any) -> float | None:
    if response is None:
        return None
    value = response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def translate_error(exc: Exception) -> BackendError:
    """Map SDK / transport errors to a :class:`BackendError` with a kind and retry advice."""
    if isinstance(exc, openai.APITimeoutError):
        return BackendError("timeout", str(exc), retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return BackendError("connection", str(exc), retryable=True)
    if isinstance(exc, openai.RateLimitError):
        return BackendError("rate_limited", str(exc), retryable=True, status_code=429, retry_after=_retry_after(exc.response))
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        if code >= 500:
            return BackendError("server_error", str(exc), retryable=True, status_code=code)
        if code in (401, 403):
            return BackendError("auth", str(exc), retryable=False, status_code=code)
        if code == 408:
            return BackendError("timeout", str(exc), retryable=True, status_code=code)
        return BackendError("bad_request", str(exc), retryable=False, status_code=code, trips_breaker=False)
    if isinstance(exc, (openai.APIResponseValidationError, json.JSONDecodeError, ValueError, KeyError, TypeError)):
        return BackendError("garbage", f"unreadable response: {exc}", retryable=False)
    if isinstance(exc, httpx.HTTPError):
        return BackendError("connection", str(exc), retryable=True)
    return BackendError("garbage", f"{type(exc).__name__}: {exc}", retryable=False)


class OpenAICompatibleBackend:
    """Chat completions with native tool calling, or the JSON-mode fallback when ``supports_tools`` is off."""

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self.client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "not-needed",
            timeout=config.timeout_s,
            max_retries=0,
        )

    def _payload(self, request: LLMRequest) -> dict[str, Any]:
        routing = request.routing
        payload: dict[str, Any] = {
            "model": self.config.model,
            "temperature": routing.temperature,
            "max_tokens": routing.max_tokens,
        }
        if request.tools and self.config.supports_tools:
            payload["messages"] = to_openai_messages(request.messages)
            payload["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
                for t in request.tools
            ]
        elif request.tools:
            payload["messages"] = to_json_mode_messages(request.messages, request.tools)
        else:
            payload["messages"] = to_openai_messages(request.messages)
        return payload

    def _json_mode(self, request: LLMRequest) -> bool:
        return bool(request.tools) and not self.config.supports_tools

    def chat(self, request: LLMRequest, *, timeout_s: float) -> LLMResponse:
        started = time.perf_counter()
        try:
            # Posted as built, through the same client (auth, errors, the typed response). The SDK's
            # ``chat.completions.create`` first walks the whole request against its typed parameters
            # (``maybe_transform``): ~3 ms of CPU per call for an assistant turn's tools and history,
            # for a payload that is plain JSON built above.
            completion = self.client.post(
                "/chat/completions", body=self._payload(request), cast_to=ChatCompletion, options={"timeout": timeout_s}
            )
            if not hasattr(completion, "choices") or not completion.choices:
                raise BackendError("garbage", "response has no choices", retryable=False)
            choice = completion.choices[0]
            message = choice.message
            content = message.content
            tool_calls: list[ToolCall] = []
            for raw in message.tool_calls or []:
                function = getattr(raw, "function", None)
                if function is None:
                    continue
                tool_calls.append(parse_tool_call(raw.id or f"call_{len(tool_calls)}", function.name, function.arguments))
            if self._json_mode(request) and not tool_calls:
                content, tool_calls = parse_json_mode_reply(content or "")
            usage = completion.usage
        except BackendError:
            raise
        except Exception as exc:  # every transport/SDK/parse failure becomes a typed BackendError
            raise translate_error(exc) from exc
        if content is None and not tool_calls:
            raise BackendError("garbage", "response has neither content nor tool calls", retryable=False)
        return LLMResponse(
            content=content,
            tool_calls=tool_calls,
            backend=self.config.name,
            model=completion.model or self.config.model,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            latency_ms=int((time.perf_counter() - started) * 1000),
            finish_reason=choice.finish_reason,
        )

    def stream(self, request: LLMRequest, *, timeout_s: float) -> Iterator[StreamChunk]:
        started = time.perf_counter()
        json_mode = self._json_mode(request)
        text_parts: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        prompt_tokens = completion_tokens = 0
        finish_reason: str | None = None
        model = self.config.model
        try:
            stream = self.client.chat.completions.create(
                **self._payload(request), stream=True, stream_options={"include_usage": True}, timeout=timeout_s
            )
            for chunk in stream:
                model = getattr(chunk, "model", None) or model
                usage = getattr(chunk, "usage", None)
                if usage is not None:
                    prompt_tokens = int(usage.prompt_tokens or 0)
                    completion_tokens = int(usage.completion_tokens or 0)
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                    if delta is None:
                        continue
                    if delta.content:
                        text_parts.append(delta.content)
                        if not json_mode:
                            yield StreamChunk(delta=delta.content)
                    for tool_delta in delta.tool_calls or []:
                        slot = calls.setdefault(tool_delta.index, {"id": "", "name": "", "arguments": ""})
                        if tool_delta.id:
                            slot["id"] = tool_delta.id
                        if tool_delta.function is not None:
                            slot["name"] += tool_delta.function.name or ""
                            slot["arguments"] += tool_delta.function.arguments or ""
        except BackendError:
            raise
        except Exception as exc:
            raise translate_error(exc) from exc
        if finish_reason is None:
            raise BackendError("connection", "stream ended before the model finished", retryable=True)
        content: str | None = "".join(text_parts) or None
        tool_calls = [
            parse_tool_call(slot["id"] or f"call_{index}", slot["name"], slot["arguments"])
            for index, slot in sorted(calls.items())
            if slot["name"]
        ]
        if json_mode and not tool_calls:
            content, tool_calls = parse_json_mode_reply(content or "")
            if content:
                yield StreamChunk(delta=content)
        if content is None and not tool_calls:
            raise BackendError("garbage", "stream ended with neither content nor tool calls", retryable=False)
        yield StreamChunk(
            response=LLMResponse(
                content=content,
                tool_calls=tool_calls,
                backend=self.config.name,
                model=model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                latency_ms=int((time.perf_counter() - started) * 1000),
                finish_reason=finish_reason,
            )
        )
