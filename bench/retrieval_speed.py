"""Search latency and HNSW recall with 100,000 indexed chunks.

Embedding 100k texts with MiniLM on 2 CPU cores takes too long, so the bulk vectors are SYNTHETIC:
mixtures of two real MiniLM embeddings (Bitext customer instructions + responses) plus a little
Gaussian noise, unit-normalised, which keeps them where real sentence embeddings live. Each synthetic chunk
carries the text of the sentence it was derived from, so full text has realistic work too.
Queries are real MiniLM embeddings of held-back instructions.

Figure: p50/p95 latency of the HNSW vector search (``vector_candidates``, k=10) and its recall@10
against an exact scan of the same rows in the same run (the baseline). Also the p50/p95 of the whole
hybrid search (vector + full text + fusion + citations), and the exact scan's own latency.

    .venv/bin/python bench/retrieval_speed.py [--chunks 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import csv
import random
import time
import uuid

import numpy as np
from _common import emit, percentile, setup_django
from retrieval_quality import datasets_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=600, help="real sentences embedded to derive the bulk from")
    args = parser.parse_args()
    services = setup_django("bench-knowledge")
    try:
        run(args.chunks, args.queries, args.seeds)
    finally:
        services.stop()


def _sentences(limit: int, rng: random.Random) -> tuple[list[str], list[str]]:
    path = datasets_dir() / "bitext" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rng.shuffle(rows)
    corpus = []
    for row in rows:
        corpus.append(row["instruction"])
        corpus.append(" ".join(row["response"].split())[:600])
    held_back = [row["instruction"] for row in rows[-400:]]
    return corpus[:limit], held_back


def _bulk_load(tenant_id: str, source_id: str, document_id: str, seeds: list[str], seed_vectors: np.ndarray, count: int) -> float:
    from django.db import connection
    from pgvector.psycopg import register_vector

    rng = np.random.default_rng(7)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM knowledge_knowledgechunk WHERE tenant_id = %s", [tenant_id])
        cursor.execute("DROP INDEX IF EXISTS knowledge_chunk_embedding_hnsw")
    raw = connection.connection
    register_vector(raw)
    columns = (
        "id, created_at, updated_at, metadata, tenant_id, document_id, source_id, document_version, position, "
        "heading_path, text, token_count, language, tags, fts_config, embedding, embedder"
    )
    batch = 5000
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY knowledge_knowledgechunk ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy,
    ):
        copy.set_types(
            [
                "uuid",
                "timestamptz",
                "timestamptz",
                "jsonb",
                "uuid",
                "uuid",
                "uuid",
                "int4",
                "int4",
                "varchar[]",
                "text",
                "int4",
                "varchar",
                "varchar[]",
                "varchar",
                "vector",
                "varchar",
            ]
        )
        now = time.time()
        from datetime import UTC, datetime

        stamp = datetime.fromtimestamp(now, UTC)
        from psycopg.types.json import Jsonb

        for start in range(0, count, batch):
            size = min(batch, count - start)
            # Each synthetic vector mixes two real embeddings (random weights) plus a little noise: it stays
            # in the region real sentence embeddings occupy without piling up as near-duplicates.
            picks = rng.integers(0, len(seeds), size=size)
            partners = rng.integers(0, len(seeds), size=size)
            weights = rng.uniform(0.2, 0.8, size=(size, 1)).astype(np.float32)
            noise = rng.normal(0.0, 0.02, size=(size, seed_vectors.shape[1])).astype(np.float32)
            vectors = seed_vectors[picks] + weights * seed_vectors[partners] + noise
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            for offset in range(size):
                text = seeds[picks[offset]]
                copy.write_row(
                    [
                        uuid.uuid4(),
                        stamp,
                        stamp,
                        Jsonb({}),
                        uuid.UUID(tenant_id),
                        uuid.UUID(document_id),
                        uuid.UUID(source_id),
                        1,
                        start + offset,
                        ["Synthetic"],
                        text,
                        len(text.split()),
                        "en",
                        [],
                        "english",
                        vectors[offset],
                        "local:all-MiniLM-L6-v2",
                    ]
                )
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE knowledge_knowledgechunk SET search_vector = to_tsvector('english', text) WHERE tenant_id = %s", [tenant_id]
        )
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(
            "CREATE INDEX knowledge_chunk_embedding_hnsw ON knowledge_knowledgechunk "
            "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        )
        cursor.execute("ANALYZE knowledge_knowledgechunk")
    return time.perf_counter() - started


def run(chunks: int, queries: int, seed_count: int) -> None:
    from parley.accounts.models import Tenant
    from parley.knowledge import actions
    from parley.knowledge.embedding import LocalEmbedder
    from parley.knowledge.models import KnowledgeChunk, KnowledgeDocument
    from parley.knowledge.retrieval import _Filters, hybrid_search, vector_candidates
    from parley.testing.factories import make_tenant

    rng = random.Random(11)
    embedder = LocalEmbedder()
    seeds, held_back = _sentences(seed_count, rng)
    Tenant.objects.filter(slug="bench-speed").delete()  # a previous run's 100k chunks
    tenant = make_tenant("bench-speed", "Bench speed")
    source = actions.create_source(tenant=tenant, data={"name": "Synthetic"}, sync=False)
    document = KnowledgeDocument.objects.create(
        tenant=tenant, source=source, external_ref="synthetic", title="Synthetic", status="ready", language="en"
    )
    existing = KnowledgeChunk.objects.exclude(tenant=tenant).count()
    embed_started = time.perf_counter()
    seed_vectors = embedder.embed(seeds)
    embed_s = time.perf_counter() - embed_started
    load_s = _bulk_load(str(tenant.pk), str(source.pk), str(document.pk), seeds, seed_vectors, chunks)
    query_texts = held_back[:queries]
    query_vectors = embedder.embed(query_texts)
    filters = _Filters(
        tenant_id=str(tenant.pk), source_ids=None, tags=None, language=None, excluded_sources=[], embedder=embedder.signature
    )

    for vector in query_vectors[:10]:  # warm the index and caches
        vector_candidates(filters, vector, 10)
    hnsw_ms, exact_ms, recalls = [], [], []
    for vector in query_vectors:
        started = time.perf_counter()
        approximate = vector_candidates(filters, vector, 10)
        hnsw_ms.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        exact = vector_candidates(filters, vector, 10, exact=True)
        exact_ms.append(1000 * (time.perf_counter() - started))
        truth = {cid for cid, _ in exact}
        recalls.append(len(truth & {cid for cid, _ in approximate}) / max(len(truth), 1))
    hybrid_ms = []
    for text, vector in zip(query_texts, query_vectors, strict=True):
        started = time.perf_counter()
        hybrid_search(tenant_id=str(tenant.pk), query=text, query_vector=vector, embedder=embedder, k=5)
        hybrid_ms.append(1000 * (time.perf_counter() - started))
    p95 = percentile(hnsw_ms, 95)
    recall = float(np.mean(recalls))
    emit(
        {
            "bench": "retrieval_speed",
            "chunks_indexed": chunks,
            "note": "bulk vectors are SYNTHETIC: mixtures of two real MiniLM embeddings (weights 1 and U(0.2, 0.8)) "
            f"of {len(seeds)} Bitext sentences plus Gaussian noise (sigma 0.02), re-normalised; queries are real "
            "MiniLM embeddings of held-back instructions; ef_search as in retrieval.EF_SEARCH",
            "queries": len(query_vectors),
            "figure": {
                "hnsw_p50_ms": round(percentile(hnsw_ms, 50), 2),
                "hnsw_p95_ms": round(p95, 2),
                "recall@10_vs_exact": round(recall, 4),
            },
            "baseline_exact_scan": {"p50_ms": round(percentile(exact_ms, 50), 2), "p95_ms": round(percentile(exact_ms, 95), 2)},
            "ratio_exact_p50_over_hnsw_p50": round(percentile(exact_ms, 50) / max(percentile(hnsw_ms, 50), 1e-9), 2),
            "hybrid_search_p50_ms": round(percentile(hybrid_ms, 50), 2),
            "hybrid_search_p95_ms": round(percentile(hybrid_ms, 95), 2),
            "targets": {"hnsw_p95_ms": 20, "recall@10": 0.98},
            "meets_targets": p95 <= 20 and recall >= 0.98,
            "setup_seconds": {"embed_seeds": round(embed_s, 1), "load_and_build_hnsw": round(load_s, 1)},
            "other_chunks_in_table": existing,
        }
    )


if __name__ == "__main__":
    main()
