"""A fake Meta Graph API on 127.0.0.1 for tests and benchmarks: real HTTP, Meta's documented shapes.

It serves the WhatsApp Cloud API (``POST /{version}/{phone_number_id}/messages``, media lookup
``GET /{version}/{media_id}`` and the media download URL it returns) and Messenger's Send API
(``POST /{version}/me/messages``); any other POST (a generic channel's callback URL) is accepted
with ``{}``. Every request is recorded. Scripted answers make it fail the way Meta does: an HTTP
status with a Graph error body, ``"timeout"`` (answer too late, message *not* accepted) or
``"accept_then_timeout"`` (message accepted, answer too late: the ambiguous case).

With ``webhook_url`` and ``app_secret`` set, every accepted WhatsApp message is followed by a
signed ``statuses`` webhook (``sent``, echoing ``biz_opaque_callback_data``), as Meta sends one.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class FakeGraphServer:
    """Start with ``with FakeGraphServer() as graph:``; ``graph.url`` is the channel's api_base_url."""

    access_token: str = ""
    webhook_url: str = ""
    app_secret: str = ""
    answer_delay_s: float = 3.0
    requests: list[RecordedRequest] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # Serve media downloads chunked, without Content-Length (a client must count while it streams);
    # how many bytes of each download were written before the client hung up.
    media_chunked: bool = False
    media_bytes_sent: dict[str, int] = field(default_factory=dict)
    _script: deque[int | str] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *answers: int | str) -> None:
        """Queue answers for the next send requests: an HTTP status, ``timeout`` or ``accept_then_timeout``."""
        with self._lock:
            self._script.extend(answers)

    def sends(self) -> list[RecordedRequest]:
        """Recorded send requests (WhatsApp and Messenger), in arrival order."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/messages")]

    def start(self) -> FakeGraphServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-graph", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGraphServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour ---------------------------------------------------------------------------

    def _next_answer(self) -> int | str:
        with self._lock:
            return self._script.popleft() if self._script else 200

    def _accept(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        number = next(self._ids)
        with self._lock:
            self.accepted.append(payload)
        if path.endswith("/me/messages"):
            return {"recipient_id": payload.get("recipient", {}).get("id", ""), "message_id": f"m_fake{number}"}
        wamid = f"wamid.FAKE{number:08d}"
        to = str(payload.get("to", ""))
        if self.webhook_url and self.app_secret:
            phone_number_id = path.strip("/").split("/")[-2]
            threading.Thread(
                target=self._send_status,
                args=(phone_number_id, wamid, to, payload.get("biz_opaque_callback_data", "")),
                daemon=True,
            ).start()
        return {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}

    def _send_status(self, phone_number_id: str, wamid: str, to: str, callback_data: str) -> None:
        status: dict[str, Any] = {"id": wamid, "status": "sent", "timestamp": str(int(time.time())), "recipient_id": to}
        if callback_data:
            status["biz_opaque_callback_data"] = callback_data
        body = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "0",
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
                                    "statuses": [status],
                                },
                            }
                        ],
                    }
                ],
            }
        ).encode()
        signature = "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        for _attempt in range(5):  # Meta retries failed webhook deliveries
            try:
                response = httpx.post(
                    self.webhook_url,
                    content=body,
                    headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
                    timeout=10,
                )
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)


def _graph_error(status: int) -> bytes:
    messages = {429: (4, "Application request limit reached"), 401: (190, "Invalid OAuth access token")}
    code, message = messages.get(status, (2, "Service temporarily unavailable"))
    return json.dumps({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "FAKE"}}).encode()


def _handler_for(fake: FakeGraphServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _reply_chunked(self, media_id: str, content: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            sent = 0
            try:
                for start in range(0, len(content), 64 * 1024):
                    piece = content[start : start + 64 * 1024]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
                    sent += len(piece)
                    with fake._lock:
                        fake.media_bytes_sent[media_id] = sent
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                self.close_connection = True

        def _record(self) -> RecordedRequest:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorded = RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            with fake._lock:
                fake.requests.append(recorded)
            return recorded

        def _authorised(self, recorded: RecordedRequest) -> bool:
            if fake.access_token and recorded.headers.get("authorization") != f"Bearer {fake.access_token}":
                self._reply(401, _graph_error(401))
                return False
            return True

        def do_GET(self) -> None:
            recorded = self._record()
            if not self._authorised(recorded):
                return
            path = self.path.split("?")[0].strip("/")
            if path.startswith("media-download/"):
                media_id = path.split("/", 1)[1]
                if media_id not in fake.media:
                    self._reply(404, _graph_error(404))
                    return
                content, mime_type = fake.media[media_id]
                if fake.media_chunked:
                    self._reply_chunked(media_id, content, mime_type)
                else:
                    self._reply(200, content, mime_type)
                return
            media_id = path.split("/")[-1]
            if media_id in fake.media:
                content, mime_type = fake.media[media_id]
                self._reply(
                    200,
                    json.dumps(
                        {
                            "messaging_product": "whatsapp",
                            "url": f"{fake.url}/media-download/{media_id}",
                            "mime_type": mime_type,
                            "sha256": hashlib.sha256(content).hexdigest(),
                            "file_size": str(len(content)),
                            "id": media_id,
                        }
                    ).encode(),
                )
                return
            self._reply(404, _graph_error(404))

        def do_POST(self) -> None:
            recorded = self._record()
            if not recorded.path.split("?")[0].endswith("/messages"):
                self._reply(200, b"{}")  # a generic channel's callback URL
                return
            if not self._authorised(recorded):
                return
            answer = fake._next_answer()
            if answer == "timeout":
                time.sleep(fake.answer_delay_s)
                self._reply(503, _graph_error(503))
                return
            payload = recorded.json or {}
            if answer == "accept_then_timeout":
                body = json.dumps(fake._accept(recorded.path, payload)).encode()
                time.sleep(fake.answer_delay_s)
                self._reply(200, body)
                return
            if isinstance(answer, int) and answer != 200:
                self._reply(answer, _graph_error(answer))
                return
            self._reply(200, json.dumps(fake._accept(recorded.path, payload)).encode())

    return Handler
