"""What every webhook endpoint shares: size limit, HMAC signatures, JSON decoding, ingestion.

Channel views call these so that each one only knows its provider's shapes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import weakref
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Generic, TypeVar

import structlog
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from pydantic import ValidationError

from parley.connectors.base import ChannelEvent, WebhookRejected
from parley.connectors.models import Channel

log = structlog.get_logger(__name__)

DEFAULT_MAX_WEBHOOK_BYTES = 1024 * 1024

# Set by the webhook fast path (parley/connectors/asgi.py) for the requests it serves.
SERVING_WEBHOOKS: ContextVar[bool] = ContextVar("parley_serving_webhooks", default=False)

T = TypeVar("T")
R = TypeVar("R")


def max_webhook_bytes() -> int:
    """The largest webhook body accepted (``PARLEY_MAX_WEBHOOK_BYTES``, default 1 MiB)."""
    configured = getattr(settings, "MAX_WEBHOOK_BYTES", None) or os.environ.get("PARLEY_MAX_WEBHOOK_BYTES")
    return int(configured or DEFAULT_MAX_WEBHOOK_BYTES)


def payload_id(body: bytes) -> str:
    """A short stable id of a payload for logs (never the payload itself)."""
    return hashlib.sha256(body).hexdigest()[:16]


def read_body(request: HttpRequest) -> bytes:
    """The raw request body, refusing oversized ones before reading them (413)."""
    limit = max_webhook_bytes()
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        declared_length = int(declared)
    except ValueError:
        declared_length = 0
    if declared_length > limit:
        raise WebhookRejected(413, f"payload larger than {limit} bytes", code="payload_too_large")
    body = request.read(limit + 1)
    request._parley_body = body  # type: ignore[attr-defined]  # for the payload id in rejection logs
    if len(body) > limit:
        raise WebhookRejected(413, f"payload larger than {limit} bytes", code="payload_too_large")
    return body


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``, the X-Hub-Signature-256 format."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of a ``sha256=<hex>`` signature header."""
    if not secret or not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def decode_json(body: bytes) -> Any:
    """Decode a JSON body, or 400 with the reason."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookRejected(400, f"malformed JSON: {exc}") from exc


def parse_or_reject(parse: Callable[[Any], list[ChannelEvent]], payload: Any) -> list[ChannelEvent]:
    """Run a connector's parser, turning shape errors into 400s with the reason."""
    try:
        return parse(payload)
    except WebhookRejected:
        raise
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise WebhookRejected(400, f"unexpected payload shape at {where or 'root'}: {first.get('msg')}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise WebhookRejected(400, f"unexpected payload shape: {type(exc).__name__}: {exc}") from exc


@dataclass
class IngestResult:
    """Counts of what a webhook delivery did."""

    messages_created: int = 0
    duplicates: int = 0
    statuses: int = 0
    message_ids: list[str] = field(default_factory=list)


def ingest(channel: Channel, events: list[ChannelEvent]) -> IngestResult:
    """Store inbound messages (idempotently, enqueueing the turn on commit) and apply status updates."""
    from parley.conversations.actions import mark_read_until, receive_inbound, record_status_update

    result = IngestResult()
    for event in events:
        if event.inbound is not None:
            received = receive_inbound(channel=channel, inbound=event.inbound)
            result.message_ids.append(str(received.message.id))
            if received.created:
                result.messages_created += 1
            else:
                result.duplicates += 1
        if event.status is not None:
            record_status_update(channel=channel, update=event.status)
            result.statuses += 1
        if event.read is not None:
            mark_read_until(channel=channel, customer_external_id=event.read.reader_external_id, until=event.read.until)
            result.statuses += 1
    return result


def webhook_view(channel_type: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a webhook view: ``WebhookRejected`` becomes a JSON 4xx, logged with the payload id."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except WebhookRejected as exc:
                return _rejection(request, channel_type, exc)

        return wrapper

    return decorate


def _rejection(request: HttpRequest, channel_type: str, exc: WebhookRejected) -> JsonResponse:
    """Log a refused webhook (with the payload's id, never its content) and answer with the reason."""
    body = getattr(request, "_parley_body", b"") or b""
    log.warning(
        "webhook_rejected",
        channel=channel_type,
        status=exc.status_code,
        reason=exc.reason,
        payload_id=payload_id(body) if body else "",
    )
    return JsonResponse({"detail": exc.reason, "code": exc.code}, status=exc.status_code)


def async_webhook_view(
    channel_type: str,
) -> Callable[[Callable[..., Awaitable[HttpResponse]]], Callable[..., Awaitable[HttpResponse]]]:
    """:func:`webhook_view` for async views."""

    def decorate(view: Callable[..., Awaitable[HttpResponse]]) -> Callable[..., Awaitable[HttpResponse]]:
        @wraps(view)
        async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return await view(request, *args, **kwargs)
            except WebhookRejected as exc:
                return _rejection(request, channel_type, exc)

        return wrapper

    return decorate


def event_key(events: Iterable[ChannelEvent], body: bytes) -> str:
    """The inbox idempotency key of one route's events: sha256 of the provider's ids.

    Messages count by their id, statuses by (message id, status, time), read receipts by (reader,
    watermark); a delivery carrying none of these falls back to the body's hash.
    """
    parts: list[str] = []
    for event in events:
        if event.inbound is not None:
            parts.append(f"message:{event.inbound.external_id}")
        if event.status is not None:
            stamp = event.status.timestamp.isoformat() if event.status.timestamp else ""
            parts.append(f"status:{event.status.provider_message_id}:{event.status.status}:{stamp}")
        if event.read is not None:
            parts.append(f"read:{event.read.reader_external_id}:{event.read.until.isoformat()}")
    if not parts:
        return "body:" + hashlib.sha256(body).hexdigest()[:59]
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()


@dataclass
class Accepted:
    """What an inbox-backed webhook delivery did: rows stored (each with its enqueued task) and duplicates."""

    queued: int = 0
    duplicates: int = 0
    event_ids: list[str] = field(default_factory=list)

    def response(self) -> JsonResponse:
        return JsonResponse({"status": "ok", "queued": self.queued, "duplicates": self.duplicates, "event_ids": self.event_ids})


@dataclass
class _Queue(Generic[T, R]):
    pending: list[tuple[T, asyncio.Future[R]]] = field(default_factory=list)
    writers: int = 0
    done: asyncio.Condition = field(default_factory=asyncio.Condition)


class GroupCommit(Generic[T, R]):
    """Hands the items of concurrent requests to ``handle`` together: one trip to the ORM thread,
    one transaction commit (one fsync) per batch instead of per request.

    While ``max_writers`` batches are being written (their database round trips overlap), new items
    wait and form the next batch, so a lone request is written at once and a burst in a few round trips. The batch is written by one of the waiting
    requests (from its own context, so Django's per-request thread-sensitive executor and the test
    client's connection are used as for any ORM call). ``handle`` returns one result per item, in
    order; a result that is an exception is raised to that item's caller only.
    """

    def __init__(self, handle: Callable[[list[T]], list[R | BaseException]], max_batch: int = 200, max_writers: int = 1) -> None:
        self.handle = handle
        self.max_batch = max_batch
        self.max_writers = max_writers
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue[T, R]] = weakref.WeakKeyDictionary()
        self._executor: ThreadPoolExecutor | None = None

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future: asyncio.Future[R] = loop.create_future()
        queue.pending.append((item, future))
        while not future.done():
            if queue.writers >= self.max_writers or not queue.pending:  # full, or ours is being written
                async with queue.done:
                    await queue.done.wait()
                continue
            await self._write_batch(queue)
        return future.result()

    async def _run(self, items: list[T]) -> list[R | BaseException]:
        if not SERVING_WEBHOOKS.get():
            # Django's own handler (the test client, a plain ASGI deployment): its ORM thread, as for
            # any sync_to_async call, so the caller's connection and transaction are the ones used.
            return await sync_to_async(self.handle)(items)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.max_writers, thread_name_prefix="parley-inbox-writer")
        return await sync_to_async(self._handle_in_writer, thread_sensitive=False, executor=self._executor)(items)

    def _handle_in_writer(self, items: list[T]) -> list[R | BaseException]:
        """In a long-lived writer thread that keeps its database connection between batches (no
        request ends in it); a database error drops the connection so the next batch opens a fresh one."""
        try:
            return self.handle(items)
        except DatabaseError:
            connection.close()
            raise

    async def _write_batch(self, queue: _Queue[T, R]) -> None:
        queue.writers += 1
        batch = queue.pending[: self.max_batch]
        del queue.pending[: self.max_batch]
        try:
            try:
                results: list[R | BaseException] = await self._run([item for item, _ in batch])
            except asyncio.CancelledError:
                queue.pending[:0] = batch  # this request went away: another waiter writes its batch
                raise
            except Exception as exc:  # noqa: BLE001  # the batch's callers get the error, not a hung request
                results = [exc] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        finally:
            queue.writers -= 1
            async with queue.done:
                queue.done.notify_all()
