"""Hybrid retrieval: pgvector cosine k-NN + PostgreSQL full text, fused by reciprocal rank fusion.

``search()`` is the interface the assistant uses (its ``search_knowledge`` tool) and the API's
``GET /api/v1/knowledge/search`` calls. Scores:

- ``vector_score``: cosine similarity of query and chunk embeddings, clipped to 0..1;
- ``text_score``: ``ts_rank_cd`` of the chunk for the query (OR of its terms), scaled to 0..1;
- ``score``: a calibrated 0..1 relevance mixing both (see :func:`calibrated_score`), so that one threshold
  (``WEAK_SCORE``) separates answered from unanswered questions. Ordering is by RRF.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils.module_loading import import_string
from pydantic import BaseModel, Field

from parley.knowledge.embedding import Embedder, LocalEmbedder, embedder_for_tenant
from parley.knowledge.models import INDEXED_DIM, KnowledgeDocument
from parley.knowledge.text import fts_config_for

#: RRF constant (Cormack et al. 2009).
RRF_K = 60
#: Weight of the full-text ranking in the fusion (vector ranking: 1.0). Chosen on a Bitext validation
#: sample (instructions disjoint from the ones bench/retrieval_quality.py reports on): there, full text
#: over agent-written answers is noisy (recall@5 0.93 at weight 1.0, 0.96 at 0.15, 0.985 vector-only),
#: so it mostly re-orders the semantic candidates and rescues exact terms (order numbers, product names).
TEXT_RRF_WEIGHT = 0.15
#: At most this many chunks matching some query term are ranked (bounds full-text work on large bases).
TEXT_OR_SCAN_CAP = 2000
#: HNSW candidate list size (pgvector ``hnsw.ef_search``); higher = better recall, slower.
EF_SEARCH = 200
#: Up to this many chunks a tenant's base is scanned exactly instead of walking the HNSW index.
EXACT_SCAN_BELOW = 2000
#: Below this calibrated score a question counts as weakly answered in coverage reports.
WEAK_SCORE = 0.5
# Calibration of cosine similarity to a 0..1 relevance: a logistic curve centred where MiniLM
# similarities stop meaning "about the same thing". The centre and slope are set by hand from the
# score distributions bench/retrieval_quality.py prints; they are not yet fitted on data.
_CALIBRATION_CENTRE = 0.42
_CALIBRATION_SLOPE = 12.0
_TEXT_WEIGHT = 0.15


class RetrievedChunk(BaseModel):
    """A chunk returned by :func:`search`, with its citation and scores."""

    chunk_id: str
    document_id: str
    document_title: str
    source_name: str
    url: str = ""
    heading_path: list[str] = Field(default_factory=list)
    text: str
    score: float = Field(ge=0.0, le=1.0, description="Calibrated relevance 0..1; below 0.5 is a weak answer")
    vector_score: float
    text_score: float


class Reranker(Protocol):
    """Optional second stage: reorders the fused candidates (e.g. a cross-encoder)."""

    def rerank(self, query: str, chunks: list[RetrievedChunk]) -> list[RetrievedChunk]:
        """Return ``chunks`` in a better order (may drop some); scores may be updated.

        Args:
            query: the user's question.
            chunks: fused candidates, best first.
        """
        ...


def calibrated_score(vector_score: float, text_score: float) -> float:
    """Map (cosine similarity, full-text rank) to a 0..1 relevance where 0.5 is the answer threshold."""
    vector_part = 1.0 / (1.0 + math.exp(-_CALIBRATION_SLOPE * (vector_score - _CALIBRATION_CENTRE)))
    value = (1.0 - _TEXT_WEIGHT) * vector_part + _TEXT_WEIGHT * min(1.0, text_score)
    return round(max(0.0, min(1.0, value)), 6)


@dataclass
class _Filters:
    tenant_id: str
    source_ids: list[str] | None
    tags: list[str] | None
    language: str | None
    excluded_sources: list[str]
    embedder: str

    def sql(self) -> tuple[str, list[Any]]:
        clauses = ["c.tenant_id = %s", "c.embedder = %s"]
        params: list[Any] = [self.tenant_id, self.embedder]
        if self.source_ids is not None:
            clauses.append("c.source_id = ANY(%s::uuid[])")
            params.append(self.source_ids)
        if self.excluded_sources:
            clauses.append("NOT (c.source_id = ANY(%s::uuid[]))")
            params.append(self.excluded_sources)
        if self.tags:
            clauses.append("c.tags && %s::varchar[]")
            params.append(self.tags)
        if self.language:
            clauses.append("c.language = %s")
            params.append(self.language)
        return " AND ".join(clauses), params


def _vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(map("{:.7g}".format, np.asarray(vector, dtype=np.float64).tolist())) + "]"


def _normalise_ids(values: Iterable[Any] | None) -> list[str] | None:
    if values is None:
        return None
    result = []
    for value in values:
        try:
            result.append(str(uuid.UUID(str(value))))
        except ValueError:
            continue  # an id that cannot exist matches nothing
    return result


def vector_candidates(
    filters: _Filters, query_vector: np.ndarray, limit: int, *, exact: bool = False, ef_search: int | None = None
) -> list[tuple[str, float]]:
    """Chunk ids and cosine similarity, nearest first (HNSW; exact scan when ``exact``).

    The HNSW index filters after the graph walk, so a narrow filter can leave fewer than ``limit``
    rows; then the same query runs as an exact scan, which is cheap precisely because the filter is narrow.
    """
    where, params = filters.sql()
    column = "embedding" if len(query_vector) == INDEXED_DIM else "embedding_other"
    literal = _vector_literal(query_vector)
    cast = f"::vector({INDEXED_DIM})" if column == "embedding" else "::vector"
    # exact: ordering by an expression the HNSW index cannot serve (``+ 0``) makes it a scan, without
    # a transaction and a SET LOCAL (three more round trips)
    order = f"(c.{column} <=> %s{cast}) + 0" if exact else f"c.{column} <=> %s{cast}"
    sql = (
        f"SELECT c.id::text, 1 - (c.{column} <=> %s{cast}) FROM knowledge_knowledgechunk c "  # noqa: S608
        f"WHERE {where} AND c.{column} IS NOT NULL ORDER BY {order} LIMIT %s"
    )
    if exact:
        with connection.cursor() as cursor:
            cursor.execute(sql, [literal, *params, literal, limit])
            return [(row[0], float(row[1])) for row in cursor.fetchall()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search or max(EF_SEARCH, limit * 2))}")
        cursor.execute(sql, [literal, *params, literal, limit])
        rows = [(row[0], float(row[1])) for row in cursor.fetchall()]
    if not exact and len(rows) < limit:
        return vector_candidates(filters, query_vector, limit, exact=True)
    return rows


# plainto_tsquery ANDs the terms; customer questions need OR (rank then rewards matching more terms).
_TSQUERY = "replace(plainto_tsquery(%s::regconfig, %s)::text, ' & ', ' | ')::tsquery"
_TSQUERY_ALL = "plainto_tsquery(%s::regconfig, %s)"


def text_candidates(
    filters: _Filters, query: str, configs: Sequence[str], limit: int, *, one_trip: bool = False
) -> list[tuple[str, float]]:
    """Chunk ids and ``ts_rank_cd`` (normalised to 0..1), best first, over each text-search config in use.

    Chunks holding every query term come first (a selective GIN lookup, fully ranked). When they are
    fewer than ``limit``, chunks holding some of the terms fill up, ranked among at most
    ``TEXT_OR_SCAN_CAP`` matches so a common word over a large base costs a bounded amount of work.
    ``one_trip`` (a small base, where the second pass costs little): both passes in one statement, one
    round trip instead of two, with the same result.
    """
    if not configs:
        return []
    if one_trip:
        all_sql, all_params = _text_pass_sql(filters, query, configs, limit, _TSQUERY_ALL, cap=None)
        any_sql, any_params = _text_pass_sql(filters, query, configs, limit, _TSQUERY, cap=TEXT_OR_SCAN_CAP)
        sql = (
            f"SELECT 0 AS pass, id, rank FROM ({all_sql}) AS every_term "  # noqa: S608 - built from fixed fragments
            f"UNION ALL SELECT 1, id, rank FROM ({any_sql}) AS some_terms ORDER BY pass, rank DESC"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*all_params, *any_params])
            rows = cursor.fetchall()
        hits = [(row[1], float(row[2])) for row in rows if row[0] == 0]
        extra = [(row[1], float(row[2])) for row in rows if row[0] == 1]
    else:
        hits = _text_pass(filters, query, configs, limit, _TSQUERY_ALL, cap=None)
        extra = _text_pass(filters, query, configs, limit, _TSQUERY, cap=TEXT_OR_SCAN_CAP) if len(hits) < limit else []
    if len(hits) < limit:
        seen = {cid for cid, _ in hits}
        hits.extend((cid, rank) for cid, rank in extra if cid not in seen)
    return [(cid, min(1.0, rank * 2.0)) for cid, rank in hits[:limit]]


def _text_pass_sql(
    filters: _Filters, query: str, configs: Sequence[str], limit: int, tsquery: str, cap: int | None
) -> tuple[str, list[Any]]:
    where, params = filters.sql()
    parts, all_params = [], []
    for config in configs:
        # Only fixed SQL fragments are interpolated; every value is a parameter.
        matches = (
            f"SELECT c.id, c.search_vector FROM knowledge_knowledgechunk c WHERE {where} "  # noqa: S608
            f"AND c.fts_config = %s AND c.search_vector @@ {tsquery}" + (" LIMIT %s" if cap else "")
        )
        parts.append(
            f"(SELECT m.id::text AS id, ts_rank_cd(m.search_vector, {_TSQUERY}, 32) AS rank "  # noqa: S608
            f"FROM ({matches}) AS m ORDER BY rank DESC LIMIT %s)"
        )
        all_params.extend([config, query, *params, config, config, query, *([cap] if cap else []), limit])
    sql = "SELECT id, rank FROM (" + " UNION ALL ".join(parts) + ") AS hits ORDER BY rank DESC LIMIT %s"  # noqa: S608
    return sql, [*all_params, limit]


def _text_pass(
    filters: _Filters, query: str, configs: Sequence[str], limit: int, tsquery: str, cap: int | None
) -> list[tuple[str, float]]:
    sql, params = _text_pass_sql(filters, query, configs, limit, tsquery, cap)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], float(row[1])) for row in cursor.fetchall()]


def reciprocal_rank_fusion(
    *rankings: Sequence[str], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Fuse ranked id lists: each id scores the sum of ``weight / (k + rank)`` over the lists it appears in."""
    scores: dict[str, float] = {}
    for index, ranking in enumerate(rankings):
        weight = weights[index] if weights is not None else 1.0
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def _details(ids: list[str], query_vector: np.ndarray, query: str) -> dict[str, dict[str, Any]]:
    column = "embedding" if len(query_vector) == INDEXED_DIM else "embedding_other"
    cast = f"::vector({INDEXED_DIM})" if column == "embedding" else "::vector"
    sql = (
        f"SELECT c.id::text, c.document_id::text, d.title, d.external_ref, d.url, s.name, c.heading_path, c.text, "  # noqa: S608
        f"1 - (c.{column} <=> %s{cast}), "
        "ts_rank_cd(c.search_vector, replace(plainto_tsquery(c.fts_config::regconfig, %s)::text, ' & ', ' | ')::tsquery, 32) "
        "FROM knowledge_knowledgechunk c JOIN knowledge_knowledgedocument d ON d.id = c.document_id "
        "JOIN knowledge_knowledgesource s ON s.id = c.source_id WHERE c.id = ANY(%s::uuid[])"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_vector_literal(query_vector), query, ids])
        rows = cursor.fetchall()
    return {
        row[0]: {
            "chunk_id": row[0],
            "document_id": row[1],
            "document_title": row[2] or row[3],
            "url": row[4] or "",
            "source_name": row[5],
            "heading_path": list(row[6] or []),
            "text": row[7],
            "vector_score": max(0.0, min(1.0, float(row[8] or 0.0))),
            "text_score": min(1.0, float(row[9] or 0.0) * 2.0),
        }
        for row in rows
    }


