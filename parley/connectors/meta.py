"""What Meta's webhooks share (WhatsApp Cloud API and Messenger): the subscription handshake and
``X-Hub-Signature-256`` verification against the app secret of the channels a payload is routed to."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from parley.connectors.base import WebhookRejected
from parley.connectors.models import Channel
from parley.connectors.webhooks import signature_matches

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
