"""handover_to_human: put the conversation in the human queue."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from pydantic import Field

from parley.tools.base import Tool, ToolContext, ToolFailure, ToolInput, ToolOutput, ToolResult
from parley.tools.registry import register
from parley.tools.texts import say


class HandoverInput(ToolInput):
    reason: str = Field(min_length=2, max_length=300, description="Why a person should take over")
    summary: str = Field(default="", max_length=2000, description="A short summary for the agent")


class HandoverOutput(ToolOutput):
    conversation_status: str


@register
class HandoverToHuman(Tool):
    name = "handover_to_human"
    description = "Hand the conversation to a human agent (the customer asked for a person, or you cannot help)."
    Input = HandoverInput
    Output = HandoverOutput
    scope = "conversation"

    def run(self, args: HandoverInput, context: ToolContext) -> ToolResult:
        try:
            handover: Any = import_module("parley.handover.actions")
            request_handover = handover.request_handover
        except (ImportError, AttributeError) as exc:
            raise ToolFailure("handover unavailable") from exc
        conversation = request_handover(
            conversation=context.conversation, reason=args.reason, summary=args.summary, actor=context.actor
        )
        return self.ok(
            HandoverOutput(conversation_status=conversation.status),
            message=say("handover", context.language),
        )
