"""The embedder reuses a single text's vector (a live message is embedded by several stages)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from parley.intelligence import embeddings


class CountingModel:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str], **_: Any) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[float(len(t)), 1.0] + [0.0] * (embeddings.EMBEDDING_DIM - 2) for t in texts], dtype=np.float32)


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> CountingModel:
    fake = CountingModel()
    monkeypatch.setattr(embeddings, "get_sentence_model", lambda: fake)
    monkeypatch.setattr(embeddings, "_recent", type(embeddings._recent)())
    return fake


def test_a_single_text_is_embedded_once_and_callers_get_their_own_copy(model: CountingModel) -> None:
    first = embeddings.encode(["where is my parcel"])
    first[0, 0] = -99.0  # a caller scribbling on its result must not change the next one
    second = embeddings.encode(["where is my parcel"])
    assert model.calls == [["where is my parcel"]]
    assert second.shape == (1, embeddings.EMBEDDING_DIM) and second[0, 0] == len("where is my parcel")
    embeddings.encode(["where is my parcel"], normalize=False)  # another kind of vector: computed
    embeddings.encode(["a", "b"])  # batches are not cached
    embeddings.encode(["a", "b"])
    assert len(model.calls) == 4


def test_the_cache_keeps_only_the_most_recent_texts(model: CountingModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "RECENT_SINGLE_TEXTS", 2)
    for text in ("one", "two", "three"):
        embeddings.encode([text])
    embeddings.encode(["three"])
    embeddings.encode(["one"])  # evicted: computed again
    assert [call[0] for call in model.calls] == ["one", "two", "three", "one"]
