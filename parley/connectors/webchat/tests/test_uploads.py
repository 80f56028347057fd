"""Visitor uploads (``POST /api/v1/webchat/<key>/uploads/``): images and voice notes stored as a
message with its attachment (once per client_id), pushed to the visitor and the inbox; bad uploads
refused with a 4xx and the reason."""

from __future__ import annotations

import asyncio
import struct
import zlib
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from parley.connectors.models import ChannelType
from parley.connectors.webchat.service import visitor_group
from parley.connectors.webchat.uploads import sniff_mime_type
from parley.conversations.models import Attachment, Message
from parley.realtime.events import inbox_group
from parley.testing import factories

ORIGIN = "https://shop.example"


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# What MediaRecorder produces, cut to the headers the sniffer reads (plus some payload).
WEBM_OPUS = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm"
    b"\x42\x87\x81\x04\x42\x85\x81\x02\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff\x16\x54\xae\x6b"
    b"\xae\xd7\x81\x01\x73\xc5\x81\x01\x83\x81\x02\x86\x86A_OPUS\x63\xa2\x93OpusHead\x01\x01\x38\x01" + b"\x00" * 400
)
OGG_OPUS = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00" + b"\x00" * 300


@pytest.fixture
def widget(tenant: Any) -> Any:
    return factories.make_channel(tenant, type=ChannelType.WEBCHAT, config={"allowed_origins": [ORIGIN]})


def _token(widget: Any) -> str:
    session = Client(headers={"Origin": ORIGIN}).post(
        f"/api/v1/webchat/{widget.key}/session/", {"name": "Ana"}, content_type="application/json"
    )
    return str(session.json()["visitor_token"])


def _upload(
    widget: Any,
    token: str | None,
    content: bytes,
    name: str,
    declared: str = "application/octet-stream",
    client_id: str = "u-1",
    origin: str = ORIGIN,
) -> Any:
    headers = {"Origin": origin}
    if token is not None:
        headers["X-Parley-Visitor-Token"] = token
    return Client(headers=headers).post(
        f"/api/v1/webchat/{widget.key}/uploads/",
        {"file": SimpleUploadedFile(name, content, content_type=declared), "client_id": client_id},
    )


class _Listener:
    """A channel-layer channel subscribed to groups, to see what was published."""

    def __init__(self, *groups: str) -> None:
        self.layer = get_channel_layer()
        self.name = async_to_sync(self.layer.new_channel)()
        for group in groups:
            async_to_sync(self.layer.group_add)(group, self.name)

    def drain(self) -> list[dict[str, Any]]:
        """Everything published so far (until nothing arrives for half a second)."""

        async def collect() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            while True:
                try:
                    found.append(await asyncio.wait_for(self.layer.receive(self.name), timeout=0.5))
                except TimeoutError:
                    return found

        return async_to_sync(collect)()


@pytest.mark.django_db
def test_settings_advertise_the_upload_endpoint(widget: Any) -> None:
    settings = Client().get(f"/widget/{widget.key}/settings.json").json()
    assert settings["uploads_url"] == f"/api/v1/webchat/{widget.key}/uploads/"
    assert settings["max_upload_bytes"] == 10 * 1024 * 1024


@pytest.mark.django_db
def test_an_image_is_stored_with_its_attachment_once_and_reaches_the_visitor_and_the_inbox(
    widget: Any, django_capture_on_commit_callbacks: Any
) -> None:
    token = _token(widget)
    png = _png()
    visitor_id = (
        Client(headers={"Origin": ORIGIN})
        .post(f"/api/v1/webchat/{widget.key}/session/", {"visitor_token": token}, content_type="application/json")
        .json()["visitor_id"]
    )
    listener = _Listener(inbox_group(widget.tenant_id), visitor_group(widget.id, visitor_id))
    with django_capture_on_commit_callbacks(execute=True):
        # The declared type lies (text/plain): the content decides.
        response = _upload(widget, token, png, "../../etc/photo.txt", declared="text/plain")
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    body = response.json()
    assert body["ack"] == {
        "client_id": "u-1",
        "message_id": body["message"]["id"],
        "conversation_id": body["message"]["conversation_id"],
        "duplicate": False,
    }
    message = Message.objects.get(channel=widget)
    assert (message.direction, message.content_type, message.text) == ("inbound", "image", "")
    attachment = Attachment.objects.get(message=message)
    assert (attachment.kind, attachment.mime_type, attachment.filename) == ("image", "image/png", "photo.png")
    assert attachment.size_bytes == len(png)
    assert attachment.file.read() == png
    [shown] = body["message"]["attachments"]
    assert (shown["kind"], shown["mime_type"], shown["filename"]) == ("image", "image/png", "photo.png")
    assert shown["url"].startswith(f"{settings.PUBLIC_URL}/api/v1/webchat/attachments/")
    served = Client().get(shown["url"].removeprefix(settings.PUBLIC_URL))  # from the shop's page: no token, no origin
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == png
    assert (served["Content-Type"], served["X-Content-Type-Options"]) == ("image/png", "nosniff")
    assert served["Cross-Origin-Resource-Policy"] == "cross-origin"
    tampered = shown["url"].removeprefix(settings.PUBLIC_URL).replace(str(attachment.id)[:8], "00000000")
    assert Client().get(tampered).status_code == 404
    assert body["message"]["client_id"] == "u-1"
    published = listener.drain()
    frames = [item["frame"] for item in published if item["type"] == "webchat.frame"]
    assert frames == [{"type": "message", "message": body["message"]}]
    events = [item["event"] for item in published if item["type"] == "parley.event"]
    created = [event for event in events if event["type"] == "message.created"]
    assert [event["message"]["id"] for event in created] == [str(message.id)]
    # The inbox also learns when the file is in place (the attachment with its URL).
    updated = [event for event in events if event["type"] == "message.updated" and event["message"]["id"] == str(message.id)]
    assert updated and updated[-1]["message"]["attachments"][0]["mime_type"] == "image/png"

    with django_capture_on_commit_callbacks(execute=True):
        again = _upload(widget, token, png, "photo.png")
    assert again.status_code == 200
    assert again.json()["ack"]["duplicate"] is True
    assert again.json()["message"]["id"] == str(message.id)
    assert Message.objects.filter(channel=widget).count() == 1
    assert Attachment.objects.filter(message__channel=widget).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "name", "mime"),
    [(WEBM_OPUS, "voice-message.webm", "audio/webm"), (OGG_OPUS, "voice-message.ogg", "audio/ogg")],
)
def test_voice_notes_recorded_by_the_widget_are_stored_as_voice(widget: Any, content: bytes, name: str, mime: str) -> None:
    response = _upload(widget, _token(widget), content, name, declared=mime + ";codecs=opus")
    assert response.status_code == 201, response.content
    message = Message.objects.get(channel=widget)
    assert message.content_type == "voice"
    attachment = Attachment.objects.get(message=message)
    assert (attachment.kind, attachment.mime_type, attachment.filename) == ("voice", mime, name)
    assert attachment.file.read() == content


