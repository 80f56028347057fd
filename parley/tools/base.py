"""The Tool protocol: one class per tool, typed input/output, a JSON schema for the model.

A tool declares ``name``, ``description``, a pydantic ``Input`` (its JSON schema is what the model
sees and what every call is validated against), an ``Output``, whether it ``requires_confirmation``
(money: the customer must say yes in a later turn, and large amounts need an agent's approval) and
its ``scope``. Tools receive a :class:`ToolContext` and only ever query rows of ``context.tenant``
and ``context.customer``: the customer is taken from the conversation, never from the model's arguments.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

ToolStatus = Literal["ok", "error", "needs_confirmation", "needs_approval", "refused"]


@dataclass
class ToolContext:
    """Who a tool acts for: the tenant, the customer of the conversation, and what it may use.

    Attributes:
        tenant: the tenant whose data the tool may touch.
        customer: the customer the conversation is with (tools only see this customer's data).
        conversation: the current conversation (None only for tools with ``scope = "tenant"``).
        assistant_id: the assistant calling, for the audit trail.
        allowed_tools: the assistant's allow-list of tool names.
        actor: who acts, e.g. ``assistant:<id>``.
        language: the conversation's language; what the tool says to the customer uses it.
    """

    tenant: Any
    customer: Any
    conversation: Any
    assistant_id: str | None
    allowed_tools: set[str]
    actor: str = "assistant"
    language: str = "en"


class ToolResult(BaseModel):
    """What a tool call produced; ``message`` is safe to show the customer."""

    status: ToolStatus
    data: dict[str, Any] = Field(default_factory=dict)
    message: str = ""
    pending_action_id: str | None = None


class ToolInput(BaseModel):
    """Base of every tool's input: unknown arguments are an error, never ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ToolOutput(BaseModel):
    """Base of every tool's output."""


class ToolFailure(Exception):
    """A tool could not do what was asked; ``message`` is shown to the customer (no internals)."""

    def __init__(self, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data or {}


@dataclass(frozen=True)
class Proposal:
    """What a money tool would do, stored as a PendingAction until the customer confirms.

    Attributes:
        summary: one line the customer confirms ("Refund 49.90 EUR for order #1001").
        amount: the money involved (compared with the tenant's approval limit).
        currency: ISO currency of ``amount``.
        arguments: the normalised arguments :meth:`Tool.commit` will run with.
    """

    summary: str
    amount: Decimal
    currency: str
    arguments: dict[str, Any]


class Tool:
    """Base class of every tool; subclasses are registered with :func:`parley.tools.registry.register`."""

    name: ClassVar[str]
    description: ClassVar[str]
    Input: ClassVar[type[ToolInput]] = ToolInput
    Output: ClassVar[type[ToolOutput]] = ToolOutput
    requires_confirmation: ClassVar[bool] = False
    scope: ClassVar[Literal["customer", "conversation"]] = "customer"

    def run(self, args: Any, context: ToolContext) -> ToolResult:
        """Do the work for a validated ``args`` (an ``Input`` instance). Raise :class:`ToolFailure` to refuse."""
        raise NotImplementedError

    def prepare(self, args: Any, context: ToolContext) -> Proposal:
        """For ``requires_confirmation`` tools: check the request and describe it, changing nothing."""
        raise NotImplementedError

    def commit(self, arguments: dict[str, Any], context: ToolContext, *, idempotency_key: str) -> ToolResult:
        """For ``requires_confirmation`` tools: do it, after confirmation (and approval when needed)."""
        raise NotImplementedError

    def ok(self, output: ToolOutput, message: str = "") -> ToolResult:
        return ToolResult(status="ok", data=output.model_dump(mode="json"), message=message)


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: _strip_titles(value) for key, value in schema.items() if not (key == "title" and isinstance(value, str))}
    if isinstance(schema, list):
        return [_strip_titles(item) for item in schema]
    return schema


def input_schema(tool: type[Tool]) -> dict[str, Any]:
    """The JSON schema of a tool's arguments, as offered to the model (a fresh copy each call)."""
    # pydantic builds the schema in ~0.4 ms per tool and every assistant turn offers all its tools
    schema = _SCHEMAS.get(tool)
    if schema is None:
        schema = _strip_titles(tool.Input.model_json_schema())
        schema.setdefault("properties", {})
        schema["additionalProperties"] = False
        _SCHEMAS[tool] = schema
    return copy.deepcopy(schema)


_SCHEMAS: dict[type[Tool], dict[str, Any]] = {}
