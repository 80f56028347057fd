"""Uploads: size limits enforced before a body is read, and malware scanning through ClamAV's clamd.

Every app that takes files uses this one module (web-chat visitor files, knowledge documents,
dataset imports, channel media downloads), so it lives in ``core``, the package every app may
import; a module under ``connectors`` would make the knowledge and intelligence apps depend on the
channels.

Size limits (see docs/uploads.md)
    ``settings.UPLOAD_ROUTE_LIMITS`` lists ``(path regex, largest file in bytes)``; each limit comes
    from its own environment variable. :class:`UploadLimitMiddleware` wraps the ASGI HTTP app, in
    front of Django, which would otherwise spool the whole body to disk before any view runs:

    - a ``Content-Length`` above the route's limit (plus ``UPLOAD_MULTIPART_OVERHEAD_BYTES`` for the
      multipart framing) is answered 413 with the reason at once; the body is never read;
    - a body without a length (chunked) or longer than announced is counted while Django reads it;
      once past the limit the client gets the 413, Django sees the client gone and drops the request,
      and the rest of the body is never read.

    Views still check the file's own size: a widget may set a lower limit than the instance's.

Malware scanning
    With ``PARLEY_CLAMD_ADDRESS`` set (``host:port`` or a unix socket path), :func:`scan` streams
    content to clamd with its INSTREAM command: ``zINSTREAM\\0``, then chunks each prefixed with its
    length as a 4-byte big-endian integer, then a zero length; clamd answers ``stream: OK`` or
    ``stream: <signature> FOUND``. Unset: nothing is scanned (``ScanVerdict.status == "not_configured"``).
    When clamd cannot be reached or answers an error, ``PARLEY_CLAMD_FAIL_OPEN`` decides: false (the
    default) refuses the file, true lets it through unscanned (logged).

Adopting it for a new upload route: add the route to ``UPLOAD_ROUTE_LIMITS`` in settings, then call
:func:`check_upload_clean` on the received file before storing it (it raises :class:`UploadRejected`,
a :class:`DomainError` the API's exception handler renders as ``{"detail", "code"}``).
"""

from __future__ import annotations

import json
import re
import socket
import struct
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any

import structlog
from django.conf import settings

from parley.core.errors import DomainError, ErrorCode

log = structlog.get_logger(__name__)

DEFAULT_MULTIPART_OVERHEAD_BYTES = 64 * 1024
SCAN_CHUNK_BYTES = 64 * 1024

# ---------------------------------------------------------------------------------------------
# Errors


