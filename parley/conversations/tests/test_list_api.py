"""GET /api/v1/conversations/: the SQL-written list equals ConversationSerializer's representation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from parley.conversations import actions
from parley.conversations.models import Conversation
from parley.conversations.serializers import ConversationSerializer, conversation_page_json
from parley.testing import factories


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=JSONEncoder))


def _expected(tenant: Any) -> list[dict[str, Any]]:
    """The declarative (DRF) representation of the tenant's conversations, in the list's order."""
    serializer = ConversationSerializer()
    conversations = Conversation.objects.filter(tenant=tenant).select_related("customer", "channel", "assignee")
    return [_json(serializer.generic_representation(conversation)) for conversation in conversations]


@pytest.fixture
def varied(tenant: Any, channel: Any) -> list[Conversation]:
    """Conversations covering every branch of the representation."""
    agent = factories.make_user(tenant, "agent")
    plain = factories.make_conversation(channel, "hello there")
    assigned = factories.make_conversation(channel, 'Ünïcödé — "quotes" and \\ backslash\n', sender="søren")
    actions.update_conversation(
        conversation=assigned,
        changes={"assignee": agent.id, "labels": ["vip", "billing"], "priority": "high", "team": "Tier 2"},
        actor="t",
    )
    whole_second = factories.make_conversation(channel, "resolved at a whole second")
    Conversation.objects.filter(pk=whole_second.pk).update(
        resolved_at=datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),
        first_response_at=datetime(2026, 3, 1, 11, 59, 59, 5, tzinfo=UTC),
        subject="Order #42",
        language="de",
    )
    null_preview = factories.make_conversation(channel, "preview is null")
    Conversation.objects.filter(pk=null_preview.pk).update(metadata={"last_message_preview": None, "x": 1})
    list_metadata = factories.make_conversation(channel, "metadata is a list")
    Conversation.objects.filter(pk=list_metadata.pk).update(metadata=["not", "an", "object"])
    no_preview = factories.make_conversation(channel, "no preview key")
    Conversation.objects.filter(pk=no_preview.pk).update(metadata={}, last_message_at=None)
    return [plain, assigned, whole_second, null_preview, list_metadata, no_preview]


@pytest.mark.django_db
def test_list_equals_the_serializer_representation(tenant: Any, varied: list[Conversation]) -> None:
    body = factories.api_client(tenant, "agent").get("/api/v1/conversations/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == len(varied)
    assert body["next"] is None and body["previous"] is None
    expected = _expected(tenant)
    assert [row["id"] for row in body["results"]] == [row["id"] for row in expected]
    assert body["results"] == expected
    # Keys in the declared order, as the serializer writes them.
    assert list(body["results"][0]) == list(ConversationSerializer.Meta.fields)
    by_id = {row["id"]: row for row in body["results"]}
    assert by_id[str(varied[2].pk)]["resolved_at"] == "2026-03-01T12:00:00Z"
    assert by_id[str(varied[2].pk)]["first_response_at"] == "2026-03-01T11:59:59.000005Z"
    assert by_id[str(varied[3].pk)]["last_message_preview"] is None
    assert by_id[str(varied[4].pk)]["last_message_preview"] == ""
    assert by_id[str(varied[1].pk)]["assignee_email"].endswith(".test")


@pytest.mark.django_db
def test_pagination_envelope_and_filters(tenant: Any, varied: list[Conversation]) -> None:
    client = factories.api_client(tenant, "agent")
    expected = _expected(tenant)
    first = client.get("/api/v1/conversations/", {"page_size": 4}).json()
    assert first["count"] == 6 and first["previous"] is None
    assert first["next"].endswith("/api/v1/conversations/?page=2&page_size=4")
    second = client.get("/api/v1/conversations/", {"page_size": 4, "page": 2}).json()
    assert second["next"] is None and second["previous"].endswith("/api/v1/conversations/?page_size=4")
    assert first["results"] + second["results"] == expected
    missing = client.get("/api/v1/conversations/", {"page_size": 4, "page": 3})
    assert missing.status_code == 404
    assert client.get("/api/v1/conversations/", {"page": "x"}).status_code == 404

    assigned = client.get("/api/v1/conversations/", {"unassigned": "false"}).json()
    assert [row["id"] for row in assigned["results"]] == [str(varied[1].pk)] and assigned["count"] == 1
    labelled = client.get("/api/v1/conversations/", {"label": "billing"}).json()
    assert [row["id"] for row in labelled["results"]] == [str(varied[1].pk)]
    webchat_normal = client.get("/api/v1/conversations/", {"channel_type": "webchat", "priority": ["normal"]}).json()
    assert webchat_normal["count"] == 5
    assert webchat_normal["results"] == [row for row in expected if row["priority"] == "normal"]
    # Parameters that name no filter change nothing; a bad filter value is a 400, not a silent full list.
    assert client.get("/api/v1/conversations/", {"utm_source": "x"}).json()["count"] == 6
    bad = client.get("/api/v1/conversations/", {"status": "exploded"})
    assert bad.status_code == 400


@pytest.mark.django_db
def test_list_is_tenant_scoped(tenant: Any, other_tenant: Any, varied: list[Conversation]) -> None:
    factories.make_conversation(factories.make_channel(other_tenant), "someone else's")
    body = factories.api_client(tenant, "analyst").get("/api/v1/conversations/").json()
    assert body["count"] == len(varied)
    assert {row["id"] for row in body["results"]} == {str(c.pk) for c in varied}
    theirs = factories.api_client(other_tenant, "analyst").get("/api/v1/conversations/").json()
    assert theirs["count"] == 1 and theirs["results"][0]["last_message_preview"] == "someone else's"


@pytest.mark.django_db
def test_list_reads_one_statement(tenant: Any, varied: list[Conversation]) -> None:
    client = factories.api_client(tenant, "agent")
    client.get("/api/v1/conversations/")  # the key is resolved (and cached) here
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/conversations/", {"status": ["bot", "assigned"]}).status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 1, statements


@pytest.mark.django_db
def test_other_time_zones_use_the_serializer(tenant: Any, varied: list[Conversation]) -> None:
    client = factories.api_client(tenant, "agent")
    with timezone.override("Europe/Berlin"):
        body = client.get("/api/v1/conversations/").json()
        expected = _expected(tenant)
    assert body["results"] == expected
    assert body["results"][0]["created_at"].endswith("+01:00")


@pytest.mark.django_db
def test_page_json_slices(tenant: Any, varied: list[Conversation]) -> None:
    conversations = Conversation.objects.filter(tenant=tenant)
    expected = _expected(tenant)
    total, page = conversation_page_json(conversations, 1, 2)
    assert total == 6 and json.loads(page) == expected[1:3]
    assert conversation_page_json(conversations, 6, 4) == (6, "[]")
    assert conversation_page_json(conversations, 0, 0) == (6, "[]")
    assert json.loads(conversation_page_json(conversations, 0, None)[1]) == expected
    assert conversation_page_json(conversations.filter(pk__in=[]), 0, 10) == (0, "[]")


@pytest.mark.django_db
def test_page_numbers(tenant: Any, varied: list[Conversation]) -> None:
    client = factories.api_client(tenant, "agent")
    expected = _expected(tenant)
    last = client.get("/api/v1/conversations/", {"page": "last", "page_size": 4}).json()
    assert last["results"] == expected[4:] and last["next"] is None
    assert client.get("/api/v1/conversations/", {"page_size": 1000}).json()["results"] == expected  # capped at 500
    for bad in ("0", "-1", "2.0", "x", "7"):
        response = client.get("/api/v1/conversations/", {"page": bad, "page_size": 1})
        assert response.status_code == 404, bad
        assert response.json()["detail"].startswith("Invalid page"), bad
    assert client.get("/api/v1/conversations/", {"page": "6", "page_size": 1}).json()["results"] == expected[5:]


@pytest.mark.django_db
def test_an_empty_inbox_and_filters_that_match_nothing(tenant: Any, channel: Any) -> None:
    client = factories.api_client(tenant, "agent")
    assert client.get("/api/v1/conversations/").json() == {"count": 0, "next": None, "previous": None, "results": []}
    factories.make_conversation(channel)
    nothing = client.get("/api/v1/conversations/", {"status": "closed"}).json()
    assert nothing == {"count": 0, "next": None, "previous": None, "results": []}
