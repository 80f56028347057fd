"""Objects of the assistant area's routed models in another tenant, for the core API-access test."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from parley.accounts.models import Membership
from parley.handover.models import AgentProfile, CannedResponse, Handover, Suggestion
from parley.orchestrator.models import TurnTrace


def assistant_area_objects(other: Any, conversation: Any, message: Any, user: Any) -> dict[type, Any]:
    """One TurnTrace, AgentProfile, Handover, CannedResponse and Suggestion owned by ``other``."""
    membership = Membership.objects.get(tenant=other, user=user)
    return {
        TurnTrace: TurnTrace.objects.create(tenant=other, conversation=conversation, message=message, status="done"),
        AgentProfile: AgentProfile.objects.create(tenant=other, membership=membership, user=user),
        Handover: Handover.objects.create(tenant=other, conversation=conversation, reason="test", queued_at=timezone.now()),
        CannedResponse: CannedResponse.objects.create(tenant=other, shortcut="globex", text="secret canned text"),
        Suggestion: Suggestion.objects.create(tenant=other, conversation=conversation, message=message, text="secret draft"),
    }
