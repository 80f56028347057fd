"""``/webhooks/messenger/``: Meta's verification handshake (GET) and signed page events (POST).

The same checks and the same inbox as WhatsApp: 413 → 401 → 400 → route by page id → 403 → one inbox
row per routed channel (idempotent on the provider's ids), processing enqueued on the ``webhooks``
queue → 200; an unknown page id is acknowledged and audited.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from parley.connectors import meta
from parley.connectors.base import ChannelEvent
from parley.connectors.messenger.connector import connector
from parley.connectors.models import ChannelType
from parley.connectors.webhooks import async_webhook_view, decode_json, parse_or_reject, read_body

INBOX = meta.MetaInbox(
    channel_type=ChannelType.MESSENGER,
    route_field="page_id",
    secret_setting="MESSENGER_APP_SECRET",
    audit_action="webhook.unknown_page",
)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@async_webhook_view("messenger")
async def messenger_webhook(request: HttpRequest) -> HttpResponse:
    """Receive Messenger Platform webhooks."""
    if request.method == "GET":
        token = meta.instance_setting("MESSENGER_VERIFY_TOKEN")
        return await sync_to_async(meta.verify_subscription)(request, ChannelType.MESSENGER, token)
    body = read_body(request)
    header = meta.require_signature_header(request)
    payload = decode_json(body)
    routes: set[str] = set()

    def collect(data: object) -> list[ChannelEvent]:
        routes.update(connector.page_ids(data))
        return []

    parse_or_reject(collect, payload)
    events = parse_or_reject(connector.parse_events, payload)
    accepted = await INBOX.accept(meta.Delivery(body=body, header=header, routes=frozenset(routes), events=events))
    return accepted.response()
