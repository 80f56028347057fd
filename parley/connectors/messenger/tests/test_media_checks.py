"""Messenger media (a CDN URL, not a media id) passes the same checks: quarantined when infected, and
neither our copy nor the provider's link is handed out for it."""

from __future__ import annotations

from typing import Any

import pytest

from parley.connectors.messenger.tests.test_messenger import SECRET, URL, _channel
from parley.connectors.testing.fake_graph import FakeGraphServer
from parley.connectors.testing.webhooks import load_fixture, post_and_process
from parley.conversations.models import Attachment, Message
from parley.conversations.tasks import fetch_attachment_media
from parley.testing import factories
from parley.testing.fake_clamd import EICAR, EICAR_SIGNATURE, FakeClamd


@pytest.mark.django_db
def test_an_infected_image_is_quarantined_and_its_cdn_link_withheld(tenant: Any, settings: Any) -> None:
    with FakeGraphServer() as cdn, FakeClamd() as clamd:
        settings.CLAMD_ADDRESS = clamd.address
        channel = _channel(tenant, cdn.url)
        payload = load_fixture("messenger", "messages__image")
        payload["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]["url"] = f"{cdn.url}/media-download/img1"
        cdn.media["img1"] = (b"\xff\xd8\xff" + EICAR, "image/jpeg")
        assert post_and_process(URL, payload, SECRET).status_code == 200
        attachment = Attachment.objects.get(message__channel=channel)
        assert fetch_attachment_media.run(str(attachment.id)) == "quarantined"
        assert clamd.scans[0].content == b"\xff\xd8\xff" + EICAR

    api = factories.api_client(tenant, "agent")
    shown = api.get(f"/api/v1/attachments/{attachment.id}/").json()
    assert (shown["media_status"], shown["url"], shown["file_url"]) == ("quarantined", "", "")
    assert EICAR_SIGNATURE in shown["media_error"]
    message = api.get(f"/api/v1/conversations/{attachment.message.conversation_id}/messages/").json()
    listed = [a for m in message["results"] for a in m["attachments"]]
    assert listed == [shown]
    assert api.get(f"/api/v1/attachments/{attachment.id}/file/").status_code == 410
    assert Message.objects.filter(pk=attachment.message_id).exists()
