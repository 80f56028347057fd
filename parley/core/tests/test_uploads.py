"""Upload limits before the body is read (ASGI, and a live uvicorn server) and the clamd client
(against a fake clamd speaking the INSTREAM protocol)."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from django.core.files.uploadedfile import SimpleUploadedFile

from parley.core import uploads
from parley.testing import factories
from parley.testing.fake_clamd import EICAR, EICAR_SIGNATURE, FakeClamd

UPLOAD_PATH = "/api/v1/webchat/some-widget-key/uploads/"


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


class _Client:
    """An ASGI client side: hands out body chunks on ``receive`` and records what is sent back."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.receive_calls = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        self.receive_calls += 1
        if not self.chunks:
            await asyncio.sleep(3600)  # a client that sends nothing more
        chunk = self.chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(next(m["status"] for m in self.sent if m["type"] == "http.response.start"))

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


def _run(app: Any, scope: dict[str, Any], client: _Client) -> None:
    asyncio.run(asyncio.wait_for(app(scope, client.receive, client.send), timeout=20))


def test_a_declared_length_over_the_route_limit_is_413_before_the_body_is_read() -> None:
    from parley.config.asgi import application

    client = _Client([b"x" * 1024] * 10)
    declared = 50 * 1024 * 1024
    headers = [(b"content-length", str(declared).encode()), (b"origin", b"https://shop.example")]
    _run(application, _scope(UPLOAD_PATH, headers), client)
    assert client.status == 413
    assert client.receive_calls == 0
    body = json.loads(client.body)
    assert body["code"] == "payload_too_large"
    assert str(declared) in body["detail"] and str(10 * 1024 * 1024) in body["detail"]
    start = next(m for m in client.sent if m["type"] == "http.response.start")
    assert (b"connection", b"close") in start["headers"]
    # The widget, on the business's site, can read why.
    assert (b"access-control-allow-origin", b"https://shop.example") in start["headers"]


def test_the_default_limits_cover_every_upload_route() -> None:
    from django.conf import settings
    from django.urls import reverse

    assert uploads.file_limit_for_path(reverse("v1:webchat-uploads", kwargs={"widget_key": "k"})) == settings.MAX_UPLOAD_BYTES
    assert uploads.file_limit_for_path(reverse("v1:knowledge-document-upload")) == 20 * 1024 * 1024
    assert uploads.file_limit_for_path(reverse("v1:dataset-import-list")) == settings.MAX_DATASET_UPLOAD_BYTES
    assert uploads.file_limit_for_path(reverse("v1:webchat-session", kwargs={"widget_key": "k"})) is None


def test_limits_are_per_route_and_read_from_settings(settings: Any) -> None:
    settings.UPLOAD_ROUTE_LIMITS = [
        (r"^/api/v1/knowledge/documents/upload/?$", 5000),
        (r"^/api/v1/webchat/[^/]+/uploads/?$", 100),
    ]
    settings.UPLOAD_MULTIPART_OVERHEAD_BYTES = 1000
    assert uploads.file_limit_for_path("/api/v1/knowledge/documents/upload/") == 5000
    assert uploads.body_limit_for_path(UPLOAD_PATH) == 1100
    assert uploads.file_limit_for_path("/api/v1/conversations/") is None


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(settings: Any) -> None:
    from parley.config.asgi import application

    settings.UPLOAD_ROUTE_LIMITS = [(r"^/api/v1/webchat/[^/]+/uploads/?$", 1000)]
    settings.UPLOAD_MULTIPART_OVERHEAD_BYTES = 0
    client = _Client([b"y" * 400] * 100)  # 40 000 bytes announced by nobody
    _run(application, _scope(UPLOAD_PATH, [(b"transfer-encoding", b"chunked")]), client)
    assert client.status == 413
    assert client.receive_calls == 3  # 1200 bytes read, then refused: the other 97 chunks never read
    assert [m["type"] for m in client.sent] == ["http.response.start", "http.response.body"]
    assert json.loads(client.body)["code"] == "payload_too_large"


