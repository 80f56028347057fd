"""Channels wired to local fake providers, for tests and benchmarks."""

from __future__ import annotations

from typing import Any

from parley.connectors.models import Channel, ChannelType

WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "test-access-token"


def whatsapp_channel(tenant: Any, api_base_url: str = "http://127.0.0.1:9", **config: Any) -> Channel:
    """A WhatsApp channel for the fixtures' ``phone_number_id``, sending to ``api_base_url``."""
    return Channel.objects.create(
        tenant=tenant,
        type=ChannelType.WHATSAPP,
        name="WhatsApp",
        config={"phone_number_id": WHATSAPP_PHONE_NUMBER_ID, "api_base_url": api_base_url, "api_version": "v21.0", **config},
        credentials={"access_token": ACCESS_TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},  # type: ignore[misc]
    )
