"""Serves the built dashboard SPA at /app/ and the widget loader and its demo page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from parley.connectors.models import Channel, ChannelType
from parley.connectors.webchat.uploads import widget_upload_settings

DASHBOARD_INDEX = Path(settings.REPO_DIR) / "frontend" / "dist" / "index.html"
WIDGET_LOADER = Path(settings.REPO_DIR) / "widget" / "dist" / "widget.js"

NOT_BUILT = """<!doctype html><title>Parley</title><h1>The dashboard is not built</h1>
<p>Run <code>make setup</code> (or <code>cd frontend && npm ci && npm run build</code>) and reload.</p>"""


@ensure_csrf_cookie
def dashboard(request: HttpRequest, path: str = "") -> HttpResponse:
    """Every /app/ URL returns the SPA's index.html; the client-side router takes it from there."""
    if not DASHBOARD_INDEX.exists():
        return HttpResponse(NOT_BUILT, status=503)
    response = HttpResponse(DASHBOARD_INDEX.read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def widget_loader(request: HttpRequest) -> HttpResponse | FileResponse:
    """The embeddable loader: ``<script src="/widget.js" data-widget-key="...">``."""
    if not WIDGET_LOADER.exists():
        return HttpResponse("/* widget not built: run make setup */", status=503, content_type="application/javascript")
    response = FileResponse(WIDGET_LOADER.open("rb"), content_type="application/javascript")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# Keys of a web-chat channel's ``config`` that the widget may show; everything else (allowed origins,
# internal notes) stays on the server.
WIDGET_PUBLIC_SETTINGS = ("title", "subtitle", "greeting", "primary_color", "position", "avatar_url", "launcher_label")


@require_GET
def widget_settings(request: HttpRequest, key: str) -> JsonResponse:
    """Public look-and-feel of one web-chat widget (``GET /widget/<key>/settings.json``).

    Fetched by the loader before the visitor opens the chat, so the launcher can be themed without a
    websocket. Nothing here is secret; values are validated again by the widget.

    Returns:
        200 with those of ``WIDGET_PUBLIC_SETTINGS`` set in the channel's config (top level or under
        ``theme``), or 404 ``unknown_widget`` for an unknown or disabled key.
    """
    channel = Channel.objects.filter(key=key, type=ChannelType.WEBCHAT, enabled=True).only("config", "key").first()
    if channel is None:
        response = JsonResponse({"detail": "No enabled web-chat widget has this key.", "code": "unknown_widget"}, status=404)
    else:
        config = channel.config if isinstance(channel.config, dict) else {}
        raw_theme = config.get("theme")
        theme: dict[str, Any] = raw_theme if isinstance(raw_theme, dict) else {}
        public = {name: value for name in WIDGET_PUBLIC_SETTINGS if isinstance(value := theme.get(name, config.get(name)), str)}
        public.update(widget_upload_settings(channel))  # uploads_url, max_upload_bytes (web-chat uploads)
        response = JsonResponse(public)
        response["Cache-Control"] = "public, max-age=60"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def widget_demo(request: HttpRequest) -> HttpResponse:
    """A sample shop page with the widget pasted in, as a business would."""
    return render(request, "web/widget_demo.html", {"widget_key": request.GET.get("key", "demo-widget")})