class UploadRejected(DomainError):
    """An upload refused with an HTTP ``status`` (400, 413, 415, 422, 503), a ``code`` and the reason."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail, code, status)

    @property
    def status(self) -> int:
        return self.status_code

    @property
    def detail(self) -> str:
        return self.message


MALWARE_DETECTED = "malware_detected"
SCANNER_UNAVAILABLE = "scanner_unavailable"


# ---------------------------------------------------------------------------------------------
# Size limits per route, before the body is read


def multipart_overhead_bytes() -> int:
    """What a request body may carry beyond its file (multipart boundaries, headers, form fields)."""
    return int(getattr(settings, "UPLOAD_MULTIPART_OVERHEAD_BYTES", DEFAULT_MULTIPART_OVERHEAD_BYTES))


@lru_cache(maxsize=16)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def file_limit_for_path(path: str) -> int | None:
    """The largest file (bytes) the route serving ``path`` accepts, or None for routes without a limit here."""
    for pattern, limit in getattr(settings, "UPLOAD_ROUTE_LIMITS", ()):
        if _compile(pattern).search(path):
            return int(limit)
    return None


def body_limit_for_path(path: str) -> int | None:
    """The largest request body for ``path``: its file limit plus the multipart overhead; None when unlimited here."""
    limit = file_limit_for_path(path)
    return None if limit is None else limit + multipart_overhead_bytes()


def _header(headers: Iterable[tuple[bytes, bytes]], wanted: bytes) -> bytes | None:
    for name, value in headers:
        if name.lower() == wanted:
            return value
    return None


def _declared_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    value = _header(headers, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _too_large_body(file_limit: int, declared: int | None) -> bytes:
    detail = f"files on this route are limited to {file_limit} bytes"
    if declared is not None:
        detail = f"the request is {declared} bytes; {detail}"
    return json.dumps({"detail": detail, "code": ErrorCode.PAYLOAD_TOO_LARGE.value, "limit_bytes": file_limit}).encode()


async def _send_too_large(
    send: Callable[[dict[str, Any]], Awaitable[None]], file_limit: int, declared: int | None, origin: bytes | None
) -> None:
    body = _too_large_body(file_limit, declared)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The unread rest of the body must not be parsed as the next request.
        (b"connection", b"close"),
    ]
    if origin:
        # The web-chat widget runs on the business's site: let it read the reason (no credentials are allowed).
        headers += [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class UploadLimitMiddleware:
    """ASGI middleware answering 413 for bodies over their route's limit, before or while they are read.

    Args:
        app: the ASGI HTTP application to protect (Django's handler).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        file_limit = file_limit_for_path(path)
        if file_limit is None:
            await self.app(scope, receive, send)
            return
        body_limit = file_limit + multipart_overhead_bytes()
        headers = scope.get("headers") or ()
        origin = _header(headers, b"origin")
        declared = _declared_length(headers)
        if declared is not None and declared > body_limit:
            log.info("upload_refused_before_body", path=path, declared=declared, limit=body_limit)
            await _send_too_large(send, file_limit, declared, origin)
            return

        received = 0
        refused = False
        response_started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message: dict[str, Any] = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > body_limit:
                    refused = True
                    log.info("upload_refused_while_streaming", path=path, received=received, limit=body_limit)
                    if not response_started:
                        await _send_too_large(send, file_limit, None, origin)
                    # The application sees the client gone: Django stops reading and answers nothing.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal response_started
            if refused:
                return
            if message.get("type") == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


# ---------------------------------------------------------------------------------------------
# Malware scanning with clamd


class ScannerUnavailable(Exception):
    """clamd could not be reached, or answered an error instead of a verdict."""


@dataclass(frozen=True)
class ScanVerdict:
    """The outcome of one scan.

    ``status``: ``clean``; ``infected`` (``signature`` names what clamd found); ``unscanned`` (clamd
    failed and the instance fails open; ``error`` says why); ``not_configured`` (no clamd set).
    """

    status: str
    signature: str = ""
    error: str = ""

    @property
    def infected(self) -> bool:
        return self.status == "infected"


def clamd_address() -> str:
    """``PARLEY_CLAMD_ADDRESS``: ``host:port``, ``unix:/path`` or ``/path/clamd.sock``; ``""`` when scanning is off."""
    return str(getattr(settings, "CLAMD_ADDRESS", "") or "").strip()


def scanning_enabled() -> bool:
    return bool(clamd_address())


def _connect(address: str, timeout_s: float) -> socket.socket:
    path = address[len("unix:") :] if address.startswith("unix:") else address
    if path.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        return sock
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ScannerUnavailable(f"PARLEY_CLAMD_ADDRESS must be host:port or a unix socket path, not {address!r}")
    return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s)


