"""Typed messages, tool specs and routing for every LLM call (the contract the orchestrator builds on)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

INVALID_ARGUMENTS_KEY = "_unparseable_arguments"


class ToolCall(BaseModel):
    """A tool the model asked to call, with its (already JSON-decoded) arguments.

    When the model's arguments were not a JSON object, ``parse_error`` says so and ``arguments`` is
    ``{INVALID_ARGUMENTS_KEY: <raw text>}``: no tool schema accepts that key, so even a caller that
    ignores ``parse_error`` and passes the arguments on cannot get the call executed.
    """

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    parse_error: str | None = Field(default=None, description="Set when the model's arguments were not a JSON object")


class ChatMessage(BaseModel):
    """One chat message in OpenAI's shape: system / user / assistant (maybe with tool calls) / tool."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


class ToolSpec(BaseModel):
    """A tool offered to the model: its name, what it does and a JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class BackendConfig(BaseModel):
    """One LLM server: an OpenAI-compatible base URL and model, with limits and prices."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    kind: Literal["openai_compatible"] = "openai_compatible"
    base_url: str
    model: str
    api_key: str = ""
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    max_retries: int = Field(default=2, ge=0, le=10)
    supports_tools: bool = True
    price_prompt_per_1k: float | None = Field(default=None, ge=0)
    price_completion_per_1k: float | None = Field(default=None, ge=0)


class RoutingConfig(BaseModel):
    """Backends tried in order (fallback), and generation settings shared by all of them."""

    model_config = ConfigDict(extra="forbid")

    backends: list[BackendConfig] = Field(min_length=1)
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tokens: int = Field(default=512, ge=1, le=32768)
    timeout_s: float | None = Field(default=None, gt=0, le=600, description="Overall budget for the call, all backends included")


class LLMRequest(BaseModel):
    """A completion request: the conversation so far, the tools on offer and where to send it."""

    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[ToolSpec] = Field(default_factory=list)
    routing: RoutingConfig
    tenant_id: str | None = None
    assistant_id: str | None = None
    conversation_id: str | None = None
    purpose: str = Field(default="chat", description="What the call is for, recorded with it (chat, repair, summary, ...)")


class LLMResponse(BaseModel):
    """The model's answer: text and/or tool calls, which backend produced it, usage and latency."""

    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    backend: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    finish_reason: str | None = None
    safe_fallback: bool = Field(default=False, description="True when the content is Parley's safe reply, not the model's")


class StreamChunk(BaseModel):
    """One piece of a streamed answer: a text delta, or (last) the complete response."""

    delta: str = ""
    response: LLMResponse | None = None


def unparseable_call(call_id: str, name: str, raw: str, reason: str) -> ToolCall:
    """A tool call whose arguments could not be read; it can never pass a tool's schema."""
    return ToolCall(id=call_id, name=name, arguments={INVALID_ARGUMENTS_KEY: raw[:500]}, parse_error=reason)
