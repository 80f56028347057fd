"""BANKING77 intent accuracy of Parley's intent model on a carved test split, against plain MiniLM + logistic regression.

BANKING77 here ships only its train file (the official test split is held out): train / validation / test
are carved 80/10/10 from it (seeded, stratified). The grid (C, TF-IDF weight) is searched on validation only;
the figure is accuracy on the carved test split. The baseline, measured in the same run on the same split,
is MiniLM embeddings + logistic regression with default settings (C=10, no TF-IDF, no search). The default
model averages that embedding head with a word + character TF-IDF logistic regression (weight on validation).
Embeddings are cached under the bench data dir, so a second run does not encode again.

    .venv/bin/python bench/intent_banking77.py [--model fast|finetuned] [--max-seconds 1200]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import REPO, bench_data_dir, emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=["fast", "finetuned"], default="fast")
    parser.add_argument("--max-seconds", type=float, default=1200.0, help="fine-tuning time budget")
    parser.add_argument("--epochs", type=int, default=None, help="fine-tuning epochs (default: finetune.DEFAULTS)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads for fine-tuning (0 = torch's default)")
    parser.add_argument("--limit", type=int, default=None, help="use a seeded sample of this many texts")
    parser.add_argument("--out", type=Path, default=None, help="keep the trained model here")
    parser.add_argument("--c", default=None, help="grid: comma-separated C values of the embedding head")
    parser.add_argument("--tfidf", default=None, help="grid: TF-IDF weights concatenated to the embeddings (0 = none)")
    parser.add_argument("--text-c", default=None, help="grid: C values of the TF-IDF-only head")
    parser.add_argument("--text-weight", default=None, help="grid: ensemble weights of the TF-IDF-only head (0 = none)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["PARLEY_DATA_DIR"] = str(bench_data_dir())
    from parley.intelligence.training import DEFAULT_INTENT_GRID

    grid = dict(DEFAULT_INTENT_GRID)
    for key, value in (("c", args.c), ("tfidf_weight", args.tfidf), ("text_c", args.text_c), ("text_weight", args.text_weight)):
        if value is not None:
            grid[key] = [float(v) for v in value.split(",")]
    from parley.intelligence.datasets import datasets_dir
    from parley.intelligence.training import train_intent

    data = Path(os.environ.get("PARLEY_DATASETS_DIR", datasets_dir())) / "banking77" / "train.csv"
    out = args.out or Path(tempfile.mkdtemp(prefix="b77-", dir=REPO / ".parley-bench"))
    started = time.perf_counter()
    baseline = train_intent(
        "banking77", data, out / "baseline", grid={"c": [10.0], "tfidf_weight": [0.0]}, progress=False, limit=args.limit
    )
    baseline_s = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), time.process_time()
    result = train_intent(
        "banking77",
        data,
        out / args.model,
        algorithm=args.model,
        grid=grid,
        progress=False,
        limit=args.limit,
        finetune_options={
            "max_seconds": args.max_seconds,
            **({"threads": args.threads} if args.threads else {}),
            **({"epochs": args.epochs} if args.epochs else {}),
        },
    )
    train_s = time.perf_counter() - started
    train_cpu_s = time.process_time() - cpu_started
    figure = result.manifest.metrics["accuracy"]
    base = baseline.manifest.metrics["accuracy"]
    emit(
        {
            "bench": "intent_banking77",
            "model": args.model,
            "split": "carved_test (10% of train.csv, seed 13)",
            "n_test": result.manifest.metrics["n"],
            "figure_accuracy": figure,
            "macro_f1": result.manifest.metrics["macro_f1"],
            "baseline_minilm_logreg_accuracy": base,
            "ratio": round(figure / base, 4),
            "grid": result.manifest.params.get("grid"),
            "chosen_params": {
                k: v
                for k, v in result.manifest.params.items()
                if k
                in (
                    "c",
                    "tfidf_weight",
                    "text_c",
                    "text_weight",
                    "epochs",
                    "stopped",
                    "learning_rate",
                    "max_length",
                    "threads",
                    "history",
                    "embedding_weight",
                    "ensemble_grid",
                    "logit_scale",
                )
            },
            "training_seconds": round(train_s, 1),
            # CPU seconds of all its threads: on a box shared with other work the wall time overstates the cost
            "training_cpu_seconds": round(train_cpu_s, 1),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "baseline_training_seconds": round(baseline_s, 1),
            "target_accuracy": 0.94,
            "meets_target": figure >= 0.94 and train_s <= 1200,
            "published_anchor_bert_full_data_official_test": 0.9366,
        }
    )


if __name__ == "__main__":
    main()
