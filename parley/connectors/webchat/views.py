"""REST fallback of the web-chat protocol under ``/api/v1/webchat/<widget_key>/``.

The visitor token (header ``X-Parley-Visitor-Token``) authenticates; browser origins must be in the
widget's ``allowed_origins`` and get CORS headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel, ValidationError

from parley.connectors.models import Channel
from parley.connectors.webchat import service, uploads
from parley.connectors.webchat.schemas import CLIENT_ID_PATTERN, MAX_FRAME_BYTES, MessageRequest, ReadRequest, SessionRequest
from parley.core.uploads import multipart_overhead_bytes

TOKEN_HEADER = "HTTP_X_PARLEY_VISITOR_TOKEN"


def _error(status: int, code: str, detail: str, errors: dict[str, Any] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"detail": detail, "code": code}
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=status)


def _with_cors(response: HttpResponse, origin: str | None) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = "content-type, x-parley-visitor-token"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
    return response


View = Callable[[HttpRequest, Channel], HttpResponse]


def widget_endpoint(methods: tuple[str, ...]) -> Callable[[View], Callable[..., HttpResponse]]:
    """Resolve the widget, enforce its origins, answer preflights, add CORS headers."""

    def decorate(view: View) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, widget_key: str) -> HttpResponse:
            channel = service.find_widget(widget_key)
            if channel is None:
                return _error(404, "unknown_widget", "no enabled web-chat widget has this key")
            origin = request.headers.get("Origin")
            if not service.origin_allowed(channel, origin):
                return _error(403, "origin_not_allowed", "this page's origin is not in the widget's allowed_origins")
            if request.method == "OPTIONS":
                return _with_cors(HttpResponse(status=204), origin)
            if request.method not in methods:
                return _with_cors(_error(405, "method_not_allowed", f"use {' or '.join(methods)}"), origin)
            return _with_cors(view(request, channel), origin)

        return wrapper

    return decorate


def _body(request: HttpRequest, model: type[BaseModel]) -> Any:
    if len(request.body) > MAX_FRAME_BYTES:
        return _error(413, "payload_too_large", f"bodies are limited to {MAX_FRAME_BYTES} bytes")
    try:
        data = json.loads(request.body or b"{}")
    except json.JSONDecodeError:
        return _error(400, "invalid", "malformed JSON")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for item in exc.errors():
            errors.setdefault(".".join(str(p) for p in item["loc"]) or "non_field_errors", []).append(item["msg"])
        return _error(400, "invalid", "Invalid input.", errors)


def _visitor(request: HttpRequest, channel: Channel) -> service.Visitor | None:
    return service.visitor_from_token(channel, request.META.get(TOKEN_HEADER))


def _unauthenticated() -> JsonResponse:
    return _error(401, "invalid_visitor_token", "missing or invalid X-Parley-Visitor-Token; call session/ first")


@widget_endpoint(("POST",))
def session_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    """``POST session/``: recognise or start a visitor; the welcome object without history."""
    body = _body(request, SessionRequest)
    if isinstance(body, HttpResponse):
        return body
    with transaction.atomic():
        session = service.start_session(channel, token=body.visitor_token, name=body.name, email=body.email, locale=body.locale)
    return JsonResponse(session.welcome(channel))


@widget_endpoint(("GET", "POST"))
def messages_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    """``GET messages/?after=``: the current conversation; ``POST messages/``: send a message."""
    visitor = _visitor(request, channel)
    if visitor is None:
        return _unauthenticated()
    if request.method == "GET":
        conversation = service.current_conversation(channel, visitor.visitor_id)
        return JsonResponse(
            {
                "conversation_id": str(conversation.id) if conversation else None,
                "conversation_status": conversation.status if conversation else None,
                "messages": service.history(channel, visitor.visitor_id, after_message_id=request.GET.get("after")),
            }
        )
    body = _body(request, MessageRequest)
    if isinstance(body, HttpResponse):
        return body
    posted = service.post_message(
        channel, visitor.visitor_id, client_id=body.client_id, text=body.text, button_id=body.button_id, profile=visitor.profile
    )
    message = service.visitor_message(posted.message)
    if not posted.duplicate:
        service.push_to_visitor(channel, visitor.visitor_id, {"type": "message", "message": message})
    return JsonResponse({"ack": posted.ack(body.client_id), "message": message}, status=200 if posted.duplicate else 201)


@widget_endpoint(("POST",))
def read_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    """``POST read/``: the visitor has seen outbound messages up to ``message_id``."""
    visitor = _visitor(request, channel)
    if visitor is None:
        return _unauthenticated()
    body = _body(request, ReadRequest)
    if isinstance(body, HttpResponse):
        return body
    try:
        service.mark_read(channel, visitor.visitor_id, body.message_id)
    except service.WebchatError as exc:
        return _error(400, exc.code, exc.detail)
    return HttpResponse(status=204)


@widget_endpoint(("POST",))
def upload_view(request: HttpRequest, channel: Channel) -> HttpResponse:
    """``POST uploads/``: a visitor's file (``multipart/form-data``: ``file``, ``client_id``).

    401 without a valid visitor token, 413 over the widget's size limit, 415 when the content (sniffed,
    not the declared type) is not an allowed image, audio or PDF, 400 for a bad form or ``client_id``,
    422 when the malware scanner finds something, 503 when it is configured but cannot scan.
    Bodies over the instance's limit are refused before they are read (``parley.core.uploads``).
    201 with ``{ack, message}`` (200 for a repeated ``client_id``); the message is also pushed to the
    visitor's sockets and the inbox gets its realtime events.
    """
    if not uploads.uploads_enabled(channel.config):
        return _error(403, "uploads_disabled", "this widget does not accept files")
    visitor = _visitor(request, channel)
    if visitor is None:
        return _unauthenticated()
    limit = uploads.max_upload_bytes(channel)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + multipart_overhead_bytes():
        return _error(413, "payload_too_large", f"files are limited to {limit} bytes")
    if not (request.content_type or "").startswith("multipart/form-data"):
        return _error(400, "invalid", "send multipart/form-data with a file field and a client_id")
    try:
        upload = request.FILES.get("file")
        client_id = request.POST.get("client_id", "")
    except MultiPartParserError as exc:
        return _error(400, "invalid", f"malformed multipart body: {exc}")
    errors: dict[str, list[str]] = {}
    if upload is None:
        errors["file"] = ["This field is required."]
    if not re.fullmatch(CLIENT_ID_PATTERN.strip("^$"), client_id):
        errors["client_id"] = ["1-64 characters: letters, digits, '.', '_', ':' or '-'."]
    if errors or upload is None:
        return _error(400, "invalid", "Invalid input.", errors)
    if upload.size is not None and upload.size > limit:
        return _error(413, "payload_too_large", f"files are limited to {limit} bytes")
    try:
        stored = uploads.store_upload(
            channel, visitor, client_id=client_id, content=upload.read(limit + 1), filename=upload.name or ""
        )
    except uploads.UploadRejected as exc:
        return _error(exc.status, exc.code, exc.detail)
    message = service.visitor_message(stored.message)
    if not stored.duplicate:
        service.push_to_visitor(channel, visitor.visitor_id, {"type": "message", "message": message})
    return JsonResponse({"ack": stored.ack(client_id), "message": message}, status=200 if stored.duplicate else 201)


def attachment_view(request: HttpRequest, signed: str) -> HttpResponseBase:
    """``GET attachments/<signed>/``: a web-chat message's file, for the visitor's page.

    The signed path is the credential (see ``uploads.attachment_url``). Served with the stored,
    sniffed type, ``nosniff``, embeddable cross-origin; only images and audio are shown inline.
    """
    if request.method not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", "use GET")
    attachment = uploads.attachment_from_signed(signed)
    if attachment is None or attachment.metadata.get("media_status"):
        return _error(404, "not_found", "no such attachment")
    mime_type = attachment.mime_type.split(";")[0].strip() or "application/octet-stream"
    inline = mime_type.startswith(("image/", "audio/")) and mime_type != "image/svg+xml"
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=mime_type if inline or mime_type == "application/pdf" else "application/octet-stream",
        as_attachment=not inline,
        filename=attachment.filename or "attachment",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
