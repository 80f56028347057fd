"""Real HTTP servers on 127.0.0.1 standing in for the outside world: a small website and an
OpenAI-compatible ``/v1/embeddings`` server. Both record what they received."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class _Server:
    def __init__(self, handle: Callable[[BaseHTTPRequestHandler, str, bytes], None]) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _dispatch(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append({"method": method, "path": self.path, "headers": dict(self.headers), "body": body})
                handle(self, method, body)

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.requests: list[dict[str, Any]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeWebsite(_Server):
    """Serves ``pages`` by path; unknown paths are 404."""

    def __init__(self, pages: dict[str, Page]) -> None:
        self.pages = pages

        def handle(handler: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
            page = self.pages.get(handler.path.split("?")[0])
            if page is None:
                handler.send_response(404)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            if page.delay_s:
                time.sleep(page.delay_s)
            handler.send_response(page.status)
            handler.send_header("Content-Type", page.content_type)
            handler.send_header("Content-Length", str(len(page.body)))
            for name, value in page.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                handler.wfile.write(page.body)

        super().__init__(handle)

    def paths_requested(self) -> list[str]:
        return [r["path"] for r in self.requests]


def bag_of_words_vector(text: str, dimension: int) -> list[float]:
    """Deterministic unit vector: hashed word counts (so shared words mean similar vectors)."""
    vector = np.zeros(dimension, dtype=np.float64)
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if len(word) > 2:
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % dimension] += 1.0
    norm = np.linalg.norm(vector)
    return (vector / norm).tolist() if norm else [1.0 / np.sqrt(dimension)] * dimension


class FakeEmbeddingServer(_Server):
    """``POST /v1/embeddings`` as OpenAI documents it (``{"model", "input": [..]}`` →
    ``{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}``)."""

    def __init__(self, dimension: int = 64, api_key: str = "") -> None:
        self.dimension = dimension
        self.api_key = api_key

        def handle(handler: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
            if method != "POST" or handler.path != "/v1/embeddings":
                self._send(handler, 404, {"error": {"message": "not found"}})
                return
            if self.api_key and handler.headers.get("Authorization") != f"Bearer {self.api_key}":
                self._send(handler, 401, {"error": {"message": "invalid api key", "type": "invalid_request_error"}})
                return
            payload = json.loads(body)
            inputs = payload["input"] if isinstance(payload["input"], list) else [payload["input"]]
            data = [
                {"object": "embedding", "index": i, "embedding": bag_of_words_vector(text, self.dimension)}
                for i, text in enumerate(inputs)
            ]
            tokens = sum(len(text.split()) for text in inputs)
            self._send(
                handler,
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": payload["model"],
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
            )

        super().__init__(handle)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def inputs(self) -> list[str]:
        return [text for r in self.requests if r["path"] == "/v1/embeddings" for text in json.loads(r["body"])["input"]]