def _pieces(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        for start in range(0, len(chunk), SCAN_CHUNK_BYTES):
            yield chunk[start : start + SCAN_CHUNK_BYTES]


def _read_reply(sock: socket.socket) -> str:
    reply = b""
    while not reply.endswith(b"\0") and len(reply) < 4096:
        data = sock.recv(4096)
        if not data:
            break
        reply += data
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()


def parse_reply(reply: str) -> ScanVerdict:
    """Read clamd's INSTREAM answer.

    Raises:
        ScannerUnavailable: for an error answer (e.g. ``INSTREAM size limit exceeded. ERROR``) or none.
    """
    if reply.endswith("FOUND"):
        name = reply.removeprefix("stream:").strip().removesuffix("FOUND").strip()
        return ScanVerdict("infected", signature=name or "unknown")
    if reply.endswith("OK") and reply.startswith("stream:"):
        return ScanVerdict("clean")
    raise ScannerUnavailable(f"clamd answered {reply[:200]!r}" if reply else "clamd closed the connection without a verdict")


def scan_chunks(chunks: Iterable[bytes]) -> ScanVerdict:
    """Stream content to clamd (INSTREAM) and return its verdict; never reads the whole file into memory.

    Raises:
        ScannerUnavailable: clamd is unreachable, times out or answers an error (the caller's policy decides).
    """
    address = clamd_address()
    timeout_s = float(getattr(settings, "CLAMD_TIMEOUT_S", 30.0))
    try:
        sock = _connect(address, timeout_s)
    except OSError as exc:
        raise ScannerUnavailable(f"cannot reach clamd at {address}: {exc}") from exc
    with sock:
        try:
            sock.sendall(b"zINSTREAM\0")
            for piece in _pieces(chunks):
                sock.sendall(struct.pack(">I", len(piece)) + piece)
            sock.sendall(struct.pack(">I", 0))
        except OSError as exc:
            # clamd closes the stream when it exceeds its StreamMaxLength; its answer says so.
            try:
                reply = _read_reply(sock)
            except OSError:
                reply = ""
            if not reply:
                raise ScannerUnavailable(f"clamd at {address} broke off the scan: {exc}") from exc
            return parse_reply(reply)
        try:
            reply = _read_reply(sock)
        except OSError as exc:
            raise ScannerUnavailable(f"no verdict from clamd at {address}: {exc}") from exc
    return parse_reply(reply)


def ping_clamd() -> str:
    """Ask clamd for ``PONG`` (``zPING``), for ``parley doctor``.

    Raises:
        ScannerUnavailable: scanning is off, clamd cannot be reached or answers something else.
    """
    address = clamd_address()
    if not address:
        raise ScannerUnavailable("PARLEY_CLAMD_ADDRESS is not set")
    try:
        with _connect(address, float(getattr(settings, "CLAMD_TIMEOUT_S", 30.0))) as sock:
            sock.sendall(b"zPING\0")
            reply = _read_reply(sock)
    except OSError as exc:
        raise ScannerUnavailable(f"cannot reach clamd at {address}: {exc}") from exc
    if reply != "PONG":
        raise ScannerUnavailable(f"clamd at {address} answered {reply[:100]!r} to PING")
    return f"clamd at {address} answers"


def _chunks_of(source: bytes | IO[bytes] | Any) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        yield bytes(source)
        return
    if hasattr(source, "chunks"):  # a Django File / UploadedFile
        if hasattr(source, "seek"):
            source.seek(0)
        yield from source.chunks(SCAN_CHUNK_BYTES)
        if hasattr(source, "seek"):
            source.seek(0)
        return
    source.seek(0)
    while chunk := source.read(SCAN_CHUNK_BYTES):
        yield chunk
    source.seek(0)


def fail_open() -> bool:
    """``PARLEY_CLAMD_FAIL_OPEN``: accept files unscanned when clamd fails (default: refuse them)."""
    return bool(getattr(settings, "CLAMD_FAIL_OPEN", False))


def scan(source: bytes | IO[bytes] | Any) -> ScanVerdict:
    """Scan bytes, a binary file or a Django ``File`` (rewound after) when scanning is configured.

    Returns:
        ``not_configured`` without ``PARLEY_CLAMD_ADDRESS``; ``clean`` or ``infected``; ``unscanned``
        when clamd failed and the instance fails open.

    Raises:
        ScannerUnavailable: clamd failed and the instance fails closed (the default).
    """
    if not scanning_enabled():
        return ScanVerdict("not_configured")
    try:
        verdict = scan_chunks(_chunks_of(source))
    except ScannerUnavailable as exc:
        if fail_open():
            log.warning("malware_scan_skipped", reason=str(exc))
            return ScanVerdict("unscanned", error=str(exc))
        log.warning("malware_scan_failed", reason=str(exc))
        raise
    if verdict.infected:
        log.warning("malware_found", signature=verdict.signature)
    return verdict


def check_upload_clean(source: bytes | IO[bytes] | Any) -> ScanVerdict:
    """Scan a directly uploaded file before it is stored.

    Raises:
        UploadRejected: 422 ``malware_detected`` when clamd finds something; 503 ``scanner_unavailable``
            when clamd fails and the instance fails closed (the client may try again later).
    """
    try:
        verdict = scan(source)
    except ScannerUnavailable as exc:
        raise UploadRejected(
            503, SCANNER_UNAVAILABLE, f"the file could not be scanned for malware ({exc}); try again later"
        ) from exc
    if verdict.infected:
        raise UploadRejected(422, MALWARE_DETECTED, f"the file was refused: malware found ({verdict.signature})")
    return verdict
