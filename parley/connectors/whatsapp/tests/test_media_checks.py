"""Inbound media checks: downloads stop at PARLEY_MAX_MEDIA_BYTES (announced or while streaming) and
malware is quarantined; the message is kept, the attachment says why, and its file is never served."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from parley.connectors.base import DeliveryError
from parley.connectors.testing.factories import APP_SECRET, whatsapp_channel
from parley.connectors.testing.fake_graph import FakeGraphServer
from parley.connectors.testing.webhooks import load_fixture, post_and_process
from parley.conversations.models import Attachment, Message
from parley.conversations.tasks import fetch_attachment_media
from parley.testing import factories
from parley.testing.fake_clamd import EICAR, EICAR_SIGNATURE, FakeClamd

URL = "/webhooks/whatsapp/"


def _media_id(payload: dict[str, Any]) -> str:
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    return str(message[message["type"]]["id"])


@pytest.fixture
def graph() -> Iterator[FakeGraphServer]:
    with FakeGraphServer(access_token="test-access-token") as fake:
        yield fake


@pytest.fixture
def clamd(settings: Any) -> Iterator[FakeClamd]:
    with FakeClamd() as fake:
        settings.CLAMD_ADDRESS = fake.address
        settings.CLAMD_FAIL_OPEN = False
        yield fake


def _receive_document(tenant: Any, graph: FakeGraphServer, content: bytes) -> Attachment:
    payload = load_fixture("whatsapp", "messages__document")
    graph.media[_media_id(payload)] = (content, "application/pdf")
    channel = whatsapp_channel(tenant, api_base_url=graph.url)
    assert post_and_process(URL, payload, APP_SECRET).status_code == 200
    return Attachment.objects.get(message__channel=channel)


def _download_paths(graph: FakeGraphServer) -> list[str]:
    return [r.path for r in graph.requests if r.path.startswith("/media-download/")]


@pytest.mark.django_db
def test_media_announced_over_the_limit_is_rejected_and_the_message_kept(
    tenant: Any, graph: FakeGraphServer, settings: Any
) -> None:
    settings.MAX_MEDIA_BYTES = 1000
    attachment = _receive_document(tenant, graph, b"%PDF-1.4 " + b"0" * 5000)
    assert fetch_attachment_media.run(str(attachment.id)) == "rejected"
    attachment.refresh_from_db()
    assert not attachment.file
    assert attachment.metadata["media_status"] == "rejected"
    assert "5009 bytes; the limit is 1000 bytes" in attachment.metadata["media_error"]
    assert Message.objects.get(pk=attachment.message_id).text == "My invoice"
    # A retry of the task neither downloads again nor changes the verdict.
    assert fetch_attachment_media.run(str(attachment.id)) == "rejected"
    assert len(_download_paths(graph)) == 1
    served = factories.api_client(tenant, "agent").get(f"/api/v1/attachments/{attachment.id}/file/")
    assert served.status_code == 410
    assert served.json()["code"] == "rejected" and "limit is 1000 bytes" in served.json()["detail"]


@pytest.mark.django_db
def test_a_chunked_download_stops_once_past_the_limit(tenant: Any, graph: FakeGraphServer, settings: Any) -> None:
    settings.MAX_MEDIA_BYTES = 100 * 1024
    graph.media_chunked = True
    total = 48 * 1024 * 1024
    attachment = _receive_document(tenant, graph, b"%PDF-1.4 " + b"0" * (total - 9))
    assert fetch_attachment_media.run(str(attachment.id)) == "rejected"
    attachment.refresh_from_db()
    assert "stopped while downloading" in attachment.metadata["media_error"]
    assert not attachment.file
    # The client hung up: the provider wrote no more than what the socket buffers held, not the file.
    sent = graph.media_bytes_sent[attachment.provider_media_id]
    assert sent < total // 2


@pytest.mark.django_db
def test_infected_media_is_quarantined_and_never_served(tenant: Any, graph: FakeGraphServer, clamd: FakeClamd) -> None:
    content = b"%PDF-1.4 invoice " + EICAR
    attachment = _receive_document(tenant, graph, content)
    assert fetch_attachment_media.run(str(attachment.id)) == "quarantined"
    attachment.refresh_from_db()
    assert not attachment.file
    assert attachment.metadata["media_status"] == "quarantined"
    assert EICAR_SIGNATURE in attachment.metadata["media_error"]
    assert [scan.content for scan in clamd.scans] == [content]
    assert Message.objects.filter(pk=attachment.message_id).exists()
    api = factories.api_client(tenant, "agent")
    served = api.get(f"/api/v1/attachments/{attachment.id}/file/")
    assert served.status_code == 410 and served.json()["code"] == "quarantined"
    shown = api.get(f"/api/v1/attachments/{attachment.id}/").json()
    assert (shown["file_url"], shown["media_status"]) == ("", "quarantined")
    assert EICAR_SIGNATURE in shown["media_error"]


@pytest.mark.django_db
def test_clean_media_is_scanned_then_stored(tenant: Any, graph: FakeGraphServer, clamd: FakeClamd) -> None:
    attachment = _receive_document(tenant, graph, b"%PDF-1.4 invoice")
    assert fetch_attachment_media.run(str(attachment.id)) == "stored"
    attachment.refresh_from_db()
    assert attachment.file.read() == b"%PDF-1.4 invoice"
    assert "media_status" not in attachment.metadata
    assert clamd.scans[0].content == b"%PDF-1.4 invoice"
    served = factories.api_client(tenant, "agent").get(f"/api/v1/attachments/{attachment.id}/file/")
    assert served.status_code == 200 and b"".join(served.streaming_content) == b"%PDF-1.4 invoice"


@pytest.mark.django_db
def test_clamd_down_leaves_the_media_unstored_for_a_retry(tenant: Any, graph: FakeGraphServer, settings: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.CLAMD_ADDRESS = f"127.0.0.1:{sock.getsockname()[1]}"
    settings.CLAMD_FAIL_OPEN = False
    attachment = _receive_document(tenant, graph, b"%PDF-1.4 invoice")
    with pytest.raises(DeliveryError) as failed:
        fetch_attachment_media.run(str(attachment.id))
    assert failed.value.retryable and "cannot reach clamd" in failed.value.reason
    attachment.refresh_from_db()
    assert not attachment.file and "media_status" not in attachment.metadata
    # Once clamd is back, the retry stores it.
    with FakeClamd() as clamd:
        settings.CLAMD_ADDRESS = clamd.address
        assert fetch_attachment_media.run(str(attachment.id)) == "stored"
