"""What every webhook endpoint shares: size limit, HMAC signatures, JSON decoding, ingestion.

Channel views call these so that each one only knows its provider's shapes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from pydantic import ValidationError

from parley.connectors.base import ChannelEvent, WebhookRejected
from parley.connectors.models import Channel

log = structlog.get_logger(__name__)

DEFAULT_MAX_WEBHOOK_BYTES = 1024 * 1024


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
                body = getattr(request, "_parley_body", b"") or b""
                log.warning(
                    "webhook_rejected",
                    channel=channel_type,
                    status=exc.status_code,
                    reason=exc.reason,
                    payload_id=payload_id(body) if body else "",
                )
                return JsonResponse({"detail": exc.reason, "code": exc.code}, status=exc.status_code)

        return wrapper

    return decorate
