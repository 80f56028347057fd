"""The embedder: it reuses a single text's vector (a live message is embedded by several stages), and
runs the model in ONNX Runtime (exported once per machine, the same vectors as PyTorch) unless told not to."""

from __future__ import annotations

import threading
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
    monkeypatch.setattr(embeddings, "get_encoder", lambda: fake)
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


class GatedModel(CountingModel):
    """Blocks in encode until the test opens the gate: the background embedding is provably still running."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.started = threading.Event()
        self.threads: list[str] = []

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        self.threads.append(threading.current_thread().name)
        self.started.set()
        assert self.gate.wait(10)
        return super().encode(texts, **kwargs)


def test_a_text_embedded_in_the_background_is_waited_for_not_computed_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = GatedModel()
    monkeypatch.setattr(embeddings, "get_encoder", lambda: fake)
    monkeypatch.setattr(embeddings, "_recent", type(embeddings._recent)())
    embeddings.encode_soon("where is my parcel")
    assert fake.started.wait(10)  # running in the background thread now
    embeddings.encode_soon("where is my parcel")  # already on its way: not queued again
    result: list[np.ndarray] = []
    waiter = threading.Thread(target=lambda: result.append(embeddings.encode(["where is my parcel"])))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()  # waiting for the background vector
    fake.gate.set()
    waiter.join(10)
    assert result[0][0, 0] == len("where is my parcel")
    assert fake.calls == [["where is my parcel"]]
    assert fake.threads[0].startswith("parley-embed")
    embeddings.encode_soon("where is my parcel")  # in the cache now: nothing to do
    assert embeddings.encode(["where is my parcel"])[0, 0] == len("where is my parcel")
    assert len(fake.calls) == 1 and not embeddings._pending


def test_a_failed_background_embedding_is_done_again_by_the_caller_waiting_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    class FailsFirst(GatedModel):
        def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
            vectors = super().encode(texts, **kwargs)
            if len(self.calls) == 1:
                raise RuntimeError("onnx session crashed")
            return vectors

    fake = FailsFirst()
    monkeypatch.setattr(embeddings, "get_encoder", lambda: fake)
    monkeypatch.setattr(embeddings, "_recent", type(embeddings._recent)())
    embeddings.encode_soon("refund please")
    assert fake.started.wait(10)
    result: list[np.ndarray] = []
    waiter = threading.Thread(target=lambda: result.append(embeddings.encode(["refund please"])))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()  # waiting on the background run, which then fails
    fake.gate.set()
    waiter.join(10)
    assert result[0][0, 0] == len("refund please")
    assert fake.calls == [["refund please"], ["refund please"]] and not embeddings._pending


TEXTS = [
    "Where is my order #5003?",
    "",
    "hi",
    "Ça ne marche pas 🎉 — je veux être remboursé",
    "a very long complaint about a broken blender " * 60,  # past the 256-token limit: truncated the same way
]


@pytest.fixture
def model_cache(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PARLEY_MODEL_CACHE", str(tmp_path))
    return tmp_path


def test_the_onnx_export_gives_pytorchs_vectors_and_is_made_once(model_cache: Any) -> None:
    assert embeddings.runtime_status().startswith(f"onnx (exported on first use into {model_cache}")
    status = embeddings.prepare_runtime()  # what `parley up` does before starting the workers
    exported = list(model_cache.glob("*.onnx"))
    assert len(exported) == 1 and not list(model_cache.glob("*.tmp"))
    assert status == f"onnx ({exported[0]})"
    onnx_model = embeddings._load_onnx_model()
    reference = embeddings.get_sentence_model()
    for normalize in (True, False):
        expected = reference.encode(TEXTS, batch_size=2, normalize_embeddings=normalize, convert_to_numpy=True)
        got = onnx_model.encode(TEXTS, batch_size=2, normalize=normalize)
        assert got.shape == (len(TEXTS), embeddings.EMBEDDING_DIM) and got.dtype == np.float32
        assert np.abs(got - expected).max() < 1e-5
    assert np.abs(onnx_model.encode(TEXTS[:1]) - onnx_model.encode(TEXTS)[:1]).max() < 1e-5  # padding changes nothing
    modified = exported[0].stat().st_mtime_ns
    embeddings._load_onnx_model()  # another process: loads the export, does not redo it
    assert exported[0].stat().st_mtime_ns == modified


def test_the_runtime_can_be_chosen_and_a_failed_export_falls_back_to_pytorch(
    model_cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    embeddings.get_encoder.cache_clear()
    try:
        monkeypatch.setenv(embeddings.RUNTIME_ENV, "torch")
        assert isinstance(embeddings.get_encoder(), embeddings._TorchEncoder)
        assert not list(model_cache.glob("*.onnx"))
        embeddings.get_encoder.cache_clear()
        monkeypatch.setenv(embeddings.RUNTIME_ENV, "tensorflow")
        with pytest.raises(ValueError, match="must be 'onnx' or 'torch'"):
            embeddings.get_encoder()
        monkeypatch.setenv(embeddings.RUNTIME_ENV, "onnx")

        def broken_export(target: Any) -> None:
            raise RuntimeError("exporter unavailable")

        monkeypatch.setattr(embeddings, "_export_onnx", broken_export)
        assert embeddings.prepare_runtime() == "torch (the ONNX export failed: exporter unavailable)"  # parley up's step
        encoder = embeddings.get_encoder()
        assert isinstance(encoder, embeddings._TorchEncoder)  # slower, the same vectors
        assert encoder.encode(["hi"]).shape == (1, embeddings.EMBEDDING_DIM)
    finally:
        embeddings.get_encoder.cache_clear()


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_threads_of_the_live_worker_can_embed_at_the_same_time(runtime: str) -> None:
    """The live worker runs turns on threads: concurrent calls must neither fail nor mix up texts."""
    from concurrent.futures import ThreadPoolExecutor

    encoder = embeddings._load_onnx_model() if runtime == "onnx" else embeddings._TorchEncoder(embeddings.get_sentence_model())
    texts = [f"{text} ({index})" for index in range(4) for text in TEXTS]
    expected = [encoder.encode([text])[0] for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda text: encoder.encode([text])[0], texts * 3))
    for index, vector in enumerate(got):
        assert np.abs(vector - expected[index % len(texts)]).max() < 1e-5
