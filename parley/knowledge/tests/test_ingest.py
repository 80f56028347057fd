"""Indexing through the real actions and a real Celery worker: no-op re-ingest, atomic replacement,
failures with reasons and nothing half-indexed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from parley.knowledge import actions
from parley.knowledge.models import DocumentStatus, KnowledgeChunk, KnowledgeDocument
from parley.knowledge.retrieval import search
from parley.knowledge.tests.files import make_pdf
from parley.knowledge.tests.helpers import index_file, index_text, make_source
from parley.testing import factories

V1 = "# Opening hours\n\nWe are open Monday to Friday from 9 to 17.\n\n## Holidays\n\nClosed on public holidays."
V2 = "# Opening hours\n\nWe are open every day from 8 to 20.\n\n## Holidays\n\nOpen on public holidays too."


@pytest.mark.django_db
def test_reingesting_unchanged_content_is_a_noop(tenant: Any) -> None:
    source = make_source(tenant)
    document = index_text(source, "Hours", V1)
    chunk_ids = set(KnowledgeChunk.objects.filter(document=document).values_list("pk", flat=True))
    assert document.status == DocumentStatus.READY and document.version == 1 and document.chunk_count == len(chunk_ids) == 2
    again = actions.add_text_document(source=source, title="Hours", text=V1, enqueue=False)
    assert not again.changed and not again.created
    assert actions.index_document(document_id=document.pk) is not None  # idempotent task body
    document.refresh_from_db()
    assert document.version == 1
    assert set(KnowledgeChunk.objects.filter(document=document).values_list("pk", flat=True)) == chunk_ids


@pytest.mark.django_db
def test_changed_content_replaces_the_chunks(tenant: Any) -> None:
    source = make_source(tenant)
    document = index_text(source, "Hours", V1)
    old_ids = set(KnowledgeChunk.objects.filter(document=document).values_list("pk", flat=True))
    result = actions.add_text_document(source=source, title="Hours", text=V2, enqueue=False)
    assert result.changed and result.document.pk == document.pk
    actions.index_document(document_id=document.pk)
    document.refresh_from_db()
    chunks = list(KnowledgeChunk.objects.filter(document=document))
    assert document.version == 2 and document.status == DocumentStatus.READY
    assert not old_ids & {c.pk for c in chunks}
    assert all(c.document_version == 2 for c in chunks)
    assert "every day from 8 to 20" in search(tenant=tenant, query="when are you open?", k=1)[0].text
    assert KnowledgeDocument.objects.filter(tenant=tenant).count() == 1


@pytest.mark.django_db
def test_a_corrupt_new_version_fails_with_its_reason_and_leaves_no_chunks(tenant: Any) -> None:
    source = make_source(tenant)
    document = index_file(source, "policy.pdf", make_pdf([["Refunds take five days."]]))
    assert document.status == DocumentStatus.READY and document.chunk_count == 1
    broken = index_file(source, "policy.pdf", b"%PDF-1.4 this is not really a pdf")
    assert broken.pk == document.pk
    assert broken.status == DocumentStatus.FAILED
    assert "PDF" in broken.status_reason
    assert not KnowledgeChunk.objects.filter(document=document).exists()
    assert search(tenant=tenant, query="refunds") == []


@pytest.mark.django_db
def test_unsupported_and_empty_documents_are_flagged(tenant: Any) -> None:
    source = make_source(tenant)
    image = index_file(source, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00")
    assert image.status == DocumentStatus.FAILED and "unsupported" in image.status_reason
    empty = index_file(source, "blank.md", b"   \n\n  ")
    assert empty.status == DocumentStatus.EMPTY and empty.status_reason == "no text found in the document"
    assert empty.chunk_count == 0


@pytest.mark.django_db
def test_chunks_carry_language_tags_and_full_text_vectors(tenant: Any) -> None:
    source = make_source(tenant, tags=["public"])
    german = index_text(
        source, "Versand", "# Versand\n\nDie Lieferung dauert zwei bis drei Werktage innerhalb Deutschlands.", tags=["de-shop"]
    )
    chunk = KnowledgeChunk.objects.get(document=german)
    assert german.language == "de" and chunk.language == "de" and chunk.fts_config == "german"
    assert sorted(chunk.tags) == ["de-shop", "public"]
    assert chunk.embedding is not None and len(chunk.embedding) == 384
    hits = search(tenant=tenant, query="Lieferungen Werktage", language="de")
    assert hits and hits[0].text_score > 0  # German stemming: Lieferungen ~ Lieferung
    actions.update_source(source=source, changes={"tags": ["faq"]})
    assert sorted(KnowledgeChunk.objects.get(document=german).tags) == ["de-shop", "faq"]


@pytest.mark.django_db(transaction=True)
def test_upload_is_indexed_by_the_embeddings_worker_with_progress(tenant: Any, celery_worker_thread: Any) -> None:
    api = factories.api_client(tenant, "admin")
    source = api.post("/api/v1/knowledge/sources/", {"name": "Docs"}, format="json").json()
    upload = b"# Gift cards\n\nGift cards never expire and can be used for any product."
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(
        "/api/v1/knowledge/documents/upload/",
        {"source": source["id"], "file": SimpleUploadedFile("gift.md", upload, "text/markdown"), "tags": "public, gifts"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    document_id = response.json()["id"]
    deadline = time.monotonic() + 60
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = api.get(f"/api/v1/knowledge/documents/{document_id}/").json()
        if body["status"] in ("ready", "failed"):
            break
        time.sleep(0.2)
    assert body["status"] == "ready", body
    assert body["progress"] == 100 and body["chunk_count"] == 1 and sorted(body["tags"]) == ["gifts", "public"]
    hits = api.get("/api/v1/knowledge/search", {"q": "do gift cards expire?"}).json()["results"]
    assert hits[0]["document_id"] == document_id
    # the same bytes again: 200, nothing re-indexed
    again = api.post(
        "/api/v1/knowledge/documents/upload/",
        {"source": source["id"], "file": SimpleUploadedFile("gift.md", upload, "text/markdown"), "tags": "public, gifts"},
        format="multipart",
    )
    assert again.status_code == 200 and again.json()["version"] == 1
