"""Retrieval quality on Bitext: recall@1, recall@5 and MRR for vector-only, full-text-only and hybrid search.

One response per intent is indexed as a knowledge document (27 documents, one per intent); customer
instructions of the other rows of each intent are the queries (the document of the same intent is
the right answer). Bitext has no official split: documents and queries come from disjoint rows, and
the queries are a fixed random sample (seed 13). The baseline is vector-only search, in the same run.
Also reports how well the calibrated score separates right from wrong top hits at the 0.5 threshold.

    .venv/bin/python bench/retrieval_quality.py [--queries-per-intent 20]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import time
from collections import defaultdict
from pathlib import Path

from _common import REPO, emit, setup_django


def datasets_dir() -> Path:
    return Path(os.environ.get("PARLEY_DATASETS_DIR", REPO.parent / "shared" / "datasets"))


def load_bitext() -> dict[str, list[dict[str, str]]]:
    path = datasets_dir() / "bitext" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    by_intent: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_intent[row["intent"]].append(row)
    return by_intent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries-per-intent", type=int, default=20)
    args = parser.parse_args()
    services = setup_django("bench-knowledge")
    try:
        run(args.queries_per_intent)
    finally:
        services.stop()


def run(queries_per_intent: int) -> None:
    from parley.accounts.models import Tenant
    from parley.knowledge import actions
    from parley.knowledge.embedding import LocalEmbedder
    from parley.knowledge.retrieval import WEAK_SCORE, hybrid_search
    from parley.testing.factories import make_tenant

    rng = random.Random(13)
    by_intent = load_bitext()
    Tenant.objects.filter(slug="bench-quality").delete()
    tenant = make_tenant("bench-quality", "Bench quality")
    source = actions.create_source(tenant=tenant, data={"name": "Bitext responses", "language": "en"}, sync=False)
    doc_intent: dict[str, str] = {}
    queries: list[tuple[str, str]] = []
    started = time.perf_counter()
    for number, (intent, rows) in enumerate(sorted(by_intent.items())):
        rows = rows[:]
        rng.shuffle(rows)
        document_row, query_rows = rows[0], rows[1:]
        result = actions.add_document(
            source=source,
            data=document_row["response"].encode(),
            filename=f"doc-{number}.txt",  # neutral names: the intent must not leak into the index
            content_type="text/plain",
            title=" ",
            enqueue=False,
        )
        actions.index_document(document_id=result.document.pk)
        doc_intent[str(result.document.pk)] = intent
        queries.extend((row["instruction"], intent) for row in query_rows[:queries_per_intent])
    index_s = time.perf_counter() - started

    embedder = LocalEmbedder()
    vectors = embedder.embed([q for q, _ in queries])
    figures: dict[str, dict[str, float]] = {}
    separation = {"right_top1_scores": [], "wrong_top1_scores": []}
    for mode in ("vector", "text", "hybrid"):
        hits1 = hits5 = 0
        reciprocal = 0.0
        mode_started = time.perf_counter()
        for (query, intent), vector in zip(queries, vectors, strict=True):
            results = hybrid_search(
                tenant_id=str(tenant.pk), query=query, query_vector=vector, embedder=embedder, k=10, mode=mode
            )
            ranked: list[str] = []
            for hit in results:  # a document can have several chunks; rank documents by their best chunk
                label = doc_intent[hit.document_id]
                if label not in ranked:
                    ranked.append(label)
            if intent in ranked:
                rank = ranked.index(intent) + 1
                hits1 += rank == 1
                hits5 += rank <= 5
                reciprocal += 1.0 / rank
            if mode == "hybrid" and results:
                key = "right_top1_scores" if ranked[0] == intent else "wrong_top1_scores"
                separation[key].append(results[0].score)
        n = len(queries)
        figures[mode] = {
            "recall@1": round(hits1 / n, 4),
            "recall@5": round(hits5 / n, 4),
            "mrr": round(reciprocal / n, 4),
            "mean_latency_ms": round(1000 * (time.perf_counter() - mode_started) / n, 2),
        }
    right = separation["right_top1_scores"]
    wrong = separation["wrong_top1_scores"]
    emit(
        {
            "bench": "retrieval_quality",
            "dataset": "bitext (older 4,514-row release): 1 response per intent indexed, held-back instructions as queries",
            "documents": len(doc_intent),
            "queries": len(queries),
            "figure": figures["hybrid"],
            "baseline_vector_only": figures["vector"],
            "full_text_only": figures["text"],
            "ratio_hybrid_vs_vector_recall@5": round(figures["hybrid"]["recall@5"] / max(figures["vector"]["recall@5"], 1e-9), 4),
            "target_hybrid_recall@5": 0.95,
            "meets_target": figures["hybrid"]["recall@5"] >= 0.95,
            "score_threshold": WEAK_SCORE,
            "top1_right_with_score_at_or_above_threshold": round(sum(s >= WEAK_SCORE for s in right) / max(len(right), 1), 4),
            "top1_wrong_with_score_below_threshold": round(sum(s < WEAK_SCORE for s in wrong) / max(len(wrong), 1), 4),
            "index_seconds": round(index_s, 2),
        }
    )


if __name__ == "__main__":
    main()
