"""WhatsApp Cloud API webhooks: recorded fixtures posted, signed, to the real endpoint."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from parley.audit.models import AuditEvent
from parley.connectors.models import WebhookEvent, WebhookEventStatus
from parley.connectors.testing.factories import APP_SECRET, VERIFY_TOKEN, whatsapp_channel
from parley.connectors.testing.fake_graph import FakeGraphServer
from parley.connectors.testing.webhooks import load_fixture, post_and_process, post_signed, process_inbox, purge, queued_tasks
from parley.conversations import actions
from parley.conversations.models import Attachment, DeliveryStatus, Message
from parley.conversations.tasks import fetch_attachment_media
from parley.customers.models import CustomerIdentity
from parley.testing import factories

URL = "/webhooks/whatsapp/"
TEXT_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="


def _turns() -> list[str]:
    return [args[0] for name, args in queued_tasks("assistant") if name == "parley.orchestrator.run_turn"]


@pytest.fixture
def wa_channel(tenant: Any) -> Any:
    purge("assistant", "webhooks")
    return whatsapp_channel(tenant)


@pytest.mark.django_db
def test_verification_handshake_echoes_the_challenge_only_for_our_token(wa_channel: Any) -> None:
    ok = Client().get(URL, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200
    assert ok.content == b"1158201444"
    wrong = Client().get(URL, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert wrong.status_code == 403
    assert Client().get(URL).status_code == 400


@pytest.mark.django_db
def test_text_message_is_stored_and_one_turn_enqueued(wa_channel: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(URL, load_fixture("whatsapp", "messages__text"), APP_SECRET)
    assert response.status_code == 200, response.content
    assert response.json()["queued"] == 1
    event = WebhookEvent.objects.get(channel=wa_channel)
    assert event.status == WebhookEventStatus.RECEIVED
    assert json.loads(event.body) == load_fixture("whatsapp", "messages__text")  # the raw payload, for audit
    assert [args for name, args in queued_tasks("webhooks") if name == "parley.connectors.process_webhook_events"] == [
        [[str(event.id)]]
    ]
    assert not Message.objects.exists()  # stored by the worker, not in the request
    with django_capture_on_commit_callbacks(execute=True):
        assert process_inbox() == ["processed"]
    message = Message.objects.get(channel=wa_channel, external_id=TEXT_ID)
    assert message.text == "Does it come in another color?"
    assert message.sent_by_client_at is not None and message.sent_by_client_at.year == 2025
    assert message.metadata["raw"]["id"] == TEXT_ID
    identity = CustomerIdentity.objects.get(tenant=wa_channel.tenant, channel_type="whatsapp", external_id="16505551234")
    assert identity.customer.name == "Sheena Nelson"
    assert _turns() == [str(message.id)]
    event.refresh_from_db()
    assert (event.status, event.attempts, event.metadata["stored"]) == (WebhookEventStatus.PROCESSED, 1, 1)


@pytest.mark.django_db
def test_redelivered_payload_stores_one_message_and_one_turn(wa_channel: Any, django_capture_on_commit_callbacks: Any) -> None:
    payload = load_fixture("whatsapp", "messages__text")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(URL, payload, APP_SECRET).status_code == 200
        process_inbox()
    with django_capture_on_commit_callbacks(execute=True):
        again = post_signed(URL, payload, APP_SECRET)
        process_inbox()
    assert again.status_code == 200
    assert again.json()["duplicates"] == 1
    assert WebhookEvent.objects.filter(channel=wa_channel).count() == 1
    assert Message.objects.filter(channel=wa_channel).count() == 1
    assert len(_turns()) == 1


@pytest.mark.django_db
def test_the_same_message_in_a_different_envelope_is_stored_once(wa_channel: Any) -> None:
    """Inbox rows are keyed on the provider's ids; the message table's constraint is the second net."""
    payload = load_fixture("whatsapp", "messages__text")
    assert post_and_process(URL, payload, APP_SECRET).json()["queued"] == 1
    payload["entry"][0]["id"] = "another-waba-id"
    again = post_and_process(URL, payload, APP_SECRET)
    assert again.json()["duplicates"] == 1
    assert Message.objects.filter(channel=wa_channel).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_redeliveries_store_one_message_and_one_turn(tenant: Any) -> None:
    purge("assistant")
    channel = whatsapp_channel(tenant)
    body = json.dumps(load_fixture("whatsapp", "messages__text")).encode()
    statuses: list[int] = []
    barrier = threading.Barrier(5)

    def deliver() -> None:
        try:
            barrier.wait()
            statuses.append(post_signed(URL, body, APP_SECRET).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 5
    assert WebhookEvent.objects.filter(channel=channel).count() == 1
    assert len(queued_tasks("webhooks")) == 1
    assert process_inbox() == ["processed"]
    assert Message.objects.filter(channel=channel, external_id=TEXT_ID).count() == 1
    assert len(_turns()) == 1


@pytest.mark.django_db
def test_bad_signatures_are_refused_and_nothing_stored(wa_channel: Any) -> None:
    payload = load_fixture("whatsapp", "messages__text")
    assert post_signed(URL, payload, "not-the-app-secret").status_code == 403
    missing = Client().post(URL, data=json.dumps(payload), content_type="application/json")
    assert missing.status_code == 401
    assert "X-Hub-Signature-256" in missing.json()["detail"]
    assert not Message.objects.exists()
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_malformed_and_unknown_shapes_are_400_with_a_reason(wa_channel: Any) -> None:
    bad_json = post_signed(URL, b'{"object": "whatsapp_business_account", "entry": [', APP_SECRET)
    assert bad_json.status_code == 400
    assert "malformed JSON" in bad_json.json()["detail"]
    wrong_object = post_signed(URL, {"object": "page", "entry": []}, APP_SECRET)
    assert wrong_object.status_code == 400
    assert "object" in wrong_object.json()["detail"]
    payload = load_fixture("whatsapp", "messages__text")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    no_sender = post_signed(URL, payload, APP_SECRET)
    assert no_sender.status_code == 400
    assert "from" in no_sender.json()["detail"]
    assert not Message.objects.exists()
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_unknown_phone_number_id_is_acknowledged_and_audited(wa_channel: Any) -> None:
    payload = load_fixture("whatsapp", "messages__text")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999999"
    response = post_and_process(URL, payload, APP_SECRET)
    assert response.status_code == 200
    assert not Message.objects.exists()
    event = AuditEvent.objects.get(action="webhook.unknown_phone_number")
    assert event.data["phone_number_id"] == "999999999"


@pytest.mark.django_db
def test_oversized_payload_is_413(wa_channel: Any, settings: Any) -> None:
    settings.MAX_WEBHOOK_BYTES = 2048
    payload = load_fixture("whatsapp", "messages__text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "x" * 4096
    assert post_and_process(URL, payload, APP_SECRET).status_code == 413
    assert not Message.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fixture", "kind", "mime", "text"),
    [
        ("messages__image", "image", "image/jpeg", "This is the broken mug"),
        ("messages__voice", "voice", "audio/ogg; codecs=opus", ""),
        ("messages__audio", "audio", "audio/mpeg", ""),
        ("messages__document", "document", "application/pdf", "My invoice"),
    ],
)
def test_media_messages_store_an_attachment_downloaded_through_the_graph_api(
    tenant: Any, fixture: str, kind: str, mime: str, text: str
) -> None:
    payload = load_fixture("whatsapp", fixture)
    media_id = payload["entry"][0]["changes"][0]["value"]["messages"][0][
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["type"]
    ]["id"]
    with FakeGraphServer(access_token="test-access-token") as graph:
        graph.media[media_id] = (b"\x89fake-bytes-" + kind.encode(), mime)
        channel = whatsapp_channel(tenant, api_base_url=graph.url)
        assert post_and_process(URL, payload, APP_SECRET).status_code == 200
        message = Message.objects.get(channel=channel)
        assert message.content_type == kind
        assert message.text == text
        attachment = Attachment.objects.get(message=message)
        assert (attachment.kind, attachment.mime_type, attachment.provider_media_id) == (kind, mime, media_id)
        assert fetch_attachment_media.run(str(attachment.id)) == "stored"
        attachment.refresh_from_db()
        assert attachment.file.read() == b"\x89fake-bytes-" + kind.encode()
        assert attachment.size_bytes == len(b"\x89fake-bytes-" + kind.encode())
        paths = [r.path for r in graph.requests]
        assert paths == [f"/v21.0/{media_id}", f"/media-download/{media_id}"]
        assert all(r.headers["authorization"] == "Bearer test-access-token" for r in graph.requests)


@pytest.mark.django_db
def test_interactive_button_reply_keeps_the_button_id_and_context(wa_channel: Any) -> None:
    assert post_and_process(URL, load_fixture("whatsapp", "messages__interactive_button_reply"), APP_SECRET).status_code == 200
    message = Message.objects.get(channel=wa_channel)
    assert message.text == "Yes, cancel it"
    assert message.content_type == "button_reply"
    assert message.metadata["button_id"] == "confirm-yes"


@pytest.mark.django_db
def test_multiple_entries_in_one_post_are_all_stored(wa_channel: Any) -> None:
    response = post_and_process(URL, load_fixture("whatsapp", "messages__multiple_entries"), APP_SECRET)
    assert response.json()["queued"] == 1
    texts = sorted(Message.objects.filter(channel=wa_channel).values_list("text", flat=True))
    assert texts == ["first entry", "second entry"]
    assert CustomerIdentity.objects.filter(tenant=wa_channel.tenant, channel_type="whatsapp").count() == 2


@pytest.mark.django_db
def test_status_callbacks_move_the_outbound_message_forward(wa_channel: Any) -> None:
    conversation = factories.inbound(wa_channel, "hi", sender="16505551234").conversation
    outbound = actions.send_outbound(conversation=conversation, text="Hello!", sender_type="agent")
    actions.record_delivery_status(message=outbound, status=DeliveryStatus.SENT, provider_message_id="wamid.OUTBOUND0001")
    for name, expected in [("statuses__delivered", "delivered"), ("statuses__read", "read"), ("statuses__sent", "read")]:
        assert post_and_process(URL, load_fixture("whatsapp", name), APP_SECRET).status_code == 200
        outbound.refresh_from_db()
        assert outbound.delivery_status == expected
    assert outbound.read_at is not None


@pytest.mark.django_db
def test_failed_status_records_the_reason(wa_channel: Any) -> None:
    conversation = factories.inbound(wa_channel, "hi", sender="16505551234").conversation
    outbound = actions.send_outbound(conversation=conversation, text="Hello!", sender_type="agent")
    actions.record_delivery_status(message=outbound, status=DeliveryStatus.SENT, provider_message_id="wamid.OUTBOUND0001")
    assert post_and_process(URL, load_fixture("whatsapp", "statuses__failed"), APP_SECRET).status_code == 200
    outbound.refresh_from_db()
    assert outbound.delivery_status == DeliveryStatus.FAILED
    assert "131047" in outbound.delivery_error and "Re-engagement" in outbound.delivery_error


@pytest.mark.django_db
def test_an_unsupported_message_type_is_stored_not_refused(wa_channel: Any) -> None:
    payload = load_fixture("whatsapp", "messages__interactive_button_reply")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["interactive"] = {"type": "nfm_reply", "nfm_reply": {"response_json": "{}", "body": "Sent", "name": "flow"}}
    assert post_and_process(URL, payload, APP_SECRET).status_code == 200
    stored = Message.objects.get(channel=wa_channel)
    assert stored.content_type == "unsupported"
    assert stored.metadata["raw"]["interactive"]["type"] == "nfm_reply"
