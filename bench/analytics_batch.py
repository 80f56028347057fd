"""Conversation analytics at batch scale.

Part 1 — batch analysis. Imports SGD dialogues (``../shared/datasets/sgd/train``) and the Twitter
customer-support threads (``twcs/twcs_first5000.csv``) into a fresh bench tenant, then runs the full
analysis: the intelligence pipeline on every customer turn (intent, out of scope, sentiment,
language, with a fast BANKING77 intent model and the sentiment head registered as defaults), then
flow, failure points and metrics per conversation (facts) and the daily roll-ups. Figure:
conversations analysed per second; baseline: raw MiniLM ``model.encode`` of the same customer turns
in the same run (conversations per second if encoding were all there was). Target ratio ≥ 0.7.

The API at volume (1M messages) is timed by ``bench/analytics_api.py``.

    nice -n 10 .venv/bin/python bench/analytics_batch.py [--sgd-limit 400]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import REPO, emit, setup_django
from analytics_api import drop_tenant


def _train_default_models(root: Path) -> None:
    """A fast BANKING77 intent model and the sentiment head, registered as shared defaults (as intent_speed does)."""
    from parley.intelligence import actions
    from parley.intelligence.registry import forget_promotions
    from parley.intelligence.training import train_intent, train_sentiment

    out = Path(tempfile.mkdtemp(prefix="analytics-", dir=REPO / ".parley-bench-analytics"))
    train_intent("banking77", root / "banking77", out / "intent", grid={"c": [30.0], "tfidf_weight": [1.0]}, progress=False)
    train_sentiment([("tweeteval", root / "tweeteval_sentiment")], out / "sentiment", grid={"c": [1.0]}, progress=False)
    for kind in ("intent", "sentiment"):
        actions.set_default_model_version(version=actions.register_model_version(directory=out / kind))
    forget_promotions()


def batch_analysis(root: Path, sgd_limit: int) -> dict[str, Any]:
    from parley.accounts import actions as account_actions
    from parley.analytics.batch import analyse_tenant
    from parley.analytics.models import ConversationFact
    from parley.conversations.models import Message
    from parley.intelligence.actions import import_dataset
    from parley.intelligence.embeddings import get_sentence_model
    from parley.intelligence.pipeline import warm_up

    drop_tenant("bench-batch")
    tenant = account_actions.create_tenant(slug="bench-batch", name="Bench batch")
    import_dataset(tenant, "sgd", root / "sgd" / "train", limit=sgd_limit, progress=False)
    import_dataset(tenant, "twcs", root / "twcs" / "twcs_first5000.csv", progress=False)
    texts = list(Message.objects.filter(tenant=tenant, sender_type="customer").exclude(text="").values_list("text", flat=True))
    model = get_sentence_model()
    warm_up()
    model.encode(texts[:64], batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    started = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    raw_s = time.perf_counter() - started
    started = time.perf_counter()
    result = analyse_tenant(tenant)
    pipeline_s = time.perf_counter() - started
    facts = ConversationFact.objects.filter(tenant=tenant)
    conversations = result.conversations
    return {
        "conversations": conversations,
        "customer_turns": len(texts),
        "messages_analysed": result.messages_analysed,
        "figure_conversations_per_second": round(conversations / pipeline_s, 1),
        "baseline_raw_encode_conversations_per_second": round(conversations / raw_s, 1),
        "ratio": round(raw_s / pipeline_s, 4),
        "stage_seconds": {
            "analysis": round(result.analysis_s, 2),
            "facts_flow_failures": round(result.facts_s, 2),
            "rollups": round(result.rollups_s, 2),
            "raw_encode": round(raw_s, 2),
        },
        "with_failure_points": facts.filter(failure_count__gt=0).count(),
        "sgd_with_act_paths": facts.filter(source="sgd").exclude(act_path=[]).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sgd-limit", type=int, default=400, help="SGD dialogues to import (1,280 in the train sample)")
    args = parser.parse_args()
    services = setup_django("bench-analytics")
    try:
        from parley.intelligence.datasets import datasets_dir

        root = Path(os.environ.get("PARLEY_DATASETS_DIR", datasets_dir()))
        _train_default_models(root)
        emit({"bench": "analytics_batch", **batch_analysis(root, args.sgd_limit), "target_ratio": 0.7})
    finally:
        services.stop()


if __name__ == "__main__":
    main()
