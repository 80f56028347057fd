"""``/webhooks/whatsapp/``: Meta's verification handshake (GET) and signed event deliveries (POST).

POST: size limit (413) → signature header (401) → JSON and shape (400) → route by
``phone_number_id`` → signature against the app secret (403) → store and enqueue on commit → 200.
Payloads for an unknown ``phone_number_id`` are acknowledged (200, so Meta stops retrying) and audited.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from parley.audit.actions import record_audit_event
from parley.connectors import meta
from parley.connectors.base import ChannelEvent
from parley.connectors.models import Channel, ChannelType
from parley.connectors.webhooks import decode_json, ingest, parse_or_reject, payload_id, read_body, webhook_view
from parley.connectors.whatsapp.connector import connector


@csrf_exempt
@require_http_methods(["GET", "POST"])
@webhook_view("whatsapp")
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    """Receive WhatsApp Cloud API webhooks."""
    if request.method == "GET":
        return meta.verify_subscription(request, ChannelType.WHATSAPP, meta.instance_setting("WHATSAPP_VERIFY_TOKEN"))
    body = read_body(request)
    header = meta.require_signature_header(request)
    payload = decode_json(body)
    routes = _routes(payload)
    channels = {
        str(channel.config.get("phone_number_id")): channel
        for channel in Channel.objects.select_related("tenant").filter(
            type=ChannelType.WHATSAPP, enabled=True, config__phone_number_id__in=sorted(routes)
        )
    }
    instance_secret = meta.instance_setting("WHATSAPP_APP_SECRET")
    if channels or instance_secret:
        meta.check_signature(body, header, channels.values(), instance_secret)
    events = parse_or_reject(connector.parse_events, payload)
    stored = duplicates = statuses = 0
    for route in sorted(routes - set(channels)):
        record_audit_event(
            action="webhook.unknown_phone_number",
            actor="whatsapp-webhook",
            data={"phone_number_id": route, "payload_id": payload_id(body), "signature_verified": bool(instance_secret)},
        )
    for route, channel in channels.items():
        result = ingest(channel, [event for event in events if event.route == route])
        stored += result.messages_created
        duplicates += result.duplicates
        statuses += result.statuses
    return JsonResponse({"status": "ok", "stored": stored, "duplicates": duplicates, "statuses": statuses})


def _routes(payload: object) -> set[str]:
    """The payload's ``phone_number_id``s; validating its shape first (400 with the reason)."""
    found: set[str] = set()

    def collect(data: object) -> list[ChannelEvent]:
        found.update(connector.phone_number_ids(data))
        return []

    parse_or_reject(collect, payload)
    return found
