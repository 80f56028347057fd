"""Ingestion throughput: chunks parsed, embedded and stored per second by the indexing pipeline,
against the raw ``SentenceTransformer.encode`` throughput on the very same chunk texts, same run.

Documents: Markdown help articles built from Bitext responses (one article per intent, one section
per distinct response). The pipeline is the full ingestion path for a batch of documents
(``add_text_document`` + ``actions.index_documents``: store the file, read it back, parse, chunk,
embed all chunks together, replace each document's chunks + tsvectors in its own transaction). The baseline is ``model.encode`` of the same texts (batch 64), measured before and
after the pipeline and averaged, so CPU contention hits both alike.

    .venv/bin/python bench/ingest_throughput.py [--documents 20] [--sections 10]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict

from _common import emit, setup_django
from retrieval_quality import datasets_dir


def articles(documents: int, sections: int) -> dict[str, str]:
    path = datasets_dir() / "bitext" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    by_intent: dict[str, list[str]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["response"] not in by_intent[row["intent"]]:
                by_intent[row["intent"]].append(row["response"])
    result = {}
    for intent in sorted(by_intent)[:documents]:
        title = intent.replace("_", " ").capitalize()
        body = [f"# {title}"]
        for number, response in enumerate(by_intent[intent][:sections], start=1):
            body.append(f"## Answer {number}\n\n{response}")
        result[title] = "\n\n".join(body)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--sections", type=int, default=10)
    args = parser.parse_args()
    services = setup_django("bench-knowledge")
    try:
        run(args.documents, args.sections)
    finally:
        services.stop()


def run(documents: int, sections: int) -> None:
    from parley.accounts.models import Tenant
    from parley.intelligence.embeddings import get_sentence_model
    from parley.knowledge import actions
    from parley.knowledge.chunking import chunk_blocks
    from parley.knowledge.conf import knowledge_setting
    from parley.knowledge.models import DocumentStatus
    from parley.knowledge.parsing import parse
    from parley.testing.factories import make_tenant

    docs = articles(documents, sections)
    texts: list[str] = []
    for title, text in docs.items():
        parsed = parse(text.encode(), filename=f"{title}.md")
        chunks = chunk_blocks(
            parsed.blocks,
            max_tokens=int(knowledge_setting("CHUNK_MAX_TOKENS")),
            overlap_tokens=int(knowledge_setting("CHUNK_OVERLAP_TOKENS")),
        )
        texts.extend(chunk.embedding_text(title) for chunk in chunks)
    model = get_sentence_model()
    model.encode(texts[:32], batch_size=64, normalize_embeddings=True)  # warm-up

    def raw() -> float:
        started = time.perf_counter()
        model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return time.perf_counter() - started

    raw_before = raw()
    Tenant.objects.filter(slug="bench-ingest").delete()
    tenant = make_tenant("bench-ingest", "Bench ingest")
    source = actions.create_source(tenant=tenant, data={"name": "Articles", "language": "en"}, sync=False)
    started = time.perf_counter()
    ids = [
        actions.add_text_document(source=source, title=title, text=text, enqueue=False).document.pk
        for title, text in docs.items()
    ]
    stored = 0
    for document in actions.index_documents(document_ids=ids).values():
        assert document is not None and document.status == DocumentStatus.READY, document and document.status_reason
        stored += document.chunk_count
    pipeline_s = time.perf_counter() - started
    raw_after = raw()
    raw_s = (raw_before + raw_after) / 2
    assert stored == len(texts), (stored, len(texts))
    pipeline_rate = stored / pipeline_s
    raw_rate = len(texts) / raw_s
    emit(
        {
            "bench": "ingest_throughput",
            "documents": len(docs),
            "chunks": stored,
            "figure": {"pipeline_chunks_per_s": round(pipeline_rate, 2)},
            "baseline": {
                "raw_encode_chunks_per_s": round(raw_rate, 2),
                "raw_before_s": round(raw_before, 2),
                "raw_after_s": round(raw_after, 2),
            },
            "ratio": round(pipeline_rate / raw_rate, 4),
            "target_ratio": 0.8,
            "meets_target": pipeline_rate / raw_rate >= 0.8,
        }
    )


if __name__ == "__main__":
    main()
