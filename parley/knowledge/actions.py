"""Every state change of the knowledge base: sources, documents, indexing, settings and the query log.

Indexing is parse → chunk → embed (all outside any transaction) → replace the document's chunks in
one transaction. A failure at any step marks the document failed with the reason and leaves no chunk
of the failed version behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import structlog
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from parley.core.deferred import defer
from parley.core.errors import DomainError, ErrorCode
from parley.knowledge.chunking import Chunk, chunk_blocks
from parley.knowledge.conf import knowledge_setting
from parley.knowledge.embedding import Embedder, EmbedderError, embedder_for_tenant
from parley.knowledge.models import (
    INDEXED_DIM,
    DocumentStatus,
    EmbedderKind,
    KnowledgeChunk,
    KnowledgeDocument,
    KnowledgeQuery,
    KnowledgeSettings,
    KnowledgeSource,
    SourceKind,
)
from parley.knowledge.parsing import ParseError, parse
from parley.knowledge.text import detect_language, fts_config_for

log = structlog.get_logger(__name__)

#: How many chunks are embedded between two progress updates.
_PROGRESS_BATCH = 256


@dataclass(frozen=True)
class IngestResult:
    """What :func:`add_document` did: ``changed`` is False when the same bytes were already indexed."""

    document: KnowledgeDocument
    created: bool
    changed: bool


def _enqueue_index(document_id: Any, force: bool = False) -> None:
    from parley.knowledge.tasks import index_document_task

    index_document_task.apply_async(args=[str(document_id)], kwargs={"force": force})


def _enqueue_sync(source_id: Any) -> None:
    from parley.knowledge.tasks import sync_source_task

    sync_source_task.apply_async(args=[str(source_id)])


# --- sources ---------------------------------------------------------------------------------


def create_source(*, tenant: Any, data: dict[str, Any], sync: bool = True) -> KnowledgeSource:
    """Create a source; URL and sitemap sources are fetched in the background (on commit)."""
    if KnowledgeSource.objects.filter(tenant=tenant, name=data.get("name", "")).exists():
        raise DomainError(f"a source named {data.get('name')!r} already exists", ErrorCode.CONFLICT, 409)
    kind = data.get("kind", SourceKind.UPLOAD)
    if kind in (SourceKind.URL, SourceKind.SITEMAP) and not data.get("url"):
        raise DomainError(f"a {kind} source needs a url")
    with transaction.atomic():
        source = KnowledgeSource.objects.create(tenant=tenant, **data)
        if sync and kind in (SourceKind.URL, SourceKind.SITEMAP):
            transaction.on_commit(lambda: _enqueue_sync(source.pk))
    return source


def update_source(*, source: KnowledgeSource, changes: dict[str, Any]) -> KnowledgeSource:
    """Update a source; tag changes are copied onto its chunks so filters see them at once."""
    with transaction.atomic():
        for name, value in changes.items():
            setattr(source, name, value)
        source.save()
        if "tags" in changes:
            for document in source.documents.all():
                KnowledgeChunk.objects.filter(document=document).update(tags=_merged_tags(source, document))
    return source


def delete_source(*, source: KnowledgeSource) -> None:
    """Delete a source, its documents, their files and chunks."""
    for document in source.documents.all():
        _delete_file(document)
    source.delete()


def request_sync(*, source: KnowledgeSource) -> None:
    """Queue a background sync of a url or sitemap source (on commit)."""
    transaction.on_commit(lambda: _enqueue_sync(source.pk))


def sync_source(*, source: KnowledgeSource) -> dict[str, int]:
    """Fetch a URL or sitemap source now: every page becomes (or updates) a document.

    With ``PARLEY_CLAMD_ADDRESS`` set every fetched page is scanned first, as uploads are: an infected
    page (or one clamd could not scan, unless the instance fails open) becomes a failed document with
    the reason and none of its text is indexed.

    Returns:
        Counts of ``fetched``, ``changed`` and ``failed`` pages.
    """
    from parley.knowledge.fetch import FetchError, crawl, fetch, sitemap_urls

    if source.kind not in (SourceKind.URL, SourceKind.SITEMAP):
        raise DomainError("only url and sitemap sources can be synced")
    counts = {"fetched": 0, "changed": 0, "failed": 0}
    failures: dict[str, str] = {}
    pages = []
    try:
        if source.kind == SourceKind.URL:
            crawled = crawl(source.url, depth=source.crawl_depth, max_pages=source.max_pages)
            pages, failures = crawled.pages, crawled.failures
        else:
            for url in sitemap_urls(source.url, max_urls=source.max_pages):
                try:
                    pages.append(fetch(url))
                except FetchError as exc:
                    failures[url] = str(exc)
        source.sync_error = ""
    except FetchError as exc:
        source.sync_error = str(exc)
        failures[source.url] = str(exc)
    for page in pages:
        refused = _malware_refusal(page.data)  # fetched files are scanned like uploaded ones
        if refused:
            failures[page.url] = refused
            continue
        result = add_document(
            source=source,
            external_ref=page.url,
            data=page.data,
            content_type=page.content_type,
            filename=PurePosixPath(page.final_url.split("?")[0]).name or "index.html",
            url=page.final_url,
        )
        counts["fetched"] += 1
        counts["changed"] += int(result.changed)
    for url, reason in failures.items():
        mark_fetch_failed(source=source, url=url, reason=reason)
        counts["failed"] += 1
    KnowledgeSource.objects.filter(pk=source.pk).update(last_synced_at=timezone.now(), sync_error=source.sync_error)
    return counts


def _malware_refusal(data: bytes) -> str:
    """Why a fetched page must not be stored ('' when it may): clamd found malware, or could not scan it
    and the instance fails closed. Nothing to say when scanning is not configured."""
    from parley.core.uploads import ScannerUnavailable, scan

    try:
        verdict = scan(data)
    except ScannerUnavailable as exc:
        return f"the page could not be scanned for malware ({exc}); it is fetched again on the next sync"
    return f"refused: malware found ({verdict.signature})" if verdict.infected else ""


def mark_fetch_failed(*, source: KnowledgeSource, url: str, reason: str) -> KnowledgeDocument:
    """Record a page that could not be fetched as a failed document (its earlier chunks, if any, stay removed)."""
    with transaction.atomic():
        document, _ = KnowledgeDocument.objects.get_or_create(
            tenant_id=source.tenant_id, source=source, external_ref=url[:2000], defaults={"url": url[:2000], "title": url[:500]}
        )
        KnowledgeChunk.objects.filter(document=document).delete()
        KnowledgeDocument.objects.filter(pk=document.pk).update(
            status=DocumentStatus.FAILED, status_reason=reason[:2000], progress=0, chunk_count=0
        )
    document.refresh_from_db()
    return document


# --- documents -------------------------------------------------------------------------------


def _checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _delete_file(document: KnowledgeDocument) -> None:
    if document.file:
        document.file.delete(save=False)


def check_upload_size(size: int) -> None:
    """Raise a 413 :class:`DomainError` when ``size`` bytes exceed the upload limit."""
    limit = int(knowledge_setting("MAX_UPLOAD_BYTES"))
    if size > limit:
        raise DomainError(f"the file is {size} bytes; the limit is {limit} bytes", ErrorCode.PAYLOAD_TOO_LARGE, 413)


def add_document(
    *,
    source: KnowledgeSource,
    data: bytes,
    filename: str = "",
    content_type: str = "",
    external_ref: str = "",
    title: str = "",
    url: str = "",
    tags: list[str] | None = None,
    language: str = "",
    enqueue: bool = True,
) -> IngestResult:
    """Add a document to ``source`` or replace the content of the one with the same ``external_ref``.

    Unchanged bytes (same sha256) of an already indexed document are a no-op. Otherwise the file is
    stored, the document goes back to ``pending`` and indexing is enqueued on commit.

    Args:
        source: where the document belongs.
        data: the raw file bytes.
        filename: used to detect the format and as a fallback title; ``external_ref`` defaults to it.
        external_ref: identity of the document within the source (file name or URL).
    """
    check_upload_size(len(data))
    external_ref = (external_ref or filename or title).strip()[:2000]
    if not external_ref:
        raise DomainError("a document needs a file name, an external reference or a title")
    checksum = _checksum(data)
    with transaction.atomic():
        document = KnowledgeDocument.objects.select_for_update().filter(source=source, external_ref=external_ref).first()
        created = document is None
        if document is None:
            document = KnowledgeDocument(tenant_id=source.tenant_id, source=source, external_ref=external_ref)
        elif document.checksum == checksum and document.status in (
            DocumentStatus.READY,
            DocumentStatus.EMPTY,
            DocumentStatus.PENDING,
            DocumentStatus.PROCESSING,
        ):
            if tags is not None and sorted(tags) != sorted(document.tags):
                document.tags = tags
                document.save(update_fields=["tags", "updated_at"])
                KnowledgeChunk.objects.filter(document=document).update(tags=_merged_tags(source, document))
            return IngestResult(document=document, created=False, changed=False)
        else:
            _delete_file(document)
        document.title = title[:500] or document.title
        document.url = url[:2000] or document.url
        document.content_type = content_type[:200]
        document.size_bytes = len(data)
        document.checksum = checksum
        document.language = language or source.language or ""
        if tags is not None:
            document.tags = tags
        document.status = DocumentStatus.PENDING
        document.status_reason = ""
        document.progress = 0
        document.metadata = {**document.metadata, "filename": filename or PurePosixPath(external_ref).name}
        document.save()
        document.file.save(_safe_filename(filename or external_ref), ContentFile(data), save=True)
        if enqueue:
            document_id = document.pk
            transaction.on_commit(lambda: _enqueue_index(document_id))
    return IngestResult(document=document, created=created, changed=True)


def _safe_filename(name: str) -> str:
    base = PurePosixPath(name.split("?")[0]).name or "document"
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in base)
    return cleaned[-120:] or "document"


def add_text_document(
    *, source: KnowledgeSource, title: str, text: str, tags: list[str] | None = None, enqueue: bool = True
) -> IngestResult:
    """Add a Markdown document typed in the dashboard (``external_ref`` is its title)."""
    if not text.strip():
        raise DomainError("the text is empty")
    return add_document(
        source=source,
        data=text.encode("utf-8"),
        filename=f"{_safe_filename(title)}.md",
        content_type="text/markdown",
        external_ref=title,
        title=title,
        tags=tags,
        enqueue=enqueue,
    )


def update_document(*, document: KnowledgeDocument, changes: dict[str, Any]) -> KnowledgeDocument:
    """Change a document's title, tags or language (chunks follow at once; language re-indexes)."""
    reindex = "language" in changes and changes["language"] != document.language
    with transaction.atomic():
        for name, value in changes.items():
            setattr(document, name, value)
        document.save()
        KnowledgeChunk.objects.filter(document=document).update(tags=_merged_tags(document.source, document))
        if reindex:
            transaction.on_commit(lambda: _enqueue_index(document.pk, True))
    return document


