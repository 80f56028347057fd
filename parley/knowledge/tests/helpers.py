"""Test helpers: index documents synchronously through the real actions."""

from __future__ import annotations

from typing import Any

from parley.knowledge import actions
from parley.knowledge.models import KnowledgeDocument, KnowledgeSource


def make_source(tenant: Any, name: str = "Help centre", **kwargs: Any) -> KnowledgeSource:
    return actions.create_source(tenant=tenant, data={"name": name, **kwargs}, sync=False)


def index_text(source: KnowledgeSource, title: str, text: str, tags: list[str] | None = None) -> KnowledgeDocument:
    result = actions.add_text_document(source=source, title=title, text=text, tags=tags, enqueue=False)
    document = actions.index_document(document_id=result.document.pk)
    assert document is not None
    return document


def index_file(source: KnowledgeSource, filename: str, data: bytes, content_type: str = "") -> KnowledgeDocument:
    result = actions.add_document(source=source, data=data, filename=filename, content_type=content_type, enqueue=False)
    document = actions.index_document(document_id=result.document.pk)
    assert document is not None
    return document
