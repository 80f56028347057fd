"""Knowledge base: sources, versioned documents, embedded chunks, the tenant's embedder and the query log.

State changes go through :mod:`parley.knowledge.actions`; nothing else writes these rows.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from pgvector.django import HnswIndex, VectorField

from parley.core.models import TenantScopedModel

#: Dimension of the indexed embedding column (all-MiniLM-L6-v2). Embedders of another dimension are
#: stored in ``KnowledgeChunk.embedding_other`` and searched exactly (no ANN index).
INDEXED_DIM = 384


class SourceKind(models.TextChoices):
    UPLOAD = "upload", "Uploaded files"
    URL = "url", "Web pages (same-site crawl)"
    QA_CSV = "qa_csv", "Q&A pairs (CSV / XLSX)"
    SITEMAP = "sitemap", "Sitemap"
    TEXT = "text", "Text entered in the dashboard"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be indexed"
    PROCESSING = "processing", "Being indexed"
    READY = "ready", "Indexed"
    FAILED = "failed", "Failed"
    EMPTY = "empty", "No text found"


class KnowledgeSource(TenantScopedModel):
    """Where documents come from: uploads, a website (crawled), a sitemap or a Q&A sheet."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=SourceKind.choices, default=SourceKind.UPLOAD)
    url = models.URLField(max_length=2000, blank=True, help_text="Start page (url) or sitemap address (sitemap)")
    crawl_depth = models.PositiveSmallIntegerField(default=1, help_text="Same-site link depth followed from the start page")
    max_pages = models.PositiveIntegerField(default=50)
    tags = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    language = models.CharField(max_length=10, blank=True, help_text="ISO 639-1; blank = detect per document")
    enabled = models.BooleanField(default=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="knowledge_source_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


def _upload_path(instance: KnowledgeDocument, filename: str) -> str:
    return f"knowledge/{instance.tenant_id}/{instance.id}/{filename}"


class KnowledgeDocument(TenantScopedModel):
    """One document of a source (a file, a page, a Q&A sheet), with its current version's text."""

    source = models.ForeignKey(KnowledgeSource, on_delete=models.CASCADE, related_name="documents")
    external_ref = models.CharField(max_length=2000, help_text="File name or URL; unique within the source")
    title = models.CharField(max_length=500, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to=_upload_path, max_length=500, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True, help_text="sha256 of the raw bytes of the current version")
    version = models.PositiveIntegerField(default=0, help_text="Bumped each time new content is indexed")
    text = models.TextField(blank=True, help_text="Extracted text of the current version")
    language = models.CharField(max_length=10, blank=True)
    tags = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    status = models.CharField(max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.PENDING, db_index=True)
    status_reason = models.TextField(blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0-100 while indexing")
    chunk_count = models.PositiveIntegerField(default=0)
    indexed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_ref"], name="knowledge_document_unique_ref"),
        ]
        indexes = [models.Index(fields=["tenant", "status"])]

    def __str__(self) -> str:
        return self.title or self.external_ref


class KnowledgeChunk(TenantScopedModel):
    """A retrievable passage: text, where it sits (heading path), its embedding and full-text vector."""

    document = models.ForeignKey(KnowledgeDocument, on_delete=models.CASCADE, related_name="chunks")
    source = models.ForeignKey(KnowledgeSource, on_delete=models.CASCADE, related_name="chunks")
    document_version = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField()
    heading_path = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    text = models.TextField()
    token_count = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=10, blank=True)
    tags = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    fts_config = models.CharField(max_length=20, default="english", help_text="PostgreSQL text search configuration")
    search_vector = SearchVectorField(null=True)
    embedding = VectorField(dimensions=INDEXED_DIM, null=True, blank=True)
    embedding_other = VectorField(null=True, blank=True, help_text="Embeddings whose dimension is not 384 (exact search)")
    embedder = models.CharField(max_length=200, blank=True, help_text="Embedder signature that produced the vector")

    class Meta:
        ordering = ["document", "position"]
        indexes = [
            HnswIndex(
                name="knowledge_chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_vector"], name="knowledge_chunk_fts_gin"),
            GinIndex(fields=["tags"], name="knowledge_chunk_tags_gin"),
            models.Index(fields=["tenant", "source"]),
            models.Index(fields=["tenant", "language"]),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.position}"


class EmbedderKind(models.TextChoices):
    LOCAL = "local", "Built-in all-MiniLM-L6-v2"
    OPENAI = "openai", "OpenAI-compatible /v1/embeddings server"


class KnowledgeSettings(TenantScopedModel):
    """The tenant's embedder. ``dimension`` is recorded with the index: changing the embedder re-indexes."""

    embedder_kind = models.CharField(max_length=20, choices=EmbedderKind.choices, default=EmbedderKind.LOCAL)
    base_url = models.URLField(max_length=500, blank=True)
    model = models.CharField(max_length=200, blank=True)
    api_key = models.CharField(max_length=500, blank=True)
    dimension = models.PositiveIntegerField(default=INDEXED_DIM)
    batch_size = models.PositiveIntegerField(default=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="knowledge_settings_one_per_tenant")]

    def __str__(self) -> str:
        return f"{self.embedder_kind}:{self.model or 'minilm'}"


class KnowledgeQuery(TenantScopedModel):
    """One retrieval made for the assistant: the question and how well the knowledge base answered it."""

    query = models.TextField()
    best_score = models.FloatField(default=0.0)
    result_count = models.PositiveIntegerField(default=0)
    top_chunk = models.ForeignKey(KnowledgeChunk, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    embedding = VectorField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return self.query[:80]
