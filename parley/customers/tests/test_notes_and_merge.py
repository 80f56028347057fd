"""Customer 360 over the API: notes on a customer, and merging a duplicate into the kept customer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from parley.audit.models import AuditEvent
from parley.commerce.models import Order
from parley.conversations.models import Ticket
from parley.customers.models import Customer, CustomerIdentity, CustomerNote
from parley.testing import factories


@pytest.mark.django_db
def test_notes_are_written_and_listed_newest_first(api: Any, channel: Any) -> None:
    customer = factories.make_conversation(channel, sender="ada").customer
    first = api.post(f"/api/v1/customers/{customer.pk}/notes/", {"text": "  Prefers e-mail.  "}, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["text"] == "Prefers e-mail."
    assert first.json()["author_name"]
    api.post(f"/api/v1/customers/{customer.pk}/notes/", {"text": "VIP since 2024"}, format="json")

    listing = api.get(f"/api/v1/customers/{customer.pk}/notes/")
    assert listing.status_code == 200
    assert [n["text"] for n in listing.json()["results"]] == ["VIP since 2024", "Prefers e-mail."]
    assert CustomerNote.objects.filter(customer=customer).count() == 2


@pytest.mark.django_db
def test_bad_notes_are_400_with_the_field(api: Any, channel: Any) -> None:
    customer = factories.make_conversation(channel).customer
    for body in ({"text": "   "}, {}, {"text": "ok", "pinned": True}):
        response = api.post(f"/api/v1/customers/{customer.pk}/notes/", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["errors"]
    assert not CustomerNote.objects.exists()


@pytest.mark.django_db
def test_merge_moves_everything_to_the_kept_customer(tenant: Any, api: Any, channel: Any) -> None:
    kept = factories.make_conversation(channel, sender="web-visitor-1").customer
    whatsapp = factories.make_channel(tenant, type="whatsapp")
    duplicate_conversation = factories.make_conversation(whatsapp, sender="+4915100000")
    duplicate = duplicate_conversation.customer
    Customer.objects.filter(pk=duplicate.pk).update(email="ada@example.com", phone="+4915100000")
    Customer.objects.filter(pk=kept.pk).update(name="Ada")
    ticket = Ticket.objects.create(tenant=tenant, customer=duplicate, subject="Broken kettle")
    order = Order.objects.create(tenant=tenant, customer=duplicate, number="A-1", total=Decimal("9.99"), placed_at=timezone.now())
    note = CustomerNote.objects.create(tenant=tenant, customer=duplicate, text="called twice")

    response = api.post(f"/api/v1/customers/{kept.pk}/merge/", {"duplicate": str(duplicate.pk)}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["customer"]["id"] == str(kept.pk)
    assert body["customer"]["name"] == "Ada"  # the kept customer's own value wins
    assert body["customer"]["email"] == "ada@example.com"  # empty fields are filled from the duplicate
    assert {i["external_id"] for i in body["customer"]["identities"]} == {"web-visitor-1", "+4915100000"}
    assert body["moved"]["conversations.conversation"] == 1
    assert body["moved"]["customers.customeridentity"] == 1
    for row in (duplicate_conversation, ticket, order, note):
        row.refresh_from_db()
        assert row.customer_id == kept.pk, type(row).__name__
    assert CustomerIdentity.objects.get(external_id="+4915100000").customer_id == kept.pk
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == kept.pk
    event = AuditEvent.objects.get(action="customer.merged")
    assert event.target_id == str(kept.pk)
    assert event.data["duplicate"] == str(duplicate.pk)
    assert event.tenant_id == tenant.pk

    listed = [c["id"] for c in api.get("/api/v1/customers/").json()["results"]]
    assert str(kept.pk) in listed and str(duplicate.pk) not in listed
    again = api.post(f"/api/v1/customers/{kept.pk}/merge/", {"duplicate": str(duplicate.pk)}, format="json")
    assert again.status_code == 409
    assert "already merged" in again.json()["detail"]


@pytest.mark.django_db
def test_merge_refuses_itself_bad_ids_and_agents(tenant: Any, api: Any, channel: Any) -> None:
    kept = factories.make_conversation(channel).customer
    itself = api.post(f"/api/v1/customers/{kept.pk}/merge/", {"duplicate": str(kept.pk)}, format="json")
    assert itself.status_code == 400
    assert "itself" in itself.json()["detail"]
    assert api.post(f"/api/v1/customers/{kept.pk}/merge/", {"duplicate": "nope"}, format="json").status_code == 400
    assert api.post(f"/api/v1/customers/{kept.pk}/merge/", {}, format="json").status_code == 400
    other = factories.make_conversation(channel).customer
    agent = factories.api_client(tenant, "agent")
    assert agent.post(f"/api/v1/customers/{kept.pk}/merge/", {"duplicate": str(other.pk)}, format="json").status_code == 403
    assert agent.post(f"/api/v1/customers/{kept.pk}/notes/", {"text": "agents may write notes"}, format="json").status_code == 201
    other.refresh_from_db()
    assert other.merged_into_id is None


@pytest.mark.django_db
def test_another_tenants_customers_cannot_be_merged_or_annotated(tenant: Any, other_tenant: Any, api: Any, channel: Any) -> None:
    mine = factories.make_conversation(channel).customer
    theirs_conversation = factories.make_conversation(factories.make_channel(other_tenant), text="globex secret")
    theirs = theirs_conversation.customer
    CustomerNote.objects.create(tenant=other_tenant, customer=theirs, text="globex private note")

    pulled = api.post(f"/api/v1/customers/{mine.pk}/merge/", {"duplicate": str(theirs.pk)}, format="json")
    assert pulled.status_code == 404
    pushed = api.post(f"/api/v1/customers/{theirs.pk}/merge/", {"duplicate": str(mine.pk)}, format="json")
    assert pushed.status_code == 404
    assert api.get(f"/api/v1/customers/{theirs.pk}/notes/").status_code == 404
    assert api.post(f"/api/v1/customers/{theirs.pk}/notes/", {"text": "x"}, format="json").status_code == 404
    theirs_conversation.refresh_from_db()
    assert theirs_conversation.customer_id == theirs.pk
    assert CustomerNote.objects.filter(customer=theirs).count() == 1
    mine.refresh_from_db()
    assert mine.merged_into_id is None


@pytest.mark.django_db
def test_demo_seed_adds_one_note_once(tenant: Any, channel: Any) -> None:
    from parley.customers import demo

    customer = factories.make_conversation(channel).customer
    Customer.objects.filter(pk=customer.pk).update(name="Maria Lopez")
    demo.seed(tenant)
    demo.seed(tenant)
    assert list(CustomerNote.objects.filter(customer=customer).values_list("text", flat=True)) == [demo.DEMO_NOTE]


@pytest.mark.django_db(transaction=True)
def test_open_inboxes_learn_the_moved_conversations_new_customer() -> None:
    import asyncio

    from channels.testing import WebsocketCommunicator

    from parley.accounts import actions as account_actions
    from parley.config.asgi import application
    from parley.customers import actions

    tenant = factories.make_tenant()
    channel = factories.make_channel(tenant)
    kept = factories.make_conversation(channel, sender="kept-visitor").customer
    moved = factories.make_conversation(channel, sender="duplicate-visitor")
    key = account_actions.create_api_key(tenant=tenant, name="ws", role="agent").secret

    async def scenario() -> list[dict[str, Any]]:
        socket = WebsocketCommunicator(application, "/ws/inbox/", headers=[(b"authorization", f"Bearer {key}".encode())])
        await socket.connect()
        await socket.receive_json_from(timeout=5)
        from asgiref.sync import sync_to_async

        await sync_to_async(actions.merge_customers)(kept=kept, duplicate=moved.customer, actor="test")
        events = []
        while not await socket.receive_nothing(timeout=0.7):
            events.append(await socket.receive_json_from(timeout=5))
        await socket.disconnect()
        return events

    events = asyncio.run(scenario())
    updated = [e for e in events if e["type"] == "conversation.updated"]
    assert [e["conversation"]["id"] for e in updated] == [str(moved.pk)]
    assert updated[0]["conversation"]["customer"]["id"] == str(kept.pk)
