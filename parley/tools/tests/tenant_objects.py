"""Objects of the tools area's routed models in another tenant, for the core API-access test."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from parley.tools.models import PendingAction, ToolExecution


def tools_area_objects(other: Any, conversation: Any) -> dict[type, Any]:
    """One PendingAction and one ToolExecution owned by ``other``."""
    pending = PendingAction.objects.create(
        tenant=other,
        conversation=conversation,
        customer=conversation.customer,
        tool="refund_order",
        arguments={"order_number": "9001"},
        summary="refund 500.00 EUR for order #9001",
        amount=Decimal("500.00"),
        currency="EUR",
        status="awaiting_approval",
        requires_approval=True,
        expires_at=timezone.now() + timedelta(minutes=15),
    )
    execution = ToolExecution.objects.create(
        tenant=other,
        conversation=conversation,
        customer=conversation.customer,
        tool="get_order_status",
        status="ok",
        actor="assistant:x",
    )
    return {PendingAction: pending, ToolExecution: execution}
