"""Stored attachment files are served to people of the tenant only, inline only when harmless."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile

from parley.conversations.models import Attachment
from parley.conversations.serializers import AttachmentSerializer
from parley.testing import factories


def _attachment(tenant: Any, name: str, content: bytes, mime: str, *, stored: bool = True) -> Attachment:
    message = factories.inbound(factories.make_channel(tenant), "see the file", sender=f"c-{name}")
    attachment = Attachment(tenant=tenant, message=message, kind="file", mime_type=mime, filename=name)
    if stored:
        attachment.file.save(name, ContentFile(content), save=False)
    attachment.save()
    return attachment


@pytest.mark.django_db
def test_people_of_the_tenant_get_the_file_inline_when_harmless(tenant: Any, other_tenant: Any) -> None:
    photo = _attachment(tenant, "mug.png", b"\x89PNG\r\n\x1a\nfake", "image/png")
    url = AttachmentSerializer(photo).data["file_url"]
    assert url == f"/api/v1/attachments/{photo.pk}/file/"

    response = factories.api_client(tenant, "agent").get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG\r\n\x1a\nfake"
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    assert "sandbox" in response["Content-Security-Policy"]

    assert factories.api_client(other_tenant, "owner").get(url).status_code == 404
    assert factories.api_client(tenant, "agent").get(f"/api/v1/attachments/{photo.pk}/").json()["mime_type"] == "image/png"


@pytest.mark.django_db
def test_active_content_downloads_and_a_missing_file_is_404(tenant: Any) -> None:
    client = factories.api_client(tenant, "agent")
    page = _attachment(tenant, "page.html", b"<script>alert(1)</script>", "text/html")
    response = client.get(f"/api/v1/attachments/{page.pk}/file/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    svg = _attachment(tenant, "logo.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")
    assert client.get(f"/api/v1/attachments/{svg.pk}/file/")["Content-Disposition"].startswith("attachment")
    pending = _attachment(tenant, "later.jpg", b"", "image/jpeg", stored=False)
    assert AttachmentSerializer(pending).data["file_url"] == ""
    assert client.get(f"/api/v1/attachments/{pending.pk}/file/").status_code == 404
