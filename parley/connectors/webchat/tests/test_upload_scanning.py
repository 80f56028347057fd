"""Visitor uploads scanned by clamd (a fake clamd on 127.0.0.1): infected files refused with 422 and
nothing stored, clamd down refused with 503 (or accepted unscanned when the instance fails open)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from parley.connectors.webchat.tests.test_uploads import _png, _token, _upload
from parley.connectors.webchat.tests.test_uploads import widget as widget
from parley.conversations.models import Attachment, Message
from parley.testing.fake_clamd import EICAR, EICAR_SIGNATURE, FakeClamd


@pytest.fixture
def clamd(settings: Any) -> Iterator[FakeClamd]:
    with FakeClamd() as fake:
        settings.CLAMD_ADDRESS = fake.address
        settings.CLAMD_FAIL_OPEN = False
        yield fake


def _closed_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.django_db
def test_a_clean_image_is_scanned_then_stored(widget: Any, clamd: FakeClamd) -> None:
    image = _png()
    response = _upload(widget, _token(widget), image, "photo.png")
    assert response.status_code == 201
    assert [scan.content for scan in clamd.scans] == [image]
    assert Attachment.objects.get(message__channel=widget).file.read() == image


@pytest.mark.django_db
def test_an_infected_file_is_refused_with_the_reason_and_nothing_is_stored(widget: Any, clamd: FakeClamd) -> None:
    infected = _png() + EICAR  # still sniffed as a PNG: only the scanner can tell
    response = _upload(widget, _token(widget), infected, "photo.png")
    assert response.status_code == 422
    assert response.json()["code"] == "malware_detected"
    assert EICAR_SIGNATURE in response.json()["detail"]
    assert clamd.scans[0].content == infected
    assert not Message.objects.filter(channel=widget).exists()
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_clamd_down_refuses_uploads_unless_the_instance_fails_open(widget: Any, settings: Any) -> None:
    settings.CLAMD_ADDRESS = _closed_address()
    settings.CLAMD_FAIL_OPEN = False
    token = _token(widget)
    refused = _upload(widget, token, _png(), "photo.png")
    assert refused.status_code == 503
    assert refused.json()["code"] == "scanner_unavailable" and "cannot reach clamd" in refused.json()["detail"]
    assert not Message.objects.filter(channel=widget).exists()
    settings.CLAMD_FAIL_OPEN = True
    accepted = _upload(widget, token, _png(), "photo.png")
    assert accepted.status_code == 201
    assert Attachment.objects.filter(message__channel=widget).count() == 1