def _text_configs(tenant_id: str, language: str | None) -> list[str]:
    if language:
        return [fts_config_for(language)]
    languages = KnowledgeDocument.objects.filter(tenant_id=tenant_id).values_list("language", flat=True).distinct()
    return sorted({fts_config_for(code) for code in languages})


def _chunk_counts(tenant_id: str, language: str | None) -> tuple[list[str], int, int]:
    """The tenant's disabled sources, its chunk count, and how many chunks are in ``language`` (0
    without a language): one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(chunk_count), 0), coalesce(sum(chunk_count) FILTER (WHERE language = %s), 0), "
            "(SELECT coalesce(array_agg(s.id::text), '{}') FROM knowledge_knowledgesource s "
            "WHERE s.tenant_id = %s AND NOT s.enabled) "
            "FROM knowledge_knowledgedocument WHERE tenant_id = %s",
            [language or "", tenant_id, tenant_id],
        )
        row = cursor.fetchone()
    return (list(row[2] or []), int(row[0]), int(row[1])) if row else ([], 0, 0)


def _reranker() -> Reranker | None:
    path = getattr(settings, "KNOWLEDGE_RERANKER", "")
    return import_string(path)() if path else None


def hybrid_search(
    *,
    tenant_id: str,
    query: str,
    query_vector: np.ndarray,
    embedder: Embedder,
    k: int = 5,
    source_ids: Iterable[Any] | None = None,
    tags: Iterable[str] | None = None,
    language: str | None = None,
    mode: str = "hybrid",
) -> list[RetrievedChunk]:
    """The retrieval core, given an already embedded query. ``mode``: hybrid, vector or text (for benchmarks)."""
    excluded, total_chunks, in_language = _chunk_counts(tenant_id, language)
    if language and not in_language:
        # No content in that language at all: the filter would only hide every answer (and a short
        # message's detected language is often wrong), so search everything; the assistant can translate.
        language = None
    filters = _Filters(
        tenant_id=tenant_id,
        source_ids=_normalise_ids(source_ids),
        tags=[str(tag) for tag in tags] if tags else None,
        language=language or None,
        excluded_sources=excluded,
        embedder=embedder.signature,
    )
    pool = max(k * 4, 20)
    # a small base is scanned exactly: as fast as the index there, and one round trip instead of up to five
    exact = total_chunks <= EXACT_SCAN_BELOW
    vector_ids = [cid for cid, _ in vector_candidates(filters, query_vector, pool, exact=exact)] if mode != "text" else []
    text_ids = (
        [cid for cid, _ in text_candidates(filters, query, _text_configs(tenant_id, language), pool, one_trip=exact)]
        if mode != "vector"
        else []
    )
    fused = reciprocal_rank_fusion(vector_ids, text_ids, weights=(1.0, TEXT_RRF_WEIGHT))
    reranker = _reranker()
    keep = [cid for cid, _ in fused[: k * 2 if reranker else k]]
    if not keep:
        return []
    details = _details(keep, query_vector, query)
    chunks = [
        RetrievedChunk(**details[cid], score=calibrated_score(details[cid]["vector_score"], details[cid]["text_score"]))
        for cid in keep
        if cid in details
    ]
    if reranker is not None:
        chunks = reranker.rerank(query, chunks)
    return chunks[:k]


def _clean_query(query: str | None) -> str:
    return (query or "").strip()[:2000]


def prepare_query(*, tenant: Any, query: str) -> Embedder:
    """The tenant's embedder, with ``query`` already being embedded in the background when the embedder
    is the local MiniLM: a later :func:`search` for the same query (given this embedder) finds its vector
    ready, or waits for it, instead of computing it after whatever the caller did in between. A remote
    embedder is called by :func:`search` as usual."""
    embedder = embedder_for_tenant(getattr(tenant, "pk", tenant))
    cleaned = _clean_query(query)
    if cleaned and isinstance(embedder, LocalEmbedder):
        from parley.intelligence.embeddings import encode_soon

        encode_soon(cleaned)
    return embedder


def search(
    *,
    tenant: Any,
    query: str,
    k: int = 5,
    source_ids: Iterable[Any] | None = None,
    tags: Iterable[str] | None = None,
    language: str | None = None,
    conversation_id: Any = None,
    record: bool = False,
    embedder: Embedder | None = None,
) -> list[RetrievedChunk]:
    """Search the tenant's knowledge base.

    Args:
        tenant: a Tenant (or its id); only its chunks are searched.
        query: the question, in natural language.
        k: how many chunks to return (1..50).
        source_ids: only these sources; tags: chunks carrying any of these tags.
        language: ISO 639-1 code; only chunks in that language, unless the tenant has no content in
            that language at all (then the filter is ignored rather than hiding every answer).
        conversation_id: the conversation the question came from (kept with the recorded query).
        record: log the query and its best score for coverage reporting (the assistant sets it).
        embedder: the tenant's embedder, when the caller has it already (:func:`prepare_query`).
    Returns:
        Up to ``k`` chunks, best first, each with its citation (document, source, url, heading path)
        and scores; an empty list when nothing matches or the query is blank.
    """
    tenant_id = str(getattr(tenant, "pk", tenant))
    query = _clean_query(query)
    k = max(1, min(int(k), 50))
    if not query:
        return []
    embedder = embedder or embedder_for_tenant(tenant_id)
    query_vector = embedder.embed([query])[0]
    results = hybrid_search(
        tenant_id=tenant_id,
        query=query,
        query_vector=query_vector,
        embedder=embedder,
        k=k,
        source_ids=source_ids,
        tags=tags,
        language=language,
    )
    if record:
        from parley.knowledge.actions import record_query

        record_query(tenant_id=tenant_id, query=query, results=results, conversation_id=conversation_id, embedding=query_vector)
    return results