def reindex_document(*, document: KnowledgeDocument) -> KnowledgeDocument:
    """Parse, chunk and embed the stored file again (e.g. after the embedder changed)."""
    if not document.file:
        raise DomainError("this document has no stored file to re-index; sync its source instead")
    with transaction.atomic():
        KnowledgeDocument.objects.filter(pk=document.pk).update(status=DocumentStatus.PENDING, progress=0, status_reason="")
        transaction.on_commit(lambda: _enqueue_index(document.pk, True))
    document.refresh_from_db()
    return document


def delete_document(*, document: KnowledgeDocument) -> None:
    """Delete a document, its stored file and all its chunks."""
    _delete_file(document)
    document.delete()


def _merged_tags(source: KnowledgeSource, document: KnowledgeDocument) -> list[str]:
    return sorted({*source.tags, *document.tags})


def _set_progress(document_id: Any, progress: int, **fields: Any) -> None:
    KnowledgeDocument.objects.filter(pk=document_id).update(progress=progress, updated_at=timezone.now(), **fields)


def _fail(document: KnowledgeDocument, status: str, reason: str) -> KnowledgeDocument:
    with transaction.atomic():
        KnowledgeChunk.objects.filter(document=document).delete()
        KnowledgeDocument.objects.filter(pk=document.pk).update(
            status=status, status_reason=reason[:2000], progress=100 if status == DocumentStatus.EMPTY else 0, chunk_count=0
        )
    document.refresh_from_db()
    log.info("knowledge_document_not_indexed", document_id=str(document.pk), status=status, reason=reason[:200])
    return document


