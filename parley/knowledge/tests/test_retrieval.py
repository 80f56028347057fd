"""Hybrid retrieval over real PostgreSQL + pgvector with the real MiniLM embedder."""

from __future__ import annotations

from typing import Any

import pytest

from parley.knowledge.embedding import LocalEmbedder
from parley.knowledge.models import KnowledgeQuery
from parley.knowledge.retrieval import WEAK_SCORE, _Filters, reciprocal_rank_fusion, search, text_candidates
from parley.knowledge.tests.helpers import index_text, make_source
from parley.testing import factories

SHIPPING = """# Shipping

## Delivery times
Standard delivery takes 3-5 business days within the EU. Express delivery arrives the next business day
when you order before 2 pm.

## Tracking your order
Every order gets a tracking link by email as soon as it leaves our warehouse.
"""
ACCOUNT = """# Account help

## Resetting your password
Click "Forgot password" on the sign-in page and enter your email address. We send a reset link that is
valid for 30 minutes.
"""
RETURNS = """# Returns and refunds

## Damaged items
If an item arrives broken or damaged, send us a photo within 14 days and we refund it in full, including shipping.
"""


@pytest.fixture
def knowledge(tenant: Any) -> dict[str, Any]:
    shop = make_source(tenant, "Help centre", tags=["public"])
    internal = make_source(tenant, "Internal", tags=["internal"])
    return {
        "shop": shop,
        "internal": internal,
        "shipping": index_text(shop, "Shipping", SHIPPING),
        "account": index_text(shop, "Account", ACCOUNT),
        "returns": index_text(internal, "Returns", RETURNS),
    }


def test_rrf_rewards_items_found_by_both_rankers() -> None:
    fused = reciprocal_rank_fusion(["a", "b", "c"], ["c", "d"])
    assert fused[0][0] == "c"
    assert {item for item, _ in fused} == {"a", "b", "c", "d"}


@pytest.mark.django_db
def test_search_finds_the_right_section_with_a_citation(tenant: Any, knowledge: dict[str, Any]) -> None:
    results = search(tenant=tenant, query="how long does delivery take?", k=3)
    top = results[0]
    assert top.document_id == str(knowledge["shipping"].pk)
    assert top.heading_path == ["Shipping", "Delivery times"]
    assert "3-5 business days" in top.text
    assert top.source_name == "Help centre"
    assert top.score >= WEAK_SCORE
    assert 0 < top.vector_score <= 1 and 0 < top.text_score <= 1

    password = search(tenant=tenant, query="I forgot my password", k=1)[0]
    assert password.document_id == str(knowledge["account"].pk)


@pytest.mark.django_db
def test_unrelated_questions_score_below_the_threshold(tenant: Any, knowledge: dict[str, Any]) -> None:
    results = search(tenant=tenant, query="what is the capital of mongolia", k=3)
    assert all(result.score < WEAK_SCORE for result in results)


@pytest.mark.django_db
def test_filters_by_source_tags_and_language(tenant: Any, knowledge: dict[str, Any]) -> None:
    query = "my mug arrived broken, can I get a refund?"
    assert search(tenant=tenant, query=query, k=1)[0].document_id == str(knowledge["returns"].pk)
    only_shop = search(tenant=tenant, query=query, k=5, source_ids=[knowledge["shop"].pk])
    assert only_shop and all(r.source_name == "Help centre" for r in only_shop)
    assert all(r.source_name == "Internal" for r in search(tenant=tenant, query=query, tags=["internal"]))
    assert search(tenant=tenant, query=query, language="en")
    # no German content: the language filter is ignored rather than hiding every answer
    assert search(tenant=tenant, query=query, language="de", k=1)[0].document_id == str(knowledge["returns"].pk)
    german = index_text(
        knowledge["shop"], "Rückgabe", "# Rückgabe\n\nBeschädigte Artikel erstatten wir vollständig, schicken Sie uns ein Foto."
    )
    assert {r.document_id for r in search(tenant=tenant, query=query, language="de")} == {str(german.pk)}
    assert search(tenant=tenant, query=query, source_ids=["not-a-uuid"]) == []


