"""Every API route is tenant-scoped, authenticated and role-checked; bad input is a 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from parley.accounts.actions import revoke_api_key
from parley.accounts.models import ApiKey, Membership
from parley.analytics.tests.tenant_objects import analytics_objects
from parley.assistants.models import Assistant
from parley.audit.models import AuditEvent
from parley.commerce.tests.tenant_objects import commerce_area_objects
from parley.config.urls import router
from parley.connectors.models import Channel
from parley.conversations.models import Attachment, Conversation, Ticket
from parley.core.models import DeadLetter
from parley.customers.models import Customer
from parley.intelligence.tests.tenant_objects import intelligence_objects
from parley.knowledge.tests.tenant_objects import knowledge_objects
from parley.llm.tests.tenant_objects import llm_area_objects
from parley.orchestrator.tests.tenant_objects import assistant_area_objects
from parley.testing import factories
from parley.tools.tests.tenant_objects import tools_area_objects


def _other_tenant_objects(other: Any) -> dict[type, Any]:
    """One object of each routed model in the other tenant."""
    channel = factories.make_channel(other)
    message = factories.inbound(channel, "secret order details", sender="globex-customer")
    conversation = message.conversation
    user = factories.make_user(other, "agent")
    return {
        Customer: conversation.customer,
        Channel: channel,
        Conversation: conversation,
        Ticket: Ticket.objects.create(tenant=other, customer=conversation.customer, subject="Globex ticket"),
        Attachment: Attachment.objects.create(tenant=other, message=message, kind="image", mime_type="image/png"),
        Membership: Membership.objects.get(tenant=other, user=user),
        ApiKey: factories.api_client(other, "admin") and ApiKey.objects.filter(tenant=other).first(),
        DeadLetter: DeadLetter.objects.create(tenant=other, task_name="x", error="boom", created_at=timezone.now()),
        Assistant: Assistant.objects.create(tenant=other, name="Globex bot"),
        **commerce_area_objects(other, conversation),
        **llm_area_objects(other),
        AuditEvent: AuditEvent.objects.create(tenant=other, actor="admin@globex.test", action="globex.secret"),
        **tools_area_objects(other, conversation),
        **analytics_objects(other, conversation),
        **assistant_area_objects(other, conversation, message, user),
        **intelligence_objects(other),
        **knowledge_objects(other),
    }


@pytest.mark.django_db
def test_no_route_leaks_another_tenants_objects(tenant: Any, other_tenant: Any) -> None:
    objects = _other_tenant_objects(other_tenant)
    client = factories.api_client(tenant, "owner")
    assert router.registry, "no API routes registered"
    for prefix, viewset, _basename in router.registry:
        model = viewset.queryset.model
        assert model in objects, f"add a {model.__name__} to _other_tenant_objects so /{prefix}/ is covered"
        foreign = objects[model]
        listing = client.get(f"/api/v1/{prefix}/")
        assert listing.status_code == 200, (prefix, listing.status_code, listing.content[:300])
        assert str(foreign.pk) not in listing.content.decode(), f"/{prefix}/ lists another tenant's row"
        detail = client.get(f"/api/v1/{prefix}/{foreign.pk}/")
        assert detail.status_code == 404, (prefix, detail.status_code)
        for method in ("patch", "delete"):
            response = getattr(client, method)(f"/api/v1/{prefix}/{foreign.pk}/", {}, format="json")
            assert response.status_code in (404, 405), (prefix, method, response.status_code)
    conversation = objects[Conversation]
    assert client.get(f"/api/v1/conversations/{conversation.pk}/messages/").status_code == 404
    reply = client.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "hi"}, format="json")
    assert reply.status_code == 404
    assert not conversation.messages.filter(text="hi").exists()


@pytest.mark.django_db
def test_other_tenants_ids_are_rejected_in_request_bodies(tenant: Any, other_tenant: Any) -> None:
    foreign_customer = _other_tenant_objects(other_tenant)[Customer]
    response = factories.api_client(tenant).post(
        "/api/v1/tickets/", {"customer": str(foreign_customer.pk), "subject": "steal"}, format="json"
    )
    assert response.status_code == 400
    assert "customer" in response.json()["errors"]


@pytest.mark.django_db
def test_missing_or_invalid_key_is_401(tenant: Any) -> None:
    anonymous = APIClient()
    assert anonymous.get("/api/v1/conversations/").status_code == 401
    assert anonymous.get("/api/v1/conversations/").json()["code"] == "not_authenticated"
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer pk_deadbeef_notarealkeynotarealkeynotarealkey")
    assert bad.get("/api/v1/conversations/").status_code == 401
    malformed = APIClient()
    malformed.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert malformed.get("/api/v1/customers/").status_code == 401


@pytest.mark.django_db
def test_revoked_key_stops_working(tenant: Any) -> None:
    client = factories.api_client(tenant, "admin")
    assert client.get("/api/v1/customers/").status_code == 200
    for key in ApiKey.objects.filter(tenant=tenant):
        revoke_api_key(api_key=key, actor="test")  # (a change made behind its back: accounts/tests/test_api_key_cache.py)
    assert client.get("/api/v1/customers/").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "method", "path", "expected"),
    [
        ("analyst", "post", "/api/v1/tickets/", 403),
        ("analyst", "get", "/api/v1/conversations/", 200),
        ("agent", "get", "/api/v1/api-keys/", 403),
        ("agent", "post", "/api/v1/channels/", 403),
        ("supervisor", "post", "/api/v1/api-keys/", 403),
        ("agent", "get", "/api/v1/dead-letters/", 403),
        ("admin", "get", "/api/v1/api-keys/", 200),
    ],
)
def test_roles_are_enforced(tenant: Any, role: str, method: str, path: str, expected: int) -> None:
    client = factories.api_client(tenant, role)
    response = getattr(client, method)(path, {}, format="json")
    assert response.status_code == expected, response.content[:300]


@pytest.mark.django_db
def test_admin_cannot_mint_an_owner_key(tenant: Any) -> None:
    response = factories.api_client(tenant, "admin").post("/api/v1/api-keys/", {"name": "x", "role": "owner"}, format="json")
    assert response.status_code == 403


@pytest.mark.django_db
def test_malformed_json_is_400_with_a_reason(api: Any) -> None:
    response = api.generic("POST", "/api/v1/tickets/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


@pytest.mark.django_db
def test_wrong_types_and_unknown_fields_are_400_with_field_errors(api: Any, channel: Any) -> None:
    conversation = factories.make_conversation(channel)
    response = api.post(
        "/api/v1/tickets/",
        {"customer": "not-a-uuid", "subject": ["a", "list"], "priority": "sky-high", "colour": "red"},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "colour" in errors
    response = api.post("/api/v1/tickets/", {"customer": "not-a-uuid", "subject": ["x"], "priority": "sky-high"}, format="json")
    assert set(response.json()["errors"]) >= {"customer", "subject", "priority"}
    response = api.patch(f"/api/v1/conversations/{conversation.pk}/", {"status": "exploded", "sneaky": 1}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"status", "sneaky"}
    response = api.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": ""}, format="json")
    assert response.status_code == 400
    assert "text" in response.json()["errors"]
    response = api.post("/api/v1/channels/", {"type": "carrier-pigeon", "name": "x"}, format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_unknown_ids_in_urls_are_404_not_500(api: Any) -> None:
    assert api.get("/api/v1/conversations/not-a-uuid/").status_code == 404
    assert api.get("/api/v1/customers/00000000-0000-0000-0000-000000000000/").status_code == 404
