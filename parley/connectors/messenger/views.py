"""``/webhooks/messenger/``: Meta's verification handshake (GET) and signed page events (POST).

The same checks as WhatsApp: 413 → 401 → 400 → route by page id → 403 → store → 200; an unknown
page id is acknowledged and audited.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from parley.audit.actions import record_audit_event
from parley.connectors import meta
from parley.connectors.base import ChannelEvent
from parley.connectors.messenger.connector import connector
from parley.connectors.models import Channel, ChannelType
from parley.connectors.webhooks import decode_json, ingest, parse_or_reject, payload_id, read_body, webhook_view


@csrf_exempt
@require_http_methods(["GET", "POST"])
@webhook_view("messenger")
def messenger_webhook(request: HttpRequest) -> HttpResponse:
    """Receive Messenger Platform webhooks."""
    if request.method == "GET":
        return meta.verify_subscription(request, ChannelType.MESSENGER, meta.instance_setting("MESSENGER_VERIFY_TOKEN"))
    body = read_body(request)
    header = meta.require_signature_header(request)
    payload = decode_json(body)
    routes: set[str] = set()

    def collect(data: object) -> list[ChannelEvent]:
        routes.update(connector.page_ids(data))
        return []

    parse_or_reject(collect, payload)
    channels = {
        str(channel.config.get("page_id")): channel
        for channel in Channel.objects.select_related("tenant").filter(
            type=ChannelType.MESSENGER, enabled=True, config__page_id__in=sorted(routes)
        )
    }
    instance_secret = meta.instance_setting("MESSENGER_APP_SECRET")
    if channels or instance_secret:
        meta.check_signature(body, header, channels.values(), instance_secret)
    events = parse_or_reject(connector.parse_events, payload)
    for route in sorted(routes - set(channels)):
        record_audit_event(
            action="webhook.unknown_page",
            actor="messenger-webhook",
            data={"page_id": route, "payload_id": payload_id(body), "signature_verified": bool(instance_secret)},
        )
    stored = duplicates = statuses = 0
    for route, channel in channels.items():
        result = ingest(channel, [event for event in events if event.route == route])
        stored += result.messages_created
        duplicates += result.duplicates
        statuses += result.statuses
    return JsonResponse({"status": "ok", "stored": stored, "duplicates": duplicates, "statuses": statuses})
