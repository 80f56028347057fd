"""Speed of the live analysis step (intent + out of scope + sentiment + language) against raw ``model.encode``.

Trains (or reuses, via the embedding cache) a fast BANKING77 intent model (embedding head + TF-IDF head) and a
sentiment head (embeddings + VADER scores + TF-IDF), registers
both as the shared defaults in the bench database, then on the same 512 BANKING77 texts measures
messages/second of ``analyse_batch`` against the MiniLM ``encode`` alone (the floor every embedding-based
analysis pays), best of 3 alternating runs each, and the p95 latency of ``analyse_message`` on single
messages. Targets: throughput ≥ 80% of raw encode, p95 ≤ 25 ms. The pipeline embeds with ONNX Runtime
on CPU (see parley/intelligence/embeddings.py) while ``model.encode`` is the PyTorch SentenceTransformer,
so the run also reports the ratio against the runtime's own raw encode (``ratio_vs_runtime_encode``). The process runs torch with
``--torch-threads`` (default 1, the setting ``parley up`` gives the web and worker processes that run
the live step); raw encode and the pipeline share the same model and setting.

    .venv/bin/python bench/intent_speed.py [--n 512] [--single 200]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import REPO, emit, setup_django, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument(
        "--intent-dir", type=Path, default=None, help="reuse a trained intent model (e.g. from intent_banking77.py --out)"
    )
    parser.add_argument("--sentiment-dir", type=Path, default=None, help="reuse a trained sentiment model")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=int(os.environ.get("PARLEY_TORCH_THREADS") or 1),
        help="torch threads of the measured process (default: 1, what `parley up` gives web and worker processes)",
    )
    args = parser.parse_args()
    os.environ["PARLEY_TORCH_THREADS"] = str(args.torch_threads)
    services = setup_django()
    try:
        from parley.intelligence import actions
        from parley.intelligence.datasets import datasets_dir, load
        from parley.intelligence.embeddings import get_encoder, get_sentence_model
        from parley.intelligence.pipeline import analyse_batch, analyse_message, warm_up
        from parley.intelligence.registry import forget_promotions
        from parley.intelligence.training import train_intent, train_sentiment

        root = Path(os.environ.get("PARLEY_DATASETS_DIR", datasets_dir()))
        out = Path(tempfile.mkdtemp(prefix="speed-", dir=REPO / ".parley-bench"))
        intent_dir, sentiment_dir = args.intent_dir, args.sentiment_dir
        if intent_dir is None:
            intent_dir = out / "intent"
            # the default model's shape: embedding head averaged with a TF-IDF head
            train_intent(
                "banking77",
                root / "banking77",
                intent_dir,
                grid={"c": [10.0], "text_c": [10.0], "text_weight": [0.4]},
                progress=False,
            )
        if sentiment_dir is None:
            sentiment_dir = out / "sentiment"
            # the heaviest sentiment head: embeddings + VADER scores + TF-IDF n-grams
            grid = {"c": [1.0], "class_weight": ["balanced"], "vader_weight": [1.0], "tfidf_weight": [0.5]}
            train_sentiment([("tweeteval", root / "tweeteval_sentiment")], sentiment_dir, grid=grid, progress=False, folds=1)
        for directory in (intent_dir, sentiment_dir):
            actions.set_default_model_version(version=actions.register_model_version(directory=directory))
        forget_promotions()
        texts = [r.text for r in load("banking77", root / "banking77").texts][: args.n]
        model = get_sentence_model()
        warm_up()
        first = analyse_message(texts[0])
        assert first.intent is not None and "sentiment=sentiment" in first.model_version, first

        encoder = get_encoder()
        raw_times, runtime_times, pipeline_times = [], [], []
        for _ in range(3):
            started = time.perf_counter()
            model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            raw_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            encoder.encode(texts, batch_size=64, normalize=True)
            runtime_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            results = analyse_batch(texts)
            pipeline_times.append(time.perf_counter() - started)
        assert len(results) == len(texts)
        raw_rate = len(texts) / min(raw_times)
        runtime_rate = len(texts) / min(runtime_times)
        pipeline_rate = len(texts) / min(pipeline_times)

        single_raw, single = [], []
        for text in texts[: args.single]:
            started = time.perf_counter()
            model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            single_raw.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            analyse_message(text)
            single.append((time.perf_counter() - started) * 1000)
        latency, raw_latency = summary(single), summary(single_raw)
        emit(
            {
                "bench": "intent_speed",
                "texts": len(texts),
                "figure_messages_per_second": round(pipeline_rate, 1),
                "baseline_raw_encode_messages_per_second": round(raw_rate, 1),
                "ratio": round(pipeline_rate / raw_rate, 4),
                "embedder_runtime": type(encoder).__name__,
                "runtime_raw_encode_messages_per_second": round(runtime_rate, 1),
                "ratio_vs_runtime_encode": round(pipeline_rate / runtime_rate, 4),
                "single_message_latency_ms": latency,
                "single_raw_encode_latency_ms": raw_latency,
                "targets": {"ratio": 0.8, "p95_ms": 25},
                "meets_targets": pipeline_rate / raw_rate >= 0.8 and latency["p95"] <= 25,
                "cpu_threads": __import__("torch").get_num_threads(),
                "load_average_1m": round(os.getloadavg()[0], 2),
                "intent_model": first.model_version,
            }
        )
    finally:
        services.stop()


if __name__ == "__main__":
    main()
