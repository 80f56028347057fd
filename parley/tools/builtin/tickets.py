"""create_ticket and schedule_followup: work that outlives the turn."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from django.utils import timezone
from pydantic import Field

from parley.conversations.actions import create_ticket
from parley.tools import actions
from parley.tools.base import Tool, ToolContext, ToolInput, ToolOutput, ToolResult
from parley.tools.registry import register
from parley.tools.texts import say


class CreateTicketInput(ToolInput):
    subject: str = Field(min_length=3, max_length=300, description="Short summary of the problem")
    description: str = Field(default="", max_length=4000, description="Details the team needs")
    priority: Literal["low", "normal", "high", "urgent"] = "normal"


class CreateTicketOutput(ToolOutput):
    ticket_id: str
    status: str


@register
class CreateTicket(Tool):
    name = "create_ticket"
    description = "Open a support ticket for the current customer when a problem needs follow-up by the team."
    Input = CreateTicketInput
    Output = CreateTicketOutput
    scope = "conversation"

    def run(self, args: CreateTicketInput, context: ToolContext) -> ToolResult:
        ticket = create_ticket(
            tenant=context.tenant,
            data={
                "customer": context.customer,
                "conversation": context.conversation,
                "subject": args.subject,
                "description": args.description,
                "priority": args.priority,
            },
            created_by=context.actor,
        )
        return self.ok(
            CreateTicketOutput(ticket_id=str(ticket.pk), status=ticket.status),
            message=say("ticket_opened", context.language),
        )


class FollowupInput(ToolInput):
    text: str = Field(min_length=1, max_length=1000, description="The message to send the customer later")
    in_minutes: int = Field(ge=5, le=60 * 24 * 30, description="When to send it, in minutes from now")


class FollowupOutput(ToolOutput):
    followup_id: str
    due_at: datetime


@register
class ScheduleFollowup(Tool):
    name = "schedule_followup"
    description = "Send the current customer a message later in this conversation (e.g. to check a problem is solved)."
    Input = FollowupInput
    Output = FollowupOutput
    scope = "conversation"

    def run(self, args: FollowupInput, context: ToolContext) -> ToolResult:
        followup = actions.schedule_followup(
            context=context, text=args.text, due_at=timezone.now() + timedelta(minutes=args.in_minutes)
        )
        return self.ok(FollowupOutput(followup_id=str(followup.pk), due_at=followup.due_at))
