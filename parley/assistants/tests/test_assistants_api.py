"""Assistant profiles over the API: versions on every persona/instructions edit, diff, drafts, roll back,
the test chat, validation of configuration blocks, and which assistant serves a conversation."""

from __future__ import annotations

from typing import Any

import pytest

from parley.assistants.actions import select_assistant
from parley.assistants.models import Assistant
from parley.testing import factories


def _create(api: Any, **data: Any) -> dict[str, Any]:
    body = {"name": "Ava", "persona": "Friendly.", "instructions": "Be brief.\nNever promise dates.", **data}
    response = api.post("/api/v1/assistants/", body, format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


@pytest.mark.django_db
def test_edits_create_versions_with_diff_and_rollback(api: Any) -> None:
    created = _create(api)
    url = f"/api/v1/assistants/{created['id']}/"
    assert created["active_version"] == 1
    edited = api.patch(url, {"instructions": "Be brief.\nAlways cite the help center."}, format="json").json()
    assert edited["active_version"] == 2
    assert api.patch(url, {"name": "Ava 2"}, format="json").json()["active_version"] == 2  # not a prompt edit
    diff = api.get(f"{url}diff/?from=1&to=2").json()
    assert "-Never promise dates." in diff["diffs"]["instructions"]
    assert "+Always cite the help center." in diff["diffs"]["instructions"]
    assert "persona" not in diff["diffs"]
    rolled = api.post(f"{url}rollback/", {"version": 1}, format="json")
    assert rolled.status_code == 201 and rolled.json()["number"] == 3 and rolled.json()["rolled_back_from"] == 1
    current = api.get(url).json()
    assert current["active_version"] == 3 and current["instructions"].endswith("Never promise dates.")
    numbers = [v["number"] for v in api.get(f"{url}versions/").json()]
    assert numbers == [3, 2, 1]


@pytest.mark.django_db
def test_draft_versions_are_not_live_until_published(api: Any) -> None:
    created = _create(api)
    url = f"/api/v1/assistants/{created['id']}/"
    draft = api.post(f"{url}versions/", {"persona": "Pirate voice.", "instructions": "Arr."}, format="json")
    assert draft.status_code == 201 and draft.json()["is_draft"] is True
    assert api.get(url).json()["persona"] == "Friendly."
    published = api.post(f"{url}versions/2/publish/", format="json")
    assert published.status_code == 200 and published.json()["persona"] == "Pirate voice."
    assert api.post(f"{url}versions/9/publish/", format="json").status_code == 404


@pytest.mark.django_db
def test_test_chat_runs_a_dry_turn_against_a_version(api: Any, tenant: Any) -> None:
    created = _create(api, allowed_tools=["get_order_status"])
    url = f"/api/v1/assistants/{created['id']}/test-chat/"
    hello = api.post(url, {"message": "Hello!"}, format="json")
    assert hello.status_code == 200, hello.content
    assert hello.json()["outcome"] == "smalltalk" and hello.json()["version"] == 1
    ask = api.post(url, {"message": "where is my order?"}, format="json").json()
    assert ask["outcome"] == "clarify" and "order number" in ask["reply"]
    follow = api.post(url, {"message": "#1001", "state": ask["state"]}, format="json").json()
    assert follow["outcome"] == "tool"
    assert follow["planned_tool_calls"] == [{"name": "get_order_status", "arguments": {"order_number": "1001"}}]
    human = api.post(url, {"message": "I want a human"}, format="json").json()
    assert human["outcome"] == "handover" and human["handover_reason"] == "explicit_request"
    assert api.post(url, {"message": "hi", "version": 7}, format="json").status_code == 404
    assert api.post(url, {"message": ""}, format="json").status_code == 400
    from parley.conversations.models import Message

    assert not Message.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"llm": {"temperature": 5}}, "llm"),
        ({"llm": {"backends": [{"name": "x", "base_url": "http://x", "model": "m", "colour": 1}]}}, "llm"),
        ({"business_hours": {"days": {"funday": [["09:00", "17:00"]]}}}, "business_hours"),
        ({"business_hours": {"timezone": "Mars/Olympus"}}, "business_hours"),
        ({"handover_rules": {"assignment": "random"}}, "handover_rules"),
        ({"routing_rules": [{"channel_types": "webchat"}]}, "routing_rules"),
        ({"languages": ["english"]}, "languages"),
        ({"knowledge_threshold": 3}, "knowledge_threshold"),
        ({"sparkles": True}, "sparkles"),
    ],
)
def test_bad_configuration_is_a_400_with_a_reason(api: Any, body: dict[str, Any], field: str) -> None:
    response = api.post("/api/v1/assistants/", {"name": "Bad", **body}, format="json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert field in payload.get("errors", {}) or field in payload["detail"]


@pytest.mark.django_db
def test_api_keys_of_backends_are_never_returned(api: Any) -> None:
    backend = {"name": "main", "base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": "sk-secret"}
    created = _create(api, llm={"backends": [backend]})
    assert created["llm"]["backends"][0]["api_key"] == "********"
    echoed = {**created["llm"], "temperature": 0.5}
    api.patch(f"/api/v1/assistants/{created['id']}/", {"llm": echoed}, format="json")
    stored = Assistant.objects.get(pk=created["id"])
    assert stored.llm["backends"][0]["api_key"] == "sk-secret" and stored.llm["temperature"] == 0.5


@pytest.mark.django_db
def test_only_managers_edit_and_agents_may_use_the_test_chat(tenant: Any) -> None:
    created = _create(factories.api_client(tenant, "admin"))
    agent = factories.api_client(tenant, "agent")
    assert agent.patch(f"/api/v1/assistants/{created['id']}/", {"name": "x"}, format="json").status_code == 403
    assert agent.post(f"/api/v1/assistants/{created['id']}/test-chat/", {"message": "hi"}, format="json").status_code == 200
    assert factories.api_client(tenant, "analyst").post("/api/v1/assistants/", {"name": "x"}, format="json").status_code == 403


@pytest.mark.django_db
def test_which_assistant_serves_a_conversation(api: Any, tenant: Any) -> None:
    webchat = factories.make_channel(tenant)
    whatsapp = factories.make_channel(tenant, type="whatsapp")
    default = _create(api, name="General", is_default=True)
    linked = _create(api, name="Web", channels=[str(webchat.id)])
    spanish = _create(api, name="Spanish", priority=1, routing_rules=[{"languages": ["es"], "channel_types": ["webchat"]}])
    refunds = _create(api, name="Refunds", priority=2, routing_rules=[{"keywords": ["refund"]}])
    _create(api, name="Off", enabled=False, priority=0, routing_rules=[{}])

    def pick(channel: Any, language: str = "", text: str = "") -> str:
        chosen = select_assistant(tenant_id=tenant.id, channel=channel, language=language, text=text)
        assert chosen is not None
        return str(chosen.id)

    assert pick(webchat, "es", "hola") == spanish["id"]
    assert pick(whatsapp, "es", "I want a refund") == refunds["id"]
    assert pick(webchat, "en", "hello") == linked["id"]
    assert pick(whatsapp, "en", "hello") == default["id"]
    foreign = factories.make_channel(factories.make_tenant())
    response = api.post("/api/v1/assistants/", {"name": "Steal", "channels": [str(foreign.id)]}, format="json")
    assert response.status_code == 400 and "channels" in response.json()["errors"]
