"""The hand-written fast conversation representation equals DRF's declarative one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.utils.encoders import JSONEncoder

from parley.conversations import actions
from parley.conversations.serializers import ConversationSerializer
from parley.testing import factories


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=JSONEncoder))


@pytest.mark.django_db
def test_fast_conversation_representation_matches_drf(tenant: Any, channel: Any) -> None:
    agent = factories.make_user(tenant, "agent")
    conversation = factories.make_conversation(channel, "hello there")
    fresh = type(conversation).objects.select_related("customer", "channel", "assignee").get(pk=conversation.pk)
    serializer = ConversationSerializer()
    assert _json(serializer.to_representation(fresh)) == _json(serializer.generic_representation(fresh))
    actions.update_conversation(
        conversation=fresh, changes={"assignee": agent.id, "labels": ["vip"], "status": "resolved"}, actor="t"
    )
    fresh = type(conversation).objects.select_related("customer", "channel", "assignee").get(pk=conversation.pk)
    fast = _json(serializer.to_representation(fresh))
    assert fast == _json(serializer.generic_representation(fresh))
    assert fast["assignee_email"] == agent.email
    assert fast["resolved_at"] is not None
