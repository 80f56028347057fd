"""The REST API (sources, documents, search, coverage) and coverage clustering."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from parley.knowledge.coverage import coverage_report
from parley.knowledge.models import KnowledgeChunk, KnowledgeDocument
from parley.knowledge.retrieval import search
from parley.knowledge.tests.helpers import index_text, make_source
from parley.testing import factories

FAQ = "# Payments\n\n## Payment methods\n\nWe accept Visa, Mastercard and PayPal.\n\n## Invoices\n\nInvoices are emailed when the order ships."


@pytest.mark.django_db
def test_coverage_clusters_weakly_answered_questions(tenant: Any) -> None:
    index_text(make_source(tenant), "Payments", FAQ)
    conversation = factories.make_conversation(factories.make_channel(tenant), "gift cards?")
    for question in ["Do you accept PayPal?", "Can I pay with Mastercard?"]:
        search(tenant=tenant, query=question, record=True)
    for question in ["Do you sell gift cards?", "Can I buy a gift card for my friend?", "are gift vouchers available"]:
        search(tenant=tenant, query=question, record=True, conversation_id=conversation.pk)
    search(tenant=tenant, query="Is the store wheelchair accessible?", record=True)
    report = coverage_report(tenant=tenant)
    assert report.total_queries == 6
    assert report.answered == 2
    assert report.weakly_answered + report.unanswered == 4
    top = report.clusters[0]
    assert top.count == 3 and "gift" in top.label.lower()
    assert top.conversation_ids == [str(conversation.pk)]
    assert len(report.clusters) == 2 and report.clusters[1].label == "Is the store wheelchair accessible?"


@pytest.mark.django_db
def test_sources_documents_search_and_coverage_over_http(tenant: Any, settings: Any) -> None:
    api = factories.api_client(tenant, "admin")
    created = api.post("/api/v1/knowledge/sources/", {"name": "FAQ", "tags": ["public"]}, format="json")
    assert created.status_code == 201, created.content
    source_id = created.json()["id"]
    assert api.post("/api/v1/knowledge/sources/", {"name": "FAQ"}, format="json").status_code == 409
    assert api.post("/api/v1/knowledge/sources/", {"name": "Site", "kind": "url"}, format="json").json()["errors"] == {
        "url": ["A url source needs a url."]
    }
    assert api.post("/api/v1/knowledge/sources/", {"name": "x", "tags": ["bad tag!"]}, format="json").status_code == 400
    text = api.post("/api/v1/knowledge/documents/", {"source": source_id, "title": "Payments", "text": FAQ}, format="json")
    assert text.status_code == 201 and text.json()["status"] == "pending"
    from parley.knowledge import actions

    document_id = text.json()["id"]
    actions.index_document(document_id=document_id)
    detail = api.get(f"/api/v1/knowledge/documents/{document_id}/").json()
    assert detail["status"] == "ready" and detail["progress"] == 100 and detail["chunk_count"] == 2
    chunks = api.get(f"/api/v1/knowledge/documents/{document_id}/chunks/").json()
    assert chunks[0]["heading_path"] == ["Payments", "Payment methods"]
    listing = api.get("/api/v1/knowledge/sources/").json()["results"]
    assert listing[0]["document_count"] == 1

    found = api.get("/api/v1/knowledge/search", {"q": "can I pay with paypal", "k": 1})
    assert found.status_code == 200
    assert found.json()["results"][0]["heading_path"] == ["Payments", "Payment methods"]
    assert api.get("/api/v1/knowledge/search").status_code == 400
    assert api.get("/api/v1/knowledge/search", {"q": "x", "k": 500}).status_code == 400
    assert api.get("/api/v1/knowledge/search", {"q": "x", "source": "nope"}).status_code == 400
    assert factories.api_client(tenant, "agent").get("/api/v1/knowledge/search", {"q": "paypal"}).status_code == 200

    # uploads: oversized → 413, unknown source → 400, unsupported type → stored then failed with the reason
    settings.KNOWLEDGE_MAX_UPLOAD_BYTES = 100
    big = api.post(
        "/api/v1/knowledge/documents/upload/",
        {"source": source_id, "file": SimpleUploadedFile("big.txt", b"x" * 500, "text/plain")},
        format="multipart",
    )
    assert big.status_code == 413 and big.json()["code"] == "payload_too_large"
    other = make_source(factories.make_tenant("initech"), "Theirs")
    wrong = api.post(
        "/api/v1/knowledge/documents/upload/",
        {"source": str(other.pk), "file": SimpleUploadedFile("a.txt", b"hello", "text/plain")},
        format="multipart",
    )
    assert wrong.status_code == 400 and "source" in wrong.json()["errors"]
    image = api.post(
        "/api/v1/knowledge/documents/upload/",
        {"source": source_id, "file": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n", "image/png")},
        format="multipart",
    )
    assert image.status_code == 201
    actions.index_document(document_id=image.json()["id"])
    failed = api.get(f"/api/v1/knowledge/documents/{image.json()['id']}/").json()
    assert failed["status"] == "failed" and "unsupported file type" in failed["status_reason"]

    # re-index, patch tags, delete removes chunks
    assert api.post(f"/api/v1/knowledge/documents/{document_id}/reindex/").status_code == 202
    patched = api.patch(f"/api/v1/knowledge/documents/{document_id}/", {"tags": ["billing"]}, format="json")
    assert patched.status_code == 200 and patched.json()["tags"] == ["billing"]
    assert api.patch(f"/api/v1/knowledge/documents/{document_id}/", {"status": "ready"}, format="json").status_code == 400
    assert api.delete(f"/api/v1/knowledge/documents/{document_id}/").status_code == 204
    assert not KnowledgeChunk.objects.filter(document_id=document_id).exists()
    assert (
        factories.api_client(tenant, "agent").post("/api/v1/knowledge/sources/", {"name": "n"}, format="json").status_code == 403
    )

    # coverage JSON + CSV
    search(tenant=tenant, query="do you sell gift cards", record=True)
    report = api.get("/api/v1/knowledge/coverage").json()
    assert report["total_queries"] == 1 and report["clusters"][0]["label"] == "do you sell gift cards"
    exported = api.get("/api/v1/knowledge/coverage", {"format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert rows[0]["question"] == "do you sell gift cards" and rows[0]["count"] == "1"
    assert api.get("/api/v1/knowledge/coverage", {"threshold": "2"}).status_code == 400
    assert api.delete(f"/api/v1/knowledge/sources/{source_id}/").status_code == 204
    assert not KnowledgeDocument.objects.filter(source_id=source_id).exists()
