"""Ingest files from disk (``parley knowledge ingest`` and ``manage knowledge_ingest``)."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.core.errors import DomainError
from parley.knowledge import actions
from parley.knowledge.models import DocumentStatus, KnowledgeSource
from parley.knowledge.parsing import SUPPORTED_EXTENSIONS


@dataclass
class IngestSummary:
    """Counts per outcome, and the reason for each file that failed."""

    indexed: int = 0
    unchanged: int = 0
    queued: int = 0
    empty: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    chunks: int = 0


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus supported files found (recursively) in the directories named."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {path}")
    return files


def ingest_files(
    *,
    source: KnowledgeSource,
    files: list[Path],
    tags: list[str] | None = None,
    background: bool = False,
    on_file: Callable[[Path, Any], None] | None = None,
    batch_documents: int = 16,
) -> IngestSummary:
    """Add each file to ``source`` and index it now (or queue it with ``background``).

    Args:
        source: the source the documents belong to; a file's path (as given) is its identity.
        files: files to ingest.
        tags: tags put on every document.
        background: queue indexing on the ``embeddings`` workers instead of indexing in this process.
        on_file: called after each file with the path and its document (for progress bars).
        batch_documents: how many changed documents are embedded together.
    """
    summary = IngestSummary()
    pending: list[tuple[Path, Any]] = []

    def finish(path: Path, document: Any) -> None:
        if document.status == DocumentStatus.READY:
            summary.indexed += 1
            summary.chunks += document.chunk_count
        elif document.status == DocumentStatus.EMPTY:
            summary.empty += 1
        else:
            summary.failed[str(path)] = document.status_reason
        if on_file is not None:
            on_file(path, document)

    def flush() -> None:
        # Documents are embedded together (fewer, fuller model batches), then stored one by one.
        done = actions.index_documents(document_ids=[document.pk for _, document in pending])
        for path, document in pending:
            finish(path, done.get(str(document.pk)) or document)
        pending.clear()

    for path in files:
        try:
            result = actions.add_document(
                source=source,
                data=path.read_bytes(),
                filename=path.name,
                external_ref=str(path),
                content_type=mimetypes.guess_type(path.name)[0] or "",
                tags=tags,
                enqueue=background,
            )
        except DomainError as exc:
            summary.failed[str(path)] = exc.message
            continue
        if not result.changed:
            summary.unchanged += 1
        elif background:
            summary.queued += 1
        else:
            pending.append((path, result.document))
            if len(pending) >= batch_documents:
                flush()
            continue
        if on_file is not None:
            on_file(path, result.document)
    if pending:
        flush()
    return summary