def embed_chunks(embedder: Embedder, texts: list[str], on_progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Embed ``texts`` in batches, calling ``on_progress(done)`` between batches."""
    parts: list[np.ndarray] = []
    for start in range(0, len(texts), _PROGRESS_BATCH):
        parts.append(embedder.embed(texts[start : start + _PROGRESS_BATCH]))
        if on_progress is not None:
            on_progress(min(len(texts), start + _PROGRESS_BATCH))
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.vstack(parts)


@dataclass
class _Prepared:
    """A document parsed and chunked, waiting for its vectors."""

    document: KnowledgeDocument
    checksum: str
    text: str
    title: str
    language: str
    chunks: list[Chunk]
    texts: list[str]


def _prepare(document: KnowledgeDocument, force: bool) -> _Prepared | KnowledgeDocument:
    """Parse and chunk; returns the document itself when it is done (skipped, failed or empty)."""
    if not force and document.status == DocumentStatus.READY and document.metadata.get("indexed_checksum") == document.checksum:
        return document
    _set_progress(document.pk, 5, status=DocumentStatus.PROCESSING, status_reason="")
    try:
        with document.file.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, ValueError, OSError) as exc:
        return _fail(document, DocumentStatus.FAILED, f"the stored file is missing: {exc}")
    try:
        parsed = parse(
            data,
            filename=str(document.metadata.get("filename") or document.external_ref),
            content_type=document.content_type,
        )
    except ParseError as exc:
        return _fail(document, DocumentStatus.FAILED, str(exc))
    except Exception as exc:  # noqa: BLE001 - a parser crashing on hostile input is a bad file, not a retry
        log.warning("knowledge_parser_crashed", document_id=str(document.pk), error=repr(exc))
        return _fail(document, DocumentStatus.FAILED, f"the file could not be parsed ({type(exc).__name__})")
    chunks = chunk_blocks(
        parsed.blocks,
        max_tokens=int(knowledge_setting("CHUNK_MAX_TOKENS")),
        overlap_tokens=int(knowledge_setting("CHUNK_OVERLAP_TOKENS")),
    )
    if not chunks:
        return _fail(document, DocumentStatus.EMPTY, "no text found in the document")
    title = document.title or parsed.title
    language = document.language or document.source.language or detect_language(parsed.text) or "en"
    _set_progress(document.pk, 15)
    texts = [chunk.embedding_text(title) for chunk in chunks]
    return _Prepared(document, document.checksum, parsed.text, title, language, chunks, texts)


def index_document(*, document_id: Any, force: bool = False) -> KnowledgeDocument | None:
    """Parse, chunk, embed and store one document (idempotent: an indexed checksum is skipped unless ``force``).

    Returns:
        The document in its final state, or None if it no longer exists.
    """
    return index_documents(document_ids=[document_id], force=force).get(str(document_id))


def index_documents(*, document_ids: list[Any], force: bool = False) -> dict[str, KnowledgeDocument | None]:
    """Index several documents of one tenant with their chunks embedded together.

    Embedding all chunks in one call lets the model sort them by length across documents (less padding),
    which is most of the gap between per-document indexing and raw ``encode`` throughput. Each document
    is still stored in its own transaction.

    Returns:
        Each id (as a string) with the document in its final state, or None if it no longer exists.
    """
    results: dict[str, KnowledgeDocument | None] = {str(pk): None for pk in document_ids}
    documents = KnowledgeDocument.objects.select_related("source").filter(pk__in=document_ids)
    by_tenant: dict[Any, list[_Prepared]] = {}
    for document in documents:
        prepared = _prepare(document, force)
        if isinstance(prepared, KnowledgeDocument):
            results[str(document.pk)] = prepared
        else:
            by_tenant.setdefault(document.tenant_id, []).append(prepared)
    for tenant_id, group in by_tenant.items():
        embedder = embedder_for_tenant(tenant_id)
        texts = [text for item in group for text in item.texts]
        owners = [item.document.pk for item in group for _ in item.texts]

        def report(done: int, owners: list[Any] = owners, group: list[_Prepared] = group) -> None:
            for item in group:
                mine = [i for i, owner in enumerate(owners) if owner == item.document.pk]
                finished = sum(1 for i in mine if i < done)
                _set_progress(item.document.pk, 15 + int(75 * finished / len(mine)))

        try:
            vectors = embed_chunks(embedder, texts, report if len(texts) > _PROGRESS_BATCH else None)
        except EmbedderError as exc:
            # The embedder is a service that may come back: let the task retry, keep the documents pending.
            for item in group:
                _set_progress(
                    item.document.pk, 0, status=DocumentStatus.PENDING, status_reason=f"embedding failed, retrying: {exc}"
                )
            raise
        offset = 0
        for item in group:
            part = vectors[offset : offset + len(item.texts)]
            offset += len(item.texts)
            results[str(item.document.pk)] = _store_chunks(
                item.document, item.checksum, item.text, item.title, item.language, item.chunks, item.texts, part, embedder
            )
    return results


def _store_chunks(
    document: KnowledgeDocument,
    checksum: str,
    text: str,
    title: str,
    language: str,
    chunks: list[Chunk],
    texts: list[str],
    vectors: np.ndarray,
    embedder: Embedder,
) -> KnowledgeDocument | None:
    config = fts_config_for(language)
    with transaction.atomic():
        locked = KnowledgeDocument.objects.select_for_update().filter(pk=document.pk).first()
        if locked is None:
            return None
        if locked.checksum != checksum:
            return locked  # a newer version arrived while this one was embedding; its own task indexes it
        version = locked.version + 1
        tags = _merged_tags(document.source, locked)
        KnowledgeChunk.objects.filter(document=locked).delete()
        indexed = vectors.shape[1] == INDEXED_DIM
        KnowledgeChunk.objects.bulk_create(
            [
                KnowledgeChunk(
                    tenant_id=locked.tenant_id,
                    document=locked,
                    source_id=locked.source_id,
                    document_version=version,
                    position=chunk.position,
                    heading_path=list(chunk.heading_path),
                    text=chunk.text,
                    token_count=chunk.token_count,
                    language=language,
                    tags=tags,
                    fts_config=config,
                    embedding=vector if indexed else None,
                    embedding_other=None if indexed else vector,
                    embedder=embedder.signature,
                    metadata={"kind": chunk.kind},
                )
                for chunk, vector in zip(chunks, vectors, strict=True)
            ],
            batch_size=500,
        )
        _fill_search_vectors(locked.pk, title)
        KnowledgeDocument.objects.filter(pk=locked.pk).update(
            version=version,
            text=text,
            title=title[:500],
            language=language,
            status=DocumentStatus.READY,
            status_reason="",
            progress=100,
            chunk_count=len(chunks),
            indexed_at=timezone.now(),
            metadata={**locked.metadata, "indexed_checksum": checksum, "embedder": embedder.signature},
            updated_at=timezone.now(),
        )
    locked.refresh_from_db()
    return locked


def _fill_search_vectors(document_id: Any, title: str) -> None:
    """Headings (and the title) weigh more than body text in the full-text rank."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE knowledge_knowledgechunk SET search_vector = "
            "setweight(to_tsvector(fts_config::regconfig, %s || ' ' || array_to_string(heading_path, ' ')), 'A') || "
            "setweight(to_tsvector(fts_config::regconfig, text), 'B') WHERE document_id = %s",
            [title, document_id],
        )


