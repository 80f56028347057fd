"""``/webhooks/whatsapp/``: Meta's verification handshake (GET) and signed event deliveries (POST).

POST: size limit (413) → signature header (401) → JSON and shape (400) → route by
``phone_number_id`` → signature against the app secret (403) → one inbox row per routed channel
(idempotent on the provider's ids), its processing enqueued on the ``webhooks`` queue → 200.
Messages are stored by the worker (``parley.connectors.process_webhook_event``).
Payloads for an unknown ``phone_number_id`` are acknowledged (200, so Meta stops retrying) and audited.

The view is async: decoding and the shape check run on the event loop; routing, the signature and
the INSERT run in the ORM thread in batches with concurrent requests (``meta.MetaInbox``).
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from parley.connectors import meta
from parley.connectors.base import ChannelEvent
from parley.connectors.models import ChannelType
from parley.connectors.webhooks import async_webhook_view, decode_json, parse_or_reject, read_body
from parley.connectors.whatsapp.connector import connector

INBOX = meta.MetaInbox(
    channel_type=ChannelType.WHATSAPP,
    route_field="phone_number_id",
    secret_setting="WHATSAPP_APP_SECRET",
    audit_action="webhook.unknown_phone_number",
)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@async_webhook_view("whatsapp")
async def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    """Receive WhatsApp Cloud API webhooks."""
    if request.method == "GET":
        token = meta.instance_setting("WHATSAPP_VERIFY_TOKEN")
        return await sync_to_async(meta.verify_subscription)(request, ChannelType.WHATSAPP, token)
    body = read_body(request)
    header = meta.require_signature_header(request)
    payload = decode_json(body)
    routes = _routes(payload)
    events = parse_or_reject(connector.parse_events, payload)
    accepted = await INBOX.accept(meta.Delivery(body=body, header=header, routes=frozenset(routes), events=events))
    return accepted.response()


def _routes(payload: object) -> set[str]:
    """The payload's ``phone_number_id``s; validating its shape first (400 with the reason)."""
    found: set[str] = set()

    def collect(data: object) -> list[ChannelEvent]:
        found.update(connector.phone_number_ids(data))
        return []

    parse_or_reject(collect, payload)
    return found
