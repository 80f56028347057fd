"""Hand-over routing: least-loaded and round-robin among online agents with capacity, a queue that drains when
capacity frees up, take over / hand back / reassign / resolve, agent status, canned responses, suggestions."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from parley.assistants.actions import create_assistant
from parley.conversations.models import Conversation, ConversationStatus
from parley.handover import actions
from parley.handover.models import Handover, HandoverState, Suggestion
from parley.handover.tasks import assign_waiting_task
from parley.testing import factories


def agent(
    tenant: Any, *, capacity: int = 2, status: str = "online", languages: list[str] | None = None, skills: list[str] | None = None
) -> Any:
    user = factories.make_user(tenant, "agent")
    profile = actions.ensure_profile(tenant=tenant, user=user)
    actions.update_agent(
        profile=profile,
        changes={"status": status, "capacity": capacity, "languages": languages or [], "skills": skills or []},
        actor="test",
    )
    return user


def conversation(channel: Any, text: str = "help") -> Conversation:
    return factories.make_conversation(channel, text)


def hand_over(conv: Conversation, reason: str = "explicit_request") -> Conversation:
    return actions.request_handover(conversation=conv, reason=reason, actor="assistant")


def session_client(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_least_loaded_agent_gets_the_conversation(channel: Any, tenant: Any) -> None:
    busy, free = agent(tenant, capacity=3), agent(tenant, capacity=3)
    first = hand_over(conversation(channel))
    assert first.assignee_id in (busy.id, free.id)
    second = hand_over(conversation(channel))
    third = hand_over(conversation(channel))
    loads = sorted(
        Conversation.objects.filter(status=ConversationStatus.ASSIGNED, assignee_id=user.id).count() for user in (busy, free)
    )
    assert loads == [1, 2]
    assert {first.assignee_id, second.assignee_id} == {busy.id, free.id}
    assert third.status == ConversationStatus.ASSIGNED


@pytest.mark.django_db
def test_round_robin_rotates_and_capacity_queues_the_rest(channel: Any, tenant: Any) -> None:
    create_assistant(
        tenant=tenant, data={"name": "RR", "is_default": True, "handover_rules": {"assignment": "round_robin"}}, actor="t"
    )
    from parley.assistants.models import Assistant

    assistant = Assistant.objects.get(tenant=tenant)
    a, b = agent(tenant, capacity=1), agent(tenant, capacity=1)
    convs = []
    for _ in range(3):
        conv = conversation(channel)
        Conversation.objects.filter(pk=conv.pk).update(assistant=assistant)
        convs.append(hand_over(Conversation.objects.get(pk=conv.pk)))
    assert {convs[0].assignee_id, convs[1].assignee_id} == {a.id, b.id}
    assert convs[2].status == ConversationStatus.PENDING_HUMAN and convs[2].assignee_id is None
    handover = Handover.objects.get(conversation=convs[2])
    assert handover.state == HandoverState.QUEUED and handover.strategy == "round_robin"
    # An agent resolves one conversation: their capacity goes to the oldest waiting one.
    owner = convs[0].assignee
    actions.resolve(conversation=convs[0], actor="test")
    waiting = Conversation.objects.get(pk=convs[2].pk)
    assert waiting.status == ConversationStatus.ASSIGNED and waiting.assignee_id == owner.id


@pytest.mark.django_db
def test_queue_is_assigned_when_an_agent_comes_online(channel: Any, tenant: Any) -> None:
    away = agent(tenant, status="away")
    waiting = hand_over(conversation(channel))
    assert waiting.status == ConversationStatus.PENDING_HUMAN
    client = session_client(away)
    queue = client.get("/api/v1/handover/queue/").json()
    assert [row["conversation"] for row in queue] == [str(waiting.id)]
    assert queue[0]["summary"].startswith("Customer:")
    response = client.put("/api/v1/agents/me/status/", {"status": "online"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "online"
    waiting.refresh_from_db()
    assert waiting.assignee_id == away.id and waiting.status == ConversationStatus.ASSIGNED
    assert client.get("/api/v1/agents/me/status").json()["open_conversations"] == 1
    assert client.put("/api/v1/agents/me/status/", {"status": "sleeping"}, format="json").status_code == 400
    assert factories.api_client(tenant, "agent").get("/api/v1/agents/me/status/").status_code == 400


@pytest.mark.django_db
def test_language_and_skill_prefer_matching_agents(channel: Any, tenant: Any) -> None:
    english = agent(tenant, languages=["en"])
    spanish = agent(tenant, languages=["es"])
    conv = conversation(channel, "hola")
    Conversation.objects.filter(pk=conv.pk).update(language="es")
    assert hand_over(Conversation.objects.get(pk=conv.pk)).assignee_id == spanish.id
    billing = agent(tenant, skills=["billing"])
    conv = conversation(channel)
    Conversation.objects.filter(pk=conv.pk).update(team="billing")
    assert hand_over(Conversation.objects.get(pk=conv.pk)).assignee_id == billing.id
    assert english.id  # the English agent stays free for the rest


@pytest.mark.django_db
def test_hand_back_and_beat_task_release_capacity(channel: Any, tenant: Any) -> None:
    solo = agent(tenant, capacity=1)
    first = hand_over(conversation(channel))
    second = hand_over(conversation(channel))
    assert second.status == ConversationStatus.PENDING_HUMAN
    client = session_client(solo)
    back = client.post(f"/api/v1/conversations/{first.id}/hand-back/")
    assert back.status_code == 200 and back.json()["status"] == "bot"
    assert Handover.objects.get(conversation=first).state == HandoverState.HANDED_BACK
    second.refresh_from_db()
    assert second.assignee_id == solo.id
    assert client.post(f"/api/v1/conversations/{first.id}/hand-back/").status_code == 409
    # Resolved through the plain conversation API (not resolve/): the beat task frees the seat.
    third = hand_over(conversation(channel))
    api = factories.api_client(tenant, "owner")
    assert api.patch(f"/api/v1/conversations/{second.id}/", {"status": "resolved"}, format="json").status_code == 200
    assert assign_waiting_task.apply().get() == 1
    third.refresh_from_db()
    assert third.assignee_id == solo.id


@pytest.mark.django_db
def test_take_over_and_reassign_permissions(channel: Any, tenant: Any) -> None:
    alice, bob = factories.make_user(tenant, "agent"), factories.make_user(tenant, "agent")
    supervisor = factories.make_user(tenant, "supervisor")
    conv = conversation(channel)
    taken = session_client(alice).post(f"/api/v1/conversations/{conv.id}/takeover/")
    assert taken.status_code == 200 and taken.json()["status"] == "assigned"
    assert (
        session_client(alice)
        .post(f"/api/v1/conversations/{conv.id}/reassign/", {"assignee": str(bob.id)}, format="json")
        .status_code
        == 403
    )
    moved = session_client(supervisor).post(
        f"/api/v1/conversations/{conv.id}/reassign/", {"assignee": str(bob.id)}, format="json"
    )
    assert moved.status_code == 200
    conv.refresh_from_db()
    assert conv.assignee_id == bob.id
    outsider = factories.make_user(factories.make_tenant(), "agent")
    bad = session_client(supervisor).post(
        f"/api/v1/conversations/{conv.id}/reassign/", {"assignee": str(outsider.id)}, format="json"
    )
    assert bad.status_code == 400
    assert (
        session_client(supervisor)
        .post(f"/api/v1/conversations/{conv.id}/reassign/", {"assignee": "nope"}, format="json")
        .status_code
        == 400
    )
    foreign = factories.make_conversation(factories.make_channel(factories.make_tenant()))
    assert session_client(alice).post(f"/api/v1/conversations/{foreign.id}/takeover/").status_code == 404


@pytest.mark.django_db
def test_manual_handover_request_and_supervisor_edits_agents(channel: Any, tenant: Any) -> None:
    api = factories.api_client(tenant, "supervisor")
    conv = conversation(channel, "I need help with an invoice")
    response = api.post(
        f"/api/v1/conversations/{conv.id}/handover/",
        {"reason": "billing question", "summary": "Invoice 42 is wrong."},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "pending_human"
    handover = Handover.objects.get(conversation=conv)
    assert handover.summary == "Invoice 42 is wrong." and handover.summary_source == "given"
    worker = agent(tenant, status="offline")
    profile = actions.ensure_profile(tenant=tenant, user=worker)
    edited = api.patch(f"/api/v1/agents/{profile.id}/", {"status": "online", "capacity": 4}, format="json")
    assert edited.status_code == 200 and edited.json()["capacity"] == 4
    conv.refresh_from_db()
    assert conv.assignee_id == worker.id
    assert (
        factories.api_client(tenant, "agent").patch(f"/api/v1/agents/{profile.id}/", {"capacity": 9}, format="json").status_code
        == 403
    )
    assert api.patch(f"/api/v1/agents/{profile.id}/", {"capacity": -1}, format="json").status_code == 400


@pytest.mark.django_db
def test_canned_responses_fill_variables(channel: Any, tenant: Any) -> None:
    supervisor = factories.make_user(tenant, "supervisor")
    client = session_client(supervisor)
    created = client.post(
        "/api/v1/canned-responses/",
        {
            "shortcut": "hello",
            "title": "Greeting",
            "text": "Hi {{customer.first_name}}, {{ agent.name }} here from {{tenant.name}}.",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    conv = conversation(channel)
    Conversation.objects.filter(pk=conv.pk).update()
    conv.customer.name = "Maria Lopez"
    conv.customer.save()
    rendered = client.post(
        f"/api/v1/canned-responses/{created.json()['id']}/render/", {"conversation": str(conv.id)}, format="json"
    )
    assert rendered.status_code == 200
    assert rendered.json()["text"] == f"Hi Maria, {supervisor.name} here from Acme Inc."
    duplicate = client.post("/api/v1/canned-responses/", {"shortcut": "hello", "text": "again"}, format="json")
    assert duplicate.status_code == 409
    unknown = client.post("/api/v1/canned-responses/", {"shortcut": "bad", "text": "Hi {{customer.password}}"}, format="json")
    assert unknown.status_code == 400 and "customer.password" in unknown.json()["detail"]
    agent_client = factories.api_client(tenant, "agent")
    assert agent_client.post("/api/v1/canned-responses/", {"shortcut": "x", "text": "y"}, format="json").status_code == 403
    assert [row["shortcut"] for row in agent_client.get("/api/v1/canned-responses/").json()["results"]] == ["hello"]


@pytest.mark.django_db
def test_suggestions_are_listed_and_marked(channel: Any, tenant: Any) -> None:
    conv = conversation(channel)
    message = conv.messages.first()
    suggestion = actions.create_suggestion(conversation=conv, message=message, text="Try this", source="retrieval", citations=[])
    again = actions.create_suggestion(conversation=conv, message=message, text="Other", source="retrieval", citations=[])
    assert again.pk == suggestion.pk
    api = factories.api_client(tenant, "agent")
    listed = api.get(f"/api/v1/suggestions/?conversation={conv.id}").json()["results"]
    assert [row["text"] for row in listed] == ["Try this"]
    assert api.post(f"/api/v1/suggestions/{suggestion.id}/status/", {"status": "used"}, format="json").status_code == 200
    assert Suggestion.objects.get(pk=suggestion.pk).status == "used"
    assert api.post(f"/api/v1/suggestions/{suggestion.id}/status/", {"status": "loved"}, format="json").status_code == 400