@pytest.mark.django_db
def test_bad_uploads_are_refused_with_the_reason_and_store_nothing(widget: Any) -> None:
    token = _token(widget)
    html = b"<html><script>alert(1)</script></html>"
    wrong_type = _upload(widget, token, html, "cat.png", declared="image/png")
    assert wrong_type.status_code == 415
    assert wrong_type.json()["code"] == "unsupported_media_type"
    assert "unrecognised content" in wrong_type.json()["detail"]
    svg = _upload(widget, token, b'<svg xmlns="http://www.w3.org/2000/svg"/>', "x.svg", declared="image/svg+xml")
    assert svg.status_code == 415
    bad_token = _upload(widget, "forged", _png(), "a.png")
    assert bad_token.status_code == 401 and bad_token.json()["code"] == "invalid_visitor_token"
    no_token = _upload(widget, None, _png(), "a.png")
    assert no_token.status_code == 401
    wrong_origin = _upload(widget, token, _png(), "a.png", origin="https://evil.example")
    assert wrong_origin.status_code == 403 and wrong_origin.json()["code"] == "origin_not_allowed"
    bad_client_id = _upload(widget, token, _png(), "a.png", client_id="has space")
    assert bad_client_id.status_code == 400 and "client_id" in bad_client_id.json()["errors"]
    empty = _upload(widget, token, b"", "a.png")
    assert empty.status_code == 400
    missing = Client(headers={"Origin": ORIGIN, "X-Parley-Visitor-Token": token}).post(
        f"/api/v1/webchat/{widget.key}/uploads/", {"client_id": "u-2"}
    )
    assert missing.status_code == 400 and "file" in missing.json()["errors"]
    as_json = Client(headers={"Origin": ORIGIN, "X-Parley-Visitor-Token": token}).post(
        f"/api/v1/webchat/{widget.key}/uploads/", {"client_id": "u-3"}, content_type="application/json"
    )
    assert as_json.status_code == 400 and "multipart" in as_json.json()["detail"]
    assert Client(headers={"Origin": ORIGIN}).get(f"/api/v1/webchat/{widget.key}/uploads/").status_code == 405
    preflight = Client(headers={"Origin": ORIGIN}).options(f"/api/v1/webchat/{widget.key}/uploads/")
    assert preflight.status_code == 204 and "x-parley-visitor-token" in preflight["Access-Control-Allow-Headers"]
    assert not Message.objects.filter(channel=widget).exists()


@pytest.mark.django_db
def test_the_size_limit_and_allowed_types_are_per_widget(tenant: Any) -> None:
    small = factories.make_channel(
        tenant,
        type=ChannelType.WEBCHAT,
        config={"allowed_origins": ["*"], "max_upload_bytes": 2048, "upload_types": ["image/png"]},
    )
    token = _token(small)
    too_big = _upload(small, token, _png() + b"\x00" * 4096, "big.png")
    assert too_big.status_code == 413
    assert "2048" in too_big.json()["detail"]
    audio = _upload(small, token, OGG_OPUS, "voice-message.ogg")
    assert audio.status_code == 415 and "image/png" in audio.json()["detail"]
    assert _upload(small, token, _png(), "ok.png").status_code == 201
    off = factories.make_channel(tenant, type=ChannelType.WEBCHAT, config={"allowed_origins": ["*"], "uploads_enabled": False})
    assert _upload(off, _token(off), _png(), "a.png").status_code == 403
    assert "uploads_url" not in Client().get(f"/widget/{off.key}/settings.json").json()


def test_sniffing_reads_content_not_names() -> None:
    assert sniff_mime_type(_png()) == "image/png"
    assert sniff_mime_type(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sniff_mime_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_mime_type(WEBM_OPUS) == "audio/webm"
    assert sniff_mime_type(WEBM_OPUS.replace(b"A_OPUS", b"V_VP8\x00")) is None  # a video is not a voice note
    assert sniff_mime_type(OGG_OPUS) == "audio/ogg"
    assert sniff_mime_type(b"\x00\x00\x00\x1cftypM4A \x00\x00\x02\x00") == "audio/mp4"
    assert sniff_mime_type(b"ID3\x04\x00\x00") == "audio/mpeg"
    assert sniff_mime_type(b"%PDF-1.7\n") == "application/pdf"
    assert sniff_mime_type(b"MZ\x90\x00") is None
    assert sniff_mime_type(b"<?xml version='1.0'?><svg/>") is None
