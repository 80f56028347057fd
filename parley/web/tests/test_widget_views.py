"""The widget's HTTP surface: public settings, loader and demo page."""

from __future__ import annotations

from typing import Any

from django.test import Client

from parley.connectors.models import ChannelType
from parley.testing import factories


def test_settings_expose_only_the_public_look_and_feel(tenant: Any) -> None:
    factories.make_channel(
        tenant,
        key="shop-widget",
        config={
            "allowed_origins": ["https://shop.example"],
            "greeting": "Hello from the shop",
            "theme": {"primary_color": "#0f766e", "position": "left", "title": "Shop help", "avatar_url": "/a.png"},
            "internal_note": "not for visitors",
        },
    )
    response = Client().get("/widget/shop-widget/settings.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {
        "greeting": "Hello from the shop",
        "primary_color": "#0f766e",
        "position": "left",
        "title": "Shop help",
        "avatar_url": "/a.png",
        "uploads_url": "/api/v1/webchat/shop-widget/uploads/",
        "max_upload_bytes": 10 * 1024 * 1024,
    }


def test_settings_ignore_non_string_values(tenant: Any) -> None:
    factories.make_channel(
        tenant, key="odd-widget", config={"greeting": ["not", "text"], "title": "Help", "uploads_enabled": False}
    )
    assert Client().get("/widget/odd-widget/settings.json").json() == {"title": "Help"}


def test_settings_of_unknown_disabled_or_non_webchat_channels_are_404(tenant: Any) -> None:
    factories.make_channel(tenant, key="off-widget", enabled=False)
    factories.make_channel(tenant, type=ChannelType.WHATSAPP, key="wa-channel")
    for key in ("nope", "off-widget", "wa-channel"):
        response = Client().get(f"/widget/{key}/settings.json")
        assert response.status_code == 404, key
        assert response.json()["code"] == "unknown_widget"


def test_settings_only_answer_get(tenant: Any) -> None:
    factories.make_channel(tenant, key="shop-widget")
    assert Client().post("/widget/shop-widget/settings.json").status_code == 405


def test_demo_page_embeds_the_loader_with_the_requested_key(db: Any) -> None:
    response = Client().get("/widget/demo/?key=abc%22%3E%3Cscript%3E")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'src="/widget.js"' in body
    assert 'data-widget-key="abc&quot;&gt;&lt;script&gt;"' in body
