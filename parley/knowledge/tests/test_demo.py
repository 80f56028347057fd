"""The demo knowledge base answers the demo conversations, and seeding twice changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from parley.knowledge import demo
from parley.knowledge.models import KnowledgeChunk, KnowledgeDocument
from parley.knowledge.retrieval import WEAK_SCORE, search


@pytest.mark.django_db
def test_demo_knowledge_answers_the_demo_conversations(tenant: Any) -> None:
    demo.seed(tenant)
    chunk_ids = set(KnowledgeChunk.objects.filter(tenant=tenant).values_list("pk", flat=True))
    demo.seed(tenant)
    assert set(KnowledgeChunk.objects.filter(tenant=tenant).values_list("pk", flat=True)) == chunk_ids
    assert KnowledgeDocument.objects.filter(tenant=tenant, status="ready").count() == len(demo.ARTICLES)
    expectations = {
        "Hi, where is my order #1001? It was supposed to arrive yesterday.": (
            "Shipping and delivery",
            {"My order is late", "Tracking your order", "Delivery times"},
        ),
        "How do I reset my password?": ("Account and password", {"Resetting your password"}),
        "I want a refund for order #1002, the mug arrived broken.": ("Returns and refunds", {"Damaged or broken items"}),
        "When are you open on Saturday?": ("Opening hours and contact", {"Opening hours"}),
        "Can I pay with PayPal?": ("Payment methods", {"Accepted payment methods"}),
    }
    for question, (title, sections) in expectations.items():
        top = search(tenant=tenant, query=question, k=3)[0]
        assert top.document_title == title, (question, top)
        assert top.heading_path[-1] in sections, (question, top.heading_path)
        assert top.score >= WEAK_SCORE, (question, top.score)
