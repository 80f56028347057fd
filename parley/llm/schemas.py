"""Payloads of ``POST /llm/infer``: messages + tools + routing hints in; message + tool calls + usage out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from parley.llm.types import ChatMessage, ToolCall, ToolSpec


class RoutingHints(BaseModel):
    """How to route among the installation's configured backends (callers cannot add new hosts)."""

    model_config = ConfigDict(extra="forbid")

    backends: list[str] | None = Field(default=None, description="Names of configured backends to use, in this order")
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    timeout_s: float | None = Field(default=None, gt=0, le=300)


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    tools: list[ToolSpec] = Field(default_factory=list, max_length=64)
    routing: RoutingHints = Field(default_factory=RoutingHints)
    assistant_id: str | None = Field(default=None, max_length=64)
    conversation_id: str | None = Field(default=None, max_length=64)
    purpose: str = Field(default="api", max_length=40)


class InferMessage(BaseModel):
    role: str = "assistant"
    content: str | None
    tool_calls: list[ToolCall]


class InferUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class InferResponse(BaseModel):
    message: InferMessage
    usage: InferUsage
    backend: str
    model: str
    latency_ms: int
    finish_reason: str | None