def test_bodies_within_the_limit_and_other_routes_pass_through_untouched(settings: Any) -> None:
    settings.UPLOAD_ROUTE_LIMITS = [(r"^/api/v1/webchat/[^/]+/uploads/?$", 1000)]
    settings.UPLOAD_MULTIPART_OVERHEAD_BYTES = 0
    seen: list[bytes] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append(body)
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"stored"})

    app = uploads.UploadLimitMiddleware(inner)
    within = _Client([b"a" * 500, b"b" * 500])
    _run(app, _scope(UPLOAD_PATH, [(b"content-length", b"1000")]), within)
    elsewhere = _Client([b"c" * 5000])
    _run(app, _scope("/api/v1/conversations/", [(b"content-length", b"5000")]), elsewhere)
    assert (within.status, elsewhere.status) == (201, 201)
    assert seen == [b"a" * 500 + b"b" * 500, b"c" * 5000]


@pytest.fixture
def live_server_url() -> Iterator[tuple[str, int]]:
    """The real ASGI application served by uvicorn (as ``parley up`` serves it) on 127.0.0.1."""
    from parley.config.asgi import application

    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=10)


def _read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a refusal says ``connection: close``)."""
    sock.settimeout(10)
    data = b""
    while True:
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            break
        if not piece:
            break
        data += piece
    return data


def test_a_live_server_answers_413_without_waiting_for_the_body(live_server_url: tuple[str, int]) -> None:
    host, port = live_server_url
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            f"POST {UPLOAD_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {1024**3}\r\n\r\n".encode()
        )
        # Not one byte of the announced gigabyte is sent: the answer comes anyway.
        response = _read_response(sock)
    assert response.startswith(b"HTTP/1.1 413")
    assert b"connection: close" in response.lower()
    assert json.loads(response.split(b"\r\n\r\n", 1)[1])["code"] == "payload_too_large"


def test_a_live_server_stops_a_chunked_upload_once_past_the_limit(live_server_url: tuple[str, int], settings: Any) -> None:
    settings.UPLOAD_ROUTE_LIMITS = [(r"^/api/v1/webchat/[^/]+/uploads/?$", 256 * 1024)]
    host, port = live_server_url
    chunk = b"z" * 16384
    sent = 0
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            f"POST {UPLOAD_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        while sent < 64 * 1024 * 1024:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except OSError:
                break
            sent += len(chunk)
        response = _read_response(sock)
    assert response.startswith(b"HTTP/1.1 413")
    assert b"payload_too_large" in response
    # The server answered once past the limit, long before the 64 MiB the client would have sent.
    assert sent < 16 * 1024 * 1024


# -- clamd ------------------------------------------------------------------------------------


@pytest.fixture
def clamd(settings: Any) -> Iterator[FakeClamd]:
    with FakeClamd() as fake:
        settings.CLAMD_ADDRESS = fake.address
        settings.CLAMD_FAIL_OPEN = False
        yield fake


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_content_is_streamed_with_the_instream_framing(clamd: FakeClamd) -> None:
    content = bytes(range(256)) * 600  # 153 600 bytes
    verdict = uploads.scan(content)
    assert verdict.status == "clean" and not verdict.infected
    [record] = clamd.scans
    assert record.command == b"zINSTREAM\0"
    assert record.chunk_lengths == [65536, 65536, 153600 - 2 * 65536, 0]
    assert record.content == content
    assert record.reply == "stream: OK"


def test_the_eicar_test_file_is_reported_with_its_signature(clamd: FakeClamd) -> None:
    verdict = uploads.scan(b"%PDF-1.4 hello " + EICAR)
    assert verdict.infected and verdict.signature == EICAR_SIGNATURE
    with pytest.raises(uploads.UploadRejected) as refused:
        uploads.check_upload_clean(BytesIO(EICAR))
    assert (refused.value.status, refused.value.code) == (422, "malware_detected")
    assert EICAR_SIGNATURE in refused.value.detail


def test_files_are_scanned_in_chunks_and_rewound(clamd: FakeClamd) -> None:
    upload = SimpleUploadedFile("doc.txt", b"hello " * 30000, "text/plain")
    upload.read(100)
    assert uploads.check_upload_clean(upload).status == "clean"
    assert clamd.scans[0].content == b"hello " * 30000
    assert upload.read(6) == b"hello "


def test_a_unix_socket_address_is_used_as_a_path(settings: Any) -> None:
    with tempfile.TemporaryDirectory() as folder, FakeClamd(unix_path=str(Path(folder) / "clamd.sock")) as fake:
        settings.CLAMD_ADDRESS = fake.address
        assert uploads.scan(EICAR).infected
        settings.CLAMD_ADDRESS = f"unix:{fake.address}"
        assert uploads.scan(b"fine").status == "clean"
        assert len(fake.scans) == 2


def test_without_an_address_nothing_is_scanned(settings: Any) -> None:
    settings.CLAMD_ADDRESS = ""
    assert uploads.scan(EICAR).status == "not_configured"
    assert uploads.check_upload_clean(EICAR).status == "not_configured"


def test_clamd_down_fails_closed_by_default_and_open_when_configured(settings: Any) -> None:
    settings.CLAMD_ADDRESS = f"127.0.0.1:{_closed_port()}"
    settings.CLAMD_FAIL_OPEN = False
    with pytest.raises(uploads.ScannerUnavailable):
        uploads.scan(b"anything")
    with pytest.raises(uploads.UploadRejected) as refused:
        uploads.check_upload_clean(b"anything")
    assert (refused.value.status, refused.value.code) == (503, "scanner_unavailable")
    assert "cannot reach clamd" in refused.value.detail
    settings.CLAMD_FAIL_OPEN = True
    verdict = uploads.check_upload_clean(b"anything")
    assert verdict.status == "unscanned" and "cannot reach clamd" in verdict.error


def test_a_stream_over_clamds_own_limit_is_an_error_not_a_clean_verdict(clamd: FakeClamd) -> None:
    clamd.max_stream_bytes = 100_000
    with pytest.raises(uploads.ScannerUnavailable, match="size limit exceeded"):
        uploads.scan(b"q" * 300_000)


def test_a_bad_address_is_a_clear_error(settings: Any) -> None:
    settings.CLAMD_ADDRESS = "clamd-without-port"
    with pytest.raises(uploads.ScannerUnavailable, match="host:port or a unix socket path"):
        uploads.scan(b"x")


@pytest.mark.django_db
def test_knowledge_uploads_with_malware_are_refused_and_not_stored(tenant: Any, clamd: FakeClamd) -> None:
    from parley.knowledge.models import KnowledgeDocument
    from parley.knowledge.tests.helpers import make_source

    api = factories.api_client(tenant, "admin")
    source = make_source(tenant)
    infected = api.post(
        "/api/v1/knowledge/documents/upload/",
        {"source": str(source.pk), "file": SimpleUploadedFile("faq.txt", b"Returns: 30 days. " + EICAR, "text/plain")},
        format="multipart",
    )
    assert infected.status_code == 422
    assert infected.json()["code"] == "malware_detected" and EICAR_SIGNATURE in infected.json()["detail"]
    assert not KnowledgeDocument.objects.filter(source=source).exists()
    clean = api.post(
        "/api/v1/knowledge/documents/upload/",
        {"source": str(source.pk), "file": SimpleUploadedFile("faq.txt", b"Returns: 30 days.", "text/plain")},
        format="multipart",
    )
    assert clean.status_code == 201
    assert [scan.content for scan in clamd.scans] == [b"Returns: 30 days. " + EICAR, b"Returns: 30 days."]


def test_doctor_checks_clamd_when_scanning_is_configured() -> None:
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[3]

    def doctor(address: str) -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-m", "parley.cli.main", "doctor", "--json", "--skip-worker"],
            capture_output=True,
            text=True,
            env=dict(os.environ, PARLEY_CLAMD_ADDRESS=address),
            cwd=repo,
            timeout=180,
        )
        report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        return report

    with FakeClamd() as fake:
        address = fake.address
        up = doctor(address)
    assert up["checks"]["clamd"] == {"ok": True, "detail": f"clamd at {address} answers"}
    down = doctor(f"127.0.0.1:{_closed_port()}")
    assert down["checks"]["clamd"]["ok"] is False and "cannot reach clamd" in down["checks"]["clamd"]["detail"]
    assert down["healthy"] is False
