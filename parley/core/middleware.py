"""Request middleware: request id, structured access log context and Prometheus latency."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from parley.core import metrics


class RequestContextMiddleware:
    """Binds ``request_id`` to the log context and records request latency by route.

    Sync and async capable: on an async handler it runs on the event loop, no thread hop.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        request_id, started = self._start(request)
        return self._finish(request, self.get_response(request), request_id, started)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        request_id, started = self._start(request)
        return self._finish(request, await self.get_response(request), request_id, started)

    def _start(self, request: HttpRequest) -> tuple[str, float]:
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, path=request.path)
        return request_id, time.perf_counter()

    def _finish(self, request: HttpRequest, response: HttpResponse, request_id: str, started: float) -> HttpResponse:
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "unmatched"
        metrics.REQUEST_LATENCY.labels(request.method or "GET", route, str(response.status_code)).observe(elapsed)
        response["X-Request-ID"] = request_id
        return response
