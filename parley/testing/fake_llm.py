"""A fake OpenAI-compatible LLM server for tests and benchmarks: real HTTP on 127.0.0.1.

It speaks the chat-completions protocol (``POST /v1/chat/completions``, JSON or SSE streaming with
``stream: true``, native ``tool_calls``; ``GET /v1/models``) and records every request. Replies are
scripted: queue :class:`FakeReply` objects with :meth:`FakeLLMServer.enqueue` (consumed in order), or
set :attr:`FakeLLMServer.responder` to compute one from the request; with neither, it answers
``default_text``. Failure modes: HTTP errors (429 with ``Retry-After``, 500, ...), a delay, a hang
longer than the client's timeout, garbage bodies, a stream cut off half-way.

    with FakeLLMServer() as llm:
        llm.enqueue(FakeReply.tool_call("get_order_status", {"order_number": "1001"}), FakeReply.text("Shipped!"))
        ... BackendConfig(base_url=llm.url, model="fake-model") ...
        assert llm.requests[0].body["tools"]
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeReply:
    """What the fake server answers to one request."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error_body: dict[str, Any] | None = None
    retry_after: float | None = None
    delay_s: float = 0.0
    garbage: bytes | None = None
    cut_stream_after: int | None = None
    finish_reason: str | None = None

    @classmethod
    def text(cls, content: str, *, delay_s: float = 0.0) -> FakeReply:
        return cls(content=content, delay_s=delay_s)

    @classmethod
    def tool_call(
        cls, name: str, arguments: dict[str, Any] | str, *, call_id: str | None = None, content: str | None = None
    ) -> FakeReply:
        """One tool call; pass a string to send arguments verbatim (e.g. broken JSON)."""
        return cls(
            content=content, tool_calls=[{"id": call_id or f"call_{uuid.uuid4().hex[:10]}", "name": name, "arguments": arguments}]
        )

    @classmethod
    def tool_calls_of(cls, *calls: tuple[str, dict[str, Any] | str]) -> FakeReply:
        return cls(tool_calls=[{"id": f"call_{uuid.uuid4().hex[:10]}", "name": name, "arguments": args} for name, args in calls])

    @classmethod
    def error(cls, status: int, message: str = "error", *, retry_after: float | None = None) -> FakeReply:
        return cls(
            status=status,
            error_body={"error": {"message": message, "type": "server_error", "code": status}},
            retry_after=retry_after,
        )

    @classmethod
    def hang(cls, seconds: float) -> FakeReply:
        """Answer only after ``seconds`` (use more than the client's timeout to simulate a timeout)."""
        return cls(content="too late", delay_s=seconds)

    @classmethod
    def junk(cls, body: bytes = b"<html>502 Bad Gateway from a proxy</html>") -> FakeReply:
        """A 200 with a body that is not a chat completion."""
        return cls(garbage=body)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float


def _arguments_text(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _count_tokens(body: dict[str, Any]) -> int:
    words = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            words += len(content.split())
    return max(words, 1)


class FakeLLMServer:
    """The server; start with ``with FakeLLMServer() as llm`` or :meth:`start` / :meth:`stop`."""

    def __init__(self, *, model: str = "fake-model", default_text: str = "Hello from the fake model.") -> None:
        self.model = model
        self.default_text = default_text
        self.requests: list[RecordedRequest] = []
        self.responder: Callable[[dict[str, Any]], FakeReply] | None = None
        self._queue: deque[FakeReply] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeLLMServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Buffer the response so headers and body leave in one segment (no delayed-ACK stalls);
            # handle_one_request flushes after each request and the SSE path flushes per event.
            wbufsize = 1 << 16

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                server._record(self, {})
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": server.model, "object": "model", "owned_by": "fake"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                server._record(self, body)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                reply = server._next_reply(body)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    if reply.status != 200:
                        headers = {"Retry-After": str(reply.retry_after)} if reply.retry_after is not None else {}
                        self._json(reply.status, reply.error_body or {"error": {"message": "error"}}, headers)
                    elif reply.garbage is not None:
                        self._send(200, reply.garbage, "application/json")
                    elif body.get("stream"):
                        self._stream(body, reply)
                    else:
                        self._json(200, server._completion(body, reply))
                except (BrokenPipeError, ConnectionResetError):
                    return

            def _send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def _json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                self._send(status, json.dumps(data).encode(), "application/json", headers)

            def _stream(self, body: dict[str, Any], reply: FakeReply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for index, event in enumerate(server._stream_events(body, reply)):
                    if reply.cut_stream_after is not None and index >= reply.cut_stream_after:
                        self.wfile.write(b'data: {"choices": [{"index": 0, "delta": {"content": "')
                        self.wfile.flush()
                        return
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL for an OpenAI client (ends in ``/v1``)."""
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def enqueue(self, *replies: FakeReply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.responder = None

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    # -- internals ---------------------------------------------------------------------------
    def _record(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    method=handler.command,
                    path=handler.path,
                    headers={k.lower(): v for k, v in handler.headers.items()},
                    body=body,
                    received_at=time.time(),
                )
            )

    def _next_reply(self, body: dict[str, Any]) -> FakeReply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            return self.responder(body)
        return FakeReply.text(self.default_text)

    def _usage(self, body: dict[str, Any], reply: FakeReply) -> dict[str, int]:
        completion = len((reply.content or "").split()) + sum(
            len(_arguments_text(c["arguments"])) // 4 + 1 for c in reply.tool_calls
        )
        prompt = _count_tokens(body)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _completion(self, body: dict[str, Any], reply: FakeReply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": _arguments_text(call["arguments"])},
                }
                for call in reply.tool_calls
            ]
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop"),
                }
            ],
            "usage": self._usage(body, reply),
        }

    def _stream_events(self, body: dict[str, Any], reply: FakeReply) -> Iterator[dict[str, Any]]:
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        yield chunk({"role": "assistant", "content": ""})
        if reply.content:
            words = reply.content.split(" ")
            for index, word in enumerate(words):
                yield chunk({"content": word + (" " if index < len(words) - 1 else "")})
        for position, call in enumerate(reply.tool_calls):
            arguments = _arguments_text(call["arguments"])
            half = len(arguments) // 2
            yield chunk(
                {
                    "tool_calls": [
                        {
                            "index": position,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["name"], "arguments": arguments[:half]},
                        }
                    ]
                }
            )
            yield chunk({"tool_calls": [{"index": position, "function": {"arguments": arguments[half:]}}]})
        yield chunk({}, reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            yield {**base, "choices": [], "usage": self._usage(body, reply)}


def fake_llm_fixture() -> Iterator[FakeLLMServer]:
    """Body of a pytest fixture: ``fake_llm = pytest.fixture(fake_llm_fixture)`` in a conftest."""
    with FakeLLMServer() as server:
        yield server
