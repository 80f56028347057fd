from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.intelligence import actions
from parley.intelligence.pipeline import MessageAnalysis, analyse_batch, analyse_message


def test_without_promoted_models_intent_is_none_and_vader_scores_sentiment(db: Any) -> None:
    analysis = analyse_message("This is terrible, my card was stolen and nobody helps me!")
    assert isinstance(analysis, MessageAnalysis)
    assert analysis.intent is None
    assert analysis.sentiment == "negative"
    assert analysis.sentiment_score < -0.3
    assert analysis.language == "en"
    assert "sentiment=vader" in analysis.model_version


def test_language_and_positive_sentiment_in_a_batch(db: Any) -> None:
    results = analyse_batch(["Thank you so much, great service!", "Hola, quiero cancelar mi pedido por favor", ""])
    assert [r.language for r in results] == ["en", "es", "en"]
    assert results[0].sentiment == "positive"
    assert results[2].sentiment == "neutral"
    assert set(results[0].model_dump()) == {
        "intent",
        "intent_confidence",
        "out_of_scope",
        "sentiment",
        "sentiment_score",
        "language",
        "model_version",
        "intent_candidates",
    }
    assert results[0].intent_candidates == []  # no intent model promoted


def test_promoted_intent_model_is_used_for_its_tenant_only(tenant: Any, other_tenant: Any, tiny_intent_dir: Path) -> None:
    version = actions.register_model_version(directory=tiny_intent_dir)
    assert Path(version.artefact_dir).is_dir() and Path(version.artefact_dir) != tiny_intent_dir
    actions.promote_model_version(version=version, tenant=tenant, actor="test")
    from parley.intelligence.registry import forget_promotions

    forget_promotions()
    mine = analyse_message("somebody has stolen my card", tenant_id=str(tenant.id))
    assert mine.intent == "card_lost"
    assert mine.intent_confidence > 0.55
    candidates = [(c.intent, c.confidence) for c in mine.intent_candidates]
    assert candidates[0] == ("card_lost", mine.intent_confidence) and 2 <= len(candidates) <= 3
    assert [c for _, c in candidates] == sorted((c for _, c in candidates), reverse=True)
    assert not mine.out_of_scope
    theirs = analyse_message("somebody has stolen my card", tenant_id=str(other_tenant.id))
    assert theirs.intent is None


def test_low_confidence_message_is_out_of_scope(tenant: Any, tiny_intent_dir: Path) -> None:
    version = actions.register_model_version(directory=tiny_intent_dir)
    actions.set_default_model_version(version=version)
    from parley.intelligence.registry import forget_promotions

    forget_promotions()
    analysis = analyse_message("what is the capital of Mongolia and how tall are giraffes", tenant_id=str(tenant.id))
    assert analysis.out_of_scope is True
    assert analysis.intent is None
    assert analyse_message("please refund my money").intent == "refund"


def test_warm_up_loads_the_models_and_keeps_them_out_of_full_garbage_collections(db: Any) -> None:
    import gc

    from parley.intelligence import embeddings
    from parley.intelligence.pipeline import warm_up

    gc.unfreeze()
    try:
        embeddings.get_encoder()  # the embedder loaded (it settles on its own when it loads)
        gc.unfreeze()
        assert gc.get_freeze_count() == 0
        warm_up()
        frozen = gc.get_freeze_count()
        # everything the process holds now (Django, the ONNX session's wrappers, the models): not walked by
        # later full collections, which then only see what the process makes from here on
        assert frozen > 100_000
        assert frozen > len(gc.get_objects())
    finally:
        gc.unfreeze()
