"""The REST fallback: session, send (idempotent on client_id), poll, read; origins and tokens enforced."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.connectors.models import ChannelType
from parley.conversations.models import Message
from parley.testing import factories

ORIGIN = "https://shop.example"


@pytest.fixture
def widget(tenant: Any) -> Any:
    return factories.make_channel(tenant, type=ChannelType.WEBCHAT, config={"allowed_origins": [ORIGIN]})


def _client() -> Client:
    return Client(headers={"Origin": ORIGIN})


@pytest.mark.django_db
def test_session_send_poll_and_duplicate(widget: Any) -> None:
    base = f"/api/v1/webchat/{widget.key}"
    session = _client().post(f"{base}/session/", {"name": "Ana"}, content_type="application/json")
    assert session.status_code == 200, session.content
    assert session["Access-Control-Allow-Origin"] == ORIGIN
    token = session.json()["visitor_token"]
    headers = {"X-Parley-Visitor-Token": token}
    sent = _client().post(
        f"{base}/messages/", {"client_id": "r-1", "text": "Hi"}, content_type="application/json", headers=headers
    )
    assert sent.status_code == 201, sent.content
    body = sent.json()
    assert body["ack"]["duplicate"] is False and body["message"]["text"] == "Hi"
    again = _client().post(
        f"{base}/messages/", {"client_id": "r-1", "text": "Hi"}, content_type="application/json", headers=headers
    )
    assert again.status_code == 200 and again.json()["ack"]["duplicate"] is True
    assert Message.objects.filter(channel=widget).count() == 1
    assert Message.objects.get(channel=widget).conversation.customer.name == "Ana"
    polled = _client().get(f"{base}/messages/", headers=headers).json()
    assert polled["conversation_id"] == body["ack"]["conversation_id"]
    assert [m["text"] for m in polled["messages"]] == ["Hi"]
    assert _client().get(f"{base}/messages/?after={body['message']['id']}", headers=headers).json()["messages"] == []


@pytest.mark.django_db
def test_origin_token_and_input_are_checked(widget: Any) -> None:
    base = f"/api/v1/webchat/{widget.key}"
    evil = Client(headers={"Origin": "https://evil.example"}).post(f"{base}/session/", {}, content_type="application/json")
    assert evil.status_code == 403 and evil.json()["code"] == "origin_not_allowed"
    preflight = _client().options(f"{base}/messages/")
    assert preflight.status_code == 204
    assert "x-parley-visitor-token" in preflight["Access-Control-Allow-Headers"]
    assert _client().get(f"{base}/messages/").status_code == 401
    bad_token = _client().get(f"{base}/messages/", headers={"X-Parley-Visitor-Token": "forged"})
    assert bad_token.json()["code"] == "invalid_visitor_token"
    assert _client().post("/api/v1/webchat/nope/session/", {}, content_type="application/json").status_code == 404
    token = _client().post(f"{base}/session/", {}, content_type="application/json").json()["visitor_token"]
    invalid = _client().post(
        f"{base}/messages/",
        {"client_id": "has space", "text": ""},
        content_type="application/json",
        headers={"X-Parley-Visitor-Token": token},
    )
    assert invalid.status_code == 400
    assert set(invalid.json()["errors"]) == {"client_id", "text"}
    unknown_field = _client().post(f"{base}/session/", {"admin": True}, content_type="application/json")
    assert unknown_field.status_code == 400
    other_widget = factories.make_channel(widget.tenant, type=ChannelType.WEBCHAT, config={"allowed_origins": ["*"]})
    foreign = Client().get(f"/api/v1/webchat/{other_widget.key}/messages/", headers={"X-Parley-Visitor-Token": token})
    assert foreign.status_code == 401
