"""The per-message analysis the orchestrator runs: intent (+ out of scope), sentiment, language.

``analyse_message`` / ``analyse_batch`` use the models promoted for the tenant (see the registry):
without a promoted intent model ``intent`` is None; without a promoted sentiment model VADER is used.
Sentence embeddings are computed once per batch and shared by every model that needs them.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from parley.intelligence.language import detect_language
from parley.intelligence.sentiment import VaderSentiment

PIPELINE_VERSION = "1"


class IntentCandidate(BaseModel):
    """One of the likeliest intents of a message (the assistant asks which one when two are close)."""

    intent: str
    confidence: float


class MessageAnalysis(BaseModel):
    """What the analysis step found in one message; stored as ``Message.analysis``."""

    intent: str | None = None
    intent_confidence: float = 0.0
    out_of_scope: bool = False
    sentiment: Literal["negative", "neutral", "positive"] = "neutral"
    sentiment_score: float = Field(default=0.0, ge=-1.0, le=1.0)
    language: str = "en"
    model_version: str = ""
    intent_candidates: list[IntentCandidate] = Field(
        default_factory=list, description="Up to three in-scope intents, likeliest first (empty without an intent model)"
    )


def _models(tenant_id: str | None) -> tuple[Any | None, Any]:
    intent_model = sentiment_model = None
    try:
        from parley.intelligence.registry import promoted_model

        intent_model = promoted_model(tenant_id, "intent")
        sentiment_model = promoted_model(tenant_id, "sentiment")
    except Exception as exc:  # noqa: BLE001 - no database (e.g. a script without Django): fall back to baselines
        import structlog

        structlog.get_logger(__name__).debug("registry_unavailable", error=str(exc))
    return intent_model, sentiment_model or VaderSentiment()


def analyse_batch(texts: list[str], *, tenant_id: str | None = None) -> list[MessageAnalysis]:
    """Analyse many messages at once (one embedding pass for all of them).

    Args:
        texts: message texts; empty strings get a neutral, intent-less analysis.
        tenant_id: whose promoted models to use (None: the shared defaults).

    Returns:
        One :class:`MessageAnalysis` per text, in order.
    """
    if not texts:
        return []
    intent_model, sentiment_model = _models(str(tenant_id) if tenant_id else None)
    embeddings: np.ndarray | None = None
    if (intent_model is not None and intent_model.needs_embeddings) or sentiment_model.needs_embeddings:
        from parley.intelligence.embeddings import encode

        embeddings = encode(texts, batch_size=64)
    intents = None
    if intent_model is not None:
        from parley.intelligence.intent import predict

        intents = predict(intent_model, texts, embeddings)
    sentiments = sentiment_model.predict_batch(texts, embeddings)
    version = f"p{PIPELINE_VERSION};intent={getattr(intent_model, 'name', 'none')};sentiment={sentiment_model.name}"
    results = []
    for index, text in enumerate(texts):
        sentiment = sentiments[index]
        intent = intents[index] if intents is not None else None
        results.append(
            MessageAnalysis(
                intent=intent.label if intent else None,
                intent_confidence=round(intent.confidence, 4) if intent else 0.0,
                out_of_scope=intent.out_of_scope if intent else False,
                sentiment=sentiment.label,
                sentiment_score=round(max(-1.0, min(1.0, sentiment.score)), 4),
                language=detect_language(text),
                model_version=version,
                intent_candidates=_candidates(intent),
            )
        )
    return results


def _candidates(prediction: Any) -> list[IntentCandidate]:
    from parley.intelligence.intent import OOS_LABELS

    if prediction is None:
        return []
    return [
        IntentCandidate(intent=label, confidence=round(confidence, 4))
        for label, confidence in prediction.alternatives
        if label not in OOS_LABELS
    ]


def analyse_message(text: str, *, tenant_id: str | None = None) -> MessageAnalysis:
    """Analyse one message (see :func:`analyse_batch`)."""
    return analyse_batch([text], tenant_id=tenant_id)[0]


def warm_up(tenant_id: str | None = None) -> None:
    """Load the embedder and the promoted models now, so the first real message is not slow, then keep
    them out of the garbage collector's full passes (:func:`parley.core.memory.settle`)."""
    from parley.core import memory

    analyse_batch(["warm up"], tenant_id=tenant_id)
    memory.settle("models warmed up")
