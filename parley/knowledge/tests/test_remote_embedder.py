"""A tenant pointing its knowledge base at an OpenAI-compatible /v1/embeddings server (a real local fake)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from parley.knowledge import actions
from parley.knowledge.embedding import EmbedderError, OpenAICompatibleEmbedder
from parley.knowledge.models import KnowledgeChunk, KnowledgeSettings
from parley.knowledge.retrieval import search
from parley.knowledge.tests.helpers import index_text, make_source
from parley.knowledge.tests.servers import FakeEmbeddingServer
from parley.testing import factories


@pytest.fixture
def server() -> Iterator[FakeEmbeddingServer]:
    with FakeEmbeddingServer(dimension=64, api_key="sk-test") as fake:
        yield fake


def test_client_speaks_the_openai_protocol_in_batches(server: FakeEmbeddingServer) -> None:
    embedder = OpenAICompatibleEmbedder(base_url=server.url, model="nomic-embed", dimension=64, api_key="sk-test", batch_size=2)
    vectors = embedder.embed(["one", "two", "three"])
    assert vectors.shape == (3, 64)
    assert len(server.requests) == 2
    first = server.requests[0]
    assert first["path"] == "/v1/embeddings" and first["headers"]["Authorization"] == "Bearer sk-test"
    assert json.loads(first["body"]) == {"model": "nomic-embed", "input": ["one", "two"]}
    wrong_dim = OpenAICompatibleEmbedder(base_url=server.url + "/v1", model="m", dimension=32, api_key="sk-test")
    with pytest.raises(EmbedderError, match="dimension 32"):
        wrong_dim.embed(["x"])
    with pytest.raises(EmbedderError, match="401"):
        OpenAICompatibleEmbedder(base_url=server.url, model="m", dimension=64, api_key="wrong").embed(["x"])


@pytest.mark.django_db
def test_tenant_embedder_switch_reindexes_and_search_uses_it(
    tenant: Any, server: FakeEmbeddingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_source(tenant)
    document = index_text(source, "Tea", "# Tea\n\nOur green tea comes from Japan.\n\n## Storage\n\nKeep tea in an airtight tin.")
    assert KnowledgeChunk.objects.filter(document=document, embedder="local:all-MiniLM-L6-v2").count() == 2
    api = factories.api_client(tenant, "admin")
    bad = api.put(
        "/api/v1/knowledge/settings",
        {"embedder_kind": "openai", "base_url": server.url, "model": "m", "dimension": 99, "api_key": "sk-test"},
        format="json",
    )
    assert bad.status_code == 400 and "dimension 99" in bad.json()["detail"]
    response = api.put(
        "/api/v1/knowledge/settings",
        {"embedder_kind": "openai", "base_url": server.url, "model": "hash-64", "dimension": 64, "api_key": "sk-test"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert "api_key" not in response.json()
    assert KnowledgeSettings.objects.get(tenant=tenant).dimension == 64
    actions.index_document(document_id=document.pk, force=True)  # what the queued re-index task does
    chunks = list(KnowledgeChunk.objects.filter(document=document))
    assert {c.embedder for c in chunks} == {f"openai:{server.url}:hash-64:64"}
    assert all(c.embedding is None and len(c.embedding_other) == 64 for c in chunks)
    assert any("airtight tin" in text for text in server.inputs())
    hits = search(tenant=tenant, query="storage: keep it in an airtight tin?", k=1)
    assert "airtight" in hits[0].text
    assert server.inputs()[-1] == "storage: keep it in an airtight tin?"
    # the assistant's head start: a remote embedder is handed over as is (no local MiniLM vector is started
    # in the background) and the search with it asks the tenant's server, once
    from parley.intelligence import embeddings
    from parley.knowledge.retrieval import prepare_query

    started: list[str] = []
    monkeypatch.setattr(embeddings, "encode_soon", started.append)
    calls = len(server.requests)
    prepared = prepare_query(tenant=tenant, query="  how do I store green tea?  ")
    assert isinstance(prepared, OpenAICompatibleEmbedder) and started == []
    hits = search(tenant=tenant, query="how do I store green tea?", k=1, embedder=prepared)
    assert hits and len(server.requests) == calls + 1 and server.inputs()[-1] == "how do I store green tea?"
    assert api.get("/api/v1/knowledge/settings").json()["embedder_kind"] == "openai"
    assert factories.api_client(tenant, "agent").get("/api/v1/knowledge/settings").status_code == 403
