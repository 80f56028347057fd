"""Knowledge objects of another tenant, for the core route-leak test."""

from __future__ import annotations

from typing import Any

from parley.knowledge.models import KnowledgeDocument, KnowledgeSource


def knowledge_objects(other: Any) -> dict[type, Any]:
    source = KnowledgeSource.objects.create(tenant=other, name="Globex secret handbook")
    document = KnowledgeDocument.objects.create(tenant=other, source=source, external_ref="secret.md", title="Globex secrets")
    return {KnowledgeSource: source, KnowledgeDocument: document}