# --- settings and the query log ------------------------------------------------------------------


def configure_embedder(*, tenant: Any, data: dict[str, Any]) -> KnowledgeSettings:
    """Set the tenant's embedder; when it changes, every document is re-indexed with the new one.

    A remote embedder is probed once so a wrong URL or dimension is a clear 400, not failed documents later.
    """
    from parley.knowledge.embedding import OpenAICompatibleEmbedder

    current = KnowledgeSettings.objects.filter(tenant=tenant).first() or KnowledgeSettings(tenant=tenant)
    before = (current.embedder_kind, current.base_url, current.model, current.dimension)
    for name, value in data.items():
        setattr(current, name, value)
    if current.embedder_kind == EmbedderKind.LOCAL:
        current.base_url, current.model, current.api_key, current.dimension = "", "", "", INDEXED_DIM
    else:
        if not current.base_url or not current.model:
            raise DomainError("an OpenAI-compatible embedder needs base_url and model")
        probe = OpenAICompatibleEmbedder(
            base_url=current.base_url, model=current.model, dimension=current.dimension, api_key=current.api_key, timeout_s=10
        )
        try:
            probe.embed(["dimension check"])
        except EmbedderError as exc:
            raise DomainError(f"the embedding server does not work with these settings: {exc}") from exc
    with transaction.atomic():
        current.save()
        if before != (current.embedder_kind, current.base_url, current.model, current.dimension):
            ids = list(KnowledgeDocument.objects.filter(tenant=tenant).exclude(file="").values_list("pk", flat=True))
            KnowledgeDocument.objects.filter(pk__in=ids).update(status=DocumentStatus.PENDING, progress=0)
            for pk in ids:
                transaction.on_commit(partial(_enqueue_index, pk, True))
    return current


def record_query(
    *, tenant_id: Any, query: str, results: list[Any], conversation_id: Any = None, embedding: np.ndarray | None = None
) -> None:
    """Log one assistant retrieval (question, best score, top chunk) for coverage reporting (after the
    reply when inside an assistant turn)."""
    best = results[0] if results else None
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "query": query[:2000],
        "best_score": max((r.score for r in results), default=0.0),
        "result_count": len(results),
        "top_chunk_id": best.chunk_id if best else None,
        "embedding": embedding.tolist() if embedding is not None else None,
    }

    def write() -> None:
        from parley.conversations.models import Conversation

        conversation = None
        if conversation_id:
            try:
                conversation = Conversation.objects.filter(tenant_id=tenant_id, pk=conversation_id).first()
            except (ValueError, DjangoValidationError):
                conversation = None
        KnowledgeQuery.objects.create(conversation=conversation, **fields)

    defer("knowledge_query", write)