@pytest.mark.django_db
def test_other_tenants_knowledge_is_invisible(tenant: Any, other_tenant: Any, knowledge: dict[str, Any]) -> None:
    assert search(tenant=other_tenant, query="how long does delivery take?") == []
    index_text(make_source(other_tenant, "Globex"), "Globex shipping", SHIPPING)
    results = search(tenant=tenant, query="how long does delivery take?", k=10)
    assert {r.source_name for r in results} <= {"Help centre", "Internal"}


@pytest.mark.django_db
def test_a_disabled_source_is_not_searched_and_only_its_tenant_is_affected(
    tenant: Any, other_tenant: Any, knowledge: dict[str, Any]
) -> None:
    from parley.knowledge.actions import update_source

    query = "my mug arrived broken, can I get a refund?"
    globex = make_source(other_tenant, "Globex")
    index_text(globex, "Globex returns", RETURNS)
    update_source(source=globex, changes={"enabled": False})  # another tenant's switch changes nothing here
    assert search(tenant=tenant, query=query, k=1)[0].document_id == str(knowledge["returns"].pk)
    assert search(tenant=other_tenant, query=query) == []

    update_source(source=knowledge["internal"], changes={"enabled": False})
    results = search(tenant=tenant, query=query, k=10)
    assert results and {r.source_name for r in results} == {"Help centre"}
    update_source(source=knowledge["internal"], changes={"enabled": True})
    assert search(tenant=tenant, query=query, k=1)[0].document_id == str(knowledge["returns"].pk)


@pytest.mark.django_db
class ReverseReranker:
    def rerank(self, query: str, chunks: list[Any]) -> list[Any]:
        return list(reversed(chunks))


@pytest.mark.django_db
def test_the_optional_reranker_reorders_the_fused_candidates(tenant: Any, knowledge: dict[str, Any], settings: Any) -> None:
    plain = search(tenant=tenant, query="how long does delivery take?", k=3)
    settings.KNOWLEDGE_RERANKER = "parley.knowledge.tests.test_retrieval.ReverseReranker"
    reranked = search(tenant=tenant, query="how long does delivery take?", k=3)
    assert reranked[0].chunk_id != plain[0].chunk_id
    assert plain[0].chunk_id not in {r.chunk_id for r in reranked}  # 4 candidates reversed, 3 kept


@pytest.mark.django_db
def test_blank_query_returns_nothing_and_record_logs_the_best_score(tenant: Any, knowledge: dict[str, Any]) -> None:
    assert search(tenant=tenant, query="   ") == []
    conversation = factories.make_conversation(factories.make_channel(tenant), "where is my parcel")
    results = search(tenant=tenant, query="where is my parcel", record=True, conversation_id=conversation.pk)
    logged = KnowledgeQuery.objects.get(tenant=tenant)
    assert logged.query == "where is my parcel"
    assert logged.best_score == pytest.approx(max(r.score for r in results))
    assert logged.conversation_id == conversation.pk
    assert logged.top_chunk_id is not None and str(logged.top_chunk_id) == results[0].chunk_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "limit"),
    [
        ("how long does delivery take", 20),  # no chunk holds every term: the any-term pass fills up
        ("express delivery", 20),  # some chunks hold both terms, others one
        ("express delivery", 1),  # the every-term pass alone fills the limit
        ("password reset link email", 2),
        ("tractor", 20),  # nothing
    ],
)
def test_text_search_in_one_round_trip_finds_the_same_chunks_in_the_same_order(
    tenant: Any, knowledge: dict[str, Any], query: str, limit: int
) -> None:
    filters = _Filters(
        tenant_id=str(tenant.pk),
        source_ids=None,
        tags=None,
        language=None,
        excluded_sources=[],
        embedder=LocalEmbedder().signature,
    )
    two_trips = text_candidates(filters, query, ["english"], limit)
    one_trip = text_candidates(filters, query, ["english"], limit, one_trip=True)
    assert one_trip == two_trips
    if query != "tractor":
        assert two_trips
