"""``/webhooks/generic/<channel_key>/``: signed JSON events from any system."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from parley.connectors.base import WebhookRejected
from parley.connectors.generic.connector import SIGNATURE_HEADER, channel_secret, connector
from parley.connectors.models import Channel, ChannelType
from parley.connectors.webhooks import decode_json, ingest, parse_or_reject, read_body, signature_matches, webhook_view


@csrf_exempt
@require_POST
@webhook_view("generic")
def generic_webhook(request: HttpRequest, channel_key: str) -> HttpResponse:
    """Verify the signature with the channel's secret, store, enqueue on commit, 200."""
    channel = Channel.objects.select_related("tenant").filter(key=channel_key, type=ChannelType.GENERIC, enabled=True).first()
    if channel is None:
        raise WebhookRejected(404, "no enabled generic channel has this key", code="not_found")
    body = read_body(request)
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        raise WebhookRejected(401, f"missing {SIGNATURE_HEADER} header", code="not_authenticated")
    if not signature_matches(channel_secret(channel), body, header):
        raise WebhookRejected(403, f"{SIGNATURE_HEADER} does not match the channel secret", code="permission_denied")
    events = parse_or_reject(connector.parse_events, decode_json(body))
    result = ingest(channel, events)
    return JsonResponse(
        {
            "status": "ok",
            "stored": result.messages_created,
            "duplicates": result.duplicates,
            "statuses": result.statuses,
            "message_ids": result.message_ids,
        }
    )
