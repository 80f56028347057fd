"""The linear heads: the fast TF-IDF transform equals scikit-learn's, and saved heads predict as trained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse

from parley.intelligence.heads import LinearHead, TfidfFeatures, _char_vectorizer, _word_vectorizer

TEXTS = [
    "I lost my card yesterday",
    "my card is missing, what now?",
    "where is my parcel",
    "my package has not arrived",
    "please refund my order",
    "how do I get a refund for the order",
    "the card payment was declined twice",
    "Zürich café: refund ÉTÉ order",
]


def test_tfidf_transform_equals_scikit_learn_vectorizers() -> None:
    features = TfidfFeatures.fit(TEXTS, weight=0.7)
    word = _word_vectorizer(vocabulary=features.word_vocab)
    word.idf_ = features.word_idf
    char = _char_vectorizer(vocabulary=features.char_vocab)
    char.idf_ = features.char_idf
    new = ["my card was declined", "refund!!", "", "unknown words only: xyzzy", "Card card CARD"]
    expected = sparse.hstack([word.transform(new), char.transform(new)]).tocsr() * (0.7 / np.sqrt(2))
    got = features.transform(new)
    assert got.shape == expected.shape == (5, features.dimension())
    assert got.dtype == np.float32
    assert abs(got - expected).max() < 1e-6
    assert got[2].nnz == 0  # an empty text has no n-grams
    assert got[0].nnz > 0


def test_head_with_tfidf_predicts_the_same_after_save_and_load(tmp_path: Path) -> None:
    labels = ["card", "card", "delivery", "delivery", "refund", "refund", "card", "refund"]
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(len(TEXTS), 8)).astype(np.float32)
    head = LinearHead.fit(embeddings, labels, c=10.0, texts=TEXTS, tfidf_weight=1.0)
    assert head.coef.shape == (3, 8 + (head.tfidf.dimension() if head.tfidf else 0))
    head.save(tmp_path)
    loaded = LinearHead.load(tmp_path)
    new = ["my card is lost", "refund the order please"]
    new_embeddings = rng.normal(size=(2, 8)).astype(np.float32)
    proba = loaded.predict_proba(new_embeddings, new)
    dense = np.hstack([new_embeddings, head.tfidf.transform(new).toarray() if head.tfidf else np.zeros((2, 0))])
    logits = dense @ head.coef.T + head.intercept
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    assert np.allclose(proba, expected, atol=1e-5)
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    # one message at a time gives the same answer as the batch
    assert np.allclose(loaded.predict_proba(new_embeddings[:1], new[:1]), proba[:1], atol=1e-6)


FIXTURES = Path(__file__).parent / "fixtures"


def test_intent_ensemble_with_a_tfidf_head_is_chosen_saved_and_reloaded(tmp_path: Path) -> None:
    from parley.intelligence.artefacts import read_manifest
    from parley.intelligence.embeddings import encode
    from parley.intelligence.intent import TEXT_HEAD_DIR, FastIntentModel
    from parley.intelligence.registry import load_model
    from parley.intelligence.training import train_intent

    grid = {"c": [10.0], "text_c": [10.0], "text_weight": [0.0, 0.5]}
    result = train_intent("banking77", FIXTURES / "intents_mini.csv", tmp_path / "m", grid=grid, progress=False)
    assert [point["text_weight"] for point in result.grid] == [0.0, 0.5]
    # force the ensemble so its save / load path is exercised whatever the tiny tuning split prefers
    forced = train_intent(
        "banking77", FIXTURES / "intents_mini.csv", tmp_path / "e", grid={**grid, "text_weight": [0.5]}, progress=False
    )
    manifest = read_manifest(tmp_path / "e")
    assert manifest.params["text_weight"] == 0.5 and forced.summary()["params"]["text_c"] == 10.0
    assert (tmp_path / "e" / TEXT_HEAD_DIR / "tfidf.json").is_file()
    model = load_model(str(tmp_path / "e"))
    assert isinstance(model, FastIntentModel) and model.text_head is not None
    texts = ["somebody stole my card", "my parcel is late", "I want a refund"]
    embeddings = encode(texts)
    combined = model.predict_proba(texts, embeddings)
    alone = model.head.predict_proba(embeddings, texts)
    text_only = model.text_head.predict_proba(np.zeros((3, 0), dtype=np.float32), texts)
    assert np.allclose(combined, 0.5 * alone + 0.5 * text_only, atol=1e-6)
    assert [model.labels[i] for i in combined.argmax(axis=1)] == ["card_lost", "delivery", "refund"]


def test_text_head_with_other_labels_is_refused() -> None:
    from parley.intelligence.intent import FastIntentModel

    rng = np.random.default_rng(1)
    a = LinearHead.fit(rng.normal(size=(6, 4)), ["x", "y", "z"] * 2, c=1.0)
    b = LinearHead.fit(rng.normal(size=(6, 4)), ["x", "y", "w"] * 2, c=1.0)
    try:
        FastIntentModel(a, text_head=b, text_weight=0.5)
    except ValueError as exc:
        assert "same labels" in str(exc)
    else:
        raise AssertionError("a text head with other labels was accepted")


def test_sentiment_grid_uses_vader_and_tfidf_features_with_cross_validation(tmp_path: Path) -> None:
    from parley.intelligence.artefacts import read_manifest
    from parley.intelligence.registry import load_model
    from parley.intelligence.sentiment import LinearSentiment, vader_features
    from parley.intelligence.training import train_sentiment

    grid = {"c": [3.0], "class_weight": ["balanced"], "vader_weight": [1.0], "tfidf_weight": [0.5]}
    result = train_sentiment([("airline", FIXTURES / "airline_mini.csv")], tmp_path / "s", grid=grid, progress=False)
    manifest = read_manifest(tmp_path / "s")
    assert manifest.params["vader_weight"] == 1.0 and manifest.params["tfidf_weight"] == 0.5
    assert 2 <= manifest.params["folds"] <= 5  # capped by the rarest class of the tiny fixture
    assert 0 <= result.grid[0]["macro_recall"] <= 1
    model = load_model(str(tmp_path / "s"))
    assert isinstance(model, LinearSentiment) and model.vader_weight == 1.0
    assert model.head.tfidf is not None
    assert model.head.coef.shape[1] == 384 + 4 + model.head.tfidf.dimension()
    angry, happy = model.predict_batch(["worst flight ever, so angry", "thank you, wonderful crew"])
    assert angry.label == "negative" and angry.score < 0
    assert happy.label == "positive" and happy.score > 0
    scores = vader_features(["I love it", "I hate it", ""])
    assert scores.shape == (3, 4) and scores[0, 0] > 0 > scores[1, 0] and scores[2, 0] == 0


def test_sentiment_without_cross_validation_scores_on_the_tuning_split(tmp_path: Path) -> None:
    from parley.intelligence.artefacts import read_manifest
    from parley.intelligence.training import train_sentiment

    grid = {"c": [1.0, 10.0], "class_weight": ["balanced"], "vader_weight": [1.0]}
    result = train_sentiment([("airline", FIXTURES / "airline_mini.csv")], tmp_path / "s", grid=grid, progress=False, folds=1)
    manifest = read_manifest(tmp_path / "s")
    assert manifest.params["folds"] == 1
    assert [point["c"] for point in result.grid] == [1.0, 10.0]
    best = max(result.grid, key=lambda point: point["macro_recall"])
    assert manifest.params["c"] == best["c"] and manifest.params["vader_weight"] == 1.0
