"""What Meta's webhooks share (WhatsApp Cloud API and Messenger): the subscription handshake and
``X-Hub-Signature-256`` verification against the app secret of the channels a payload is routed to."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from parley.connectors.base import ChannelEvent, WebhookRejected
from parley.connectors.models import Channel
from parley.connectors.webhooks import Accepted, GroupCommit, event_key, payload_id, signature_matches

SIGNATURE_HEADER = "HTTP_X_HUB_SIGNATURE_256"


def instance_setting(name: str) -> str:
    """An instance-wide Meta app setting (one app for every tenant), e.g. ``WHATSAPP_APP_SECRET``.

    Read from Django settings, else the ``PARLEY_<NAME>`` environment variable; ``""`` when unset.
    """
    return str(getattr(settings, name, "") or os.environ.get(f"PARLEY_{name}", ""))


def verify_subscription(request: HttpRequest, channel_type: str, instance_token: str) -> HttpResponse:
    """Meta's GET handshake: echo ``hub.challenge`` when ``hub.verify_token`` is one we issued."""
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode != "subscribe" or not token or not challenge:
        raise WebhookRejected(400, "expected hub.mode=subscribe, hub.verify_token and hub.challenge")
    tokens = [instance_token] if instance_token else []
    for channel in Channel.objects.filter(type=channel_type, enabled=True):
        credentials: Any = channel.credentials
        if isinstance(credentials, dict) and credentials.get("verify_token"):
            tokens.append(str(credentials["verify_token"]))
    # Compare against every token (no early exit) so timing does not reveal which one matched.
    matched = False
    for candidate in tokens:
        matched |= hmac.compare_digest(candidate.encode(), token.encode())
    if not matched:
        raise WebhookRejected(403, "hub.verify_token does not match", code="permission_denied")
    return HttpResponse(challenge, content_type="text/plain")


def require_signature_header(request: HttpRequest) -> str:
    """The ``X-Hub-Signature-256`` header, or 401."""
    header = request.META.get(SIGNATURE_HEADER, "")
    if not header:
        raise WebhookRejected(401, "missing X-Hub-Signature-256 header", code="not_authenticated")
    return str(header)


def check_signature(body: bytes, header: str, channels: Iterable[Channel], instance_secret: str) -> None:
    """Accept when the signature matches the instance app secret or one of ``channels``' app secrets.

    Raises:
        WebhookRejected: 403 when no configured secret produces this signature.
    """
    secrets = [instance_secret] if instance_secret else []
    for channel in channels:
        credentials: Any = channel.credentials
        if isinstance(credentials, dict) and credentials.get("app_secret"):
            secrets.append(str(credentials["app_secret"]))
    if not any(signature_matches(secret, body, header) for secret in secrets):
        raise WebhookRejected(403, "X-Hub-Signature-256 does not match the app secret", code="permission_denied")


@dataclass(frozen=True)
class Delivery:
    """One signed POST, already decoded and shape-checked: what remains is routing, the signature, storing."""

    body: bytes
    header: str
    routes: frozenset[str]
    events: list[ChannelEvent]


class MetaInbox:
    """Route Meta webhook deliveries to channels, check their signatures and store them in the inbox.

    Deliveries of concurrent requests are handled in batches (:class:`GroupCommit`): one channel
    query and one INSERT per batch, each delivery still verified against its own channels' secrets.

    Args:
        channel_type: ``whatsapp`` or ``messenger``.
        route_field: the ``Channel.config`` key the provider's account id is kept under.
        secret_setting: the instance-wide app secret's setting name (see :func:`instance_setting`).
        audit_action: what an event addressed to no channel is audited as.
    """

    def __init__(self, *, channel_type: str, route_field: str, secret_setting: str, audit_action: str) -> None:
        self.channel_type = channel_type
        self.route_field = route_field
        self.secret_setting = secret_setting
        self.audit_action = audit_action
        self.writer: GroupCommit[Delivery, Accepted] = GroupCommit(self.verify_and_store)

    async def accept(self, delivery: Delivery) -> Accepted:
        """Verify and store one delivery; raises ``WebhookRejected`` (403) on a bad signature."""
        return await self.writer.submit(delivery)

    def verify_and_store(self, deliveries: list[Delivery]) -> list[Accepted | BaseException]:
        """The batch, in the ORM thread: one channel query, signatures, audits, one INSERT."""
        from parley.audit.actions import record_audit_event
        from parley.connectors.actions import InboxRow, store_webhook_events

        routes = sorted(set().union(*(delivery.routes for delivery in deliveries)))
        lookup = {f"config__{self.route_field}__in": routes}
        channels = {
            str(channel.config.get(self.route_field)): channel
            for channel in Channel.objects.select_related("tenant").filter(type=self.channel_type, enabled=True, **lookup)
        }
        instance_secret = instance_setting(self.secret_setting)
        results: list[Accepted | BaseException] = []
        rows: list[InboxRow] = []
        owners: list[int] = []
        for index, delivery in enumerate(deliveries):
            routed = {route: channels[route] for route in sorted(delivery.routes) if route in channels}
            try:
                if routed or instance_secret:
                    check_signature(delivery.body, delivery.header, routed.values(), instance_secret)
            except WebhookRejected as exc:
                results.append(exc)
                continue
            for route in sorted(delivery.routes - set(routed)):
                record_audit_event(
                    action=self.audit_action,
                    actor=f"{self.channel_type}-webhook",
                    data={
                        self.route_field: route,
                        "payload_id": payload_id(delivery.body),
                        "signature_verified": bool(instance_secret),
                    },
                )
            text = delivery.body.decode()
            for route, channel in routed.items():
                events = [event for event in delivery.events if event.route == route]
                rows.append(InboxRow(channel=channel, route=route, event_key=event_key(events, delivery.body), body=text))
                owners.append(index)
            results.append(Accepted())
        for owner, event_id in zip(owners, store_webhook_events(rows), strict=True):
            accepted = results[owner]
            assert isinstance(accepted, Accepted)
            if event_id:
                accepted.queued += 1
                accepted.event_ids.append(event_id)
            else:
                accepted.duplicates += 1
        return results
