"""Outbound HTTP to providers, with errors classified for the outbox.

429 and 5xx answers and connection failures are retryable; a timeout after the request was sent is
retryable but *ambiguous* (the provider may have accepted it); other 4xx answers are permanent.
Secrets travel in headers only and are never logged.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from parley.connectors.base import DeliveryError, MediaRejected

DEFAULT_TIMEOUT_S = 10.0


_shared: httpx.Client | None = None
_shared_lock = threading.Lock()


def _client() -> httpx.Client:
    """One pooled client per process (thread-safe; building one per call costs an SSL context)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = httpx.Client(trust_env=False, limits=httpx.Limits(max_connections=50, max_keepalive_connections=20))
    return _shared


def _timeout(timeout_s: float) -> httpx.Timeout:
    return httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))


def _describe_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        parts = [str(error.get(key)) for key in ("code", "error_subcode", "message") if error.get(key) not in (None, "")]
        return " ".join(parts)[:300]
    return str(body)[:300]


def request_json(
    method: str,
    url: str,
    *,
    json: Any = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    content: bytes | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> dict[str, Any]:
    """Call a provider and return its JSON object answer.

    Raises:
        DeliveryError: classified as described in the module docstring.
    """
    try:
        response = _client().request(
            method, url, json=json, headers=headers, params=params, content=content, timeout=_timeout(timeout_s)
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise DeliveryError(f"cannot reach the provider: {type(exc).__name__}", retryable=True) from exc
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"provider timed out: {type(exc).__name__}", retryable=True, ambiguous=True) from exc
    except httpx.TransportError as exc:
        raise DeliveryError(f"transport error: {type(exc).__name__}", retryable=True, ambiguous=True) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryError(
            f"provider answered {response.status_code}: {_describe_error(response)}",
            retryable=True,
            status_code=response.status_code,
        )
    if response.status_code >= 400:
        raise DeliveryError(
            f"provider refused ({response.status_code}): {_describe_error(response)}",
            retryable=False,
            status_code=response.status_code,
        )
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError as exc:
        raise DeliveryError("provider answered with non-JSON", retryable=False, status_code=response.status_code) from exc
    return body if isinstance(body, dict) else {"data": body}


def download(url: str, *, headers: dict[str, str] | None = None, max_bytes: int, timeout_s: float = 30.0) -> tuple[bytes, str]:
    """Fetch a file (at most ``max_bytes``); returns its content and Content-Type.

    A file announced (``Content-Length``) or streamed past ``max_bytes`` is refused at that point:
    the connection is dropped and the rest is never downloaded.

    Raises:
        MediaRejected: ``rejected`` when the file is larger than ``max_bytes`` (not retryable).
        DeliveryError: on HTTP errors.
    """
    try:
        with _client().stream("GET", url, headers=headers, timeout=_timeout(timeout_s)) as response:
            if response.status_code == 429 or response.status_code >= 500:
                raise DeliveryError(f"media download answered {response.status_code}", retryable=True)
            if response.status_code >= 400:
                raise DeliveryError(f"media download refused ({response.status_code})", retryable=False)
            announced = response.headers.get("content-length", "")
            if announced.isdigit() and int(announced) > max_bytes:
                raise MediaRejected(
                    MediaRejected.REJECTED, f"the media is {int(announced)} bytes; the limit is {max_bytes} bytes"
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise MediaRejected(
                        MediaRejected.REJECTED, f"the media is larger than the {max_bytes}-byte limit (stopped while downloading)"
                    )
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("content-type", "")
    except httpx.HTTPError as exc:
        raise DeliveryError(f"media download failed: {type(exc).__name__}", retryable=True) from exc
