"""The webhook fast path: ``/webhooks/...`` served by Django without the browser middleware.

Webhooks are machine-to-machine, authenticated by their signatures: they need no session, user,
CSRF token or messages. Under ASGI every ``MiddlewareMixin`` middleware costs two hops to Django's
single thread-sensitive executor per request, which serialises concurrent webhooks. This handler
resolves the same URLs and views with only the request-context middleware (request id, latency
metrics), so an async webhook view runs on the event loop end to end.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response

from parley.connectors.webhooks import SERVING_WEBHOOKS
from parley.core.middleware import RequestContextMiddleware

WEBHOOK_PREFIX = "/webhooks/"


class WebhookASGIHandler(ASGIHandler):
    """Django's ASGI handler with the middleware chain reduced to :class:`RequestContextMiddleware`.

    It also runs requests without a per-request ``ThreadSensitiveContext``: Django's handler would
    start a fresh thread per request for its thread-sensitive work; here the little there is (the
    request signals) runs in asgiref's one long-lived thread, and the inbox writes in their own
    writer threads (``GroupCommit``), which keep their database connections.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"the webhook handler serves HTTP only, not {scope['type']}")
        await self.handle(scope, receive, send)

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        get_response = self._get_response_async if is_async else self._get_response  # type: ignore[attr-defined]  # untyped in the stubs
        inner = convert_exception_to_response(get_response)
        self._middleware_chain = convert_exception_to_response(RequestContextMiddleware(inner))


def with_webhook_fast_path(django_app: Any) -> Any:
    """An ASGI app sending HTTP requests under ``/webhooks/`` to :class:`WebhookASGIHandler`, the rest to ``django_app``."""
    webhooks = WebhookASGIHandler()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(WEBHOOK_PREFIX):
            token = SERVING_WEBHOOKS.set(True)
            try:
                await webhooks(scope, receive, send)
            finally:
                SERVING_WEBHOOKS.reset(token)
        else:
            await django_app(scope, receive, send)

    return app
