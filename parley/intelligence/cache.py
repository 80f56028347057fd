"""A disk cache of sentence embeddings keyed by (model, text hash), so a dataset is encoded once.

SQLite (stdlib) in ``PARLEY_DATA_DIR/cache/embeddings.sqlite3``; safe for several processes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np

from parley.intelligence.embeddings import EMBEDDING_DIM, encode

_SCHEMA = "CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)"


def cache_path() -> Path:
    """``PARLEY_EMBEDDING_CACHE`` or ``PARLEY_DATA_DIR/cache/embeddings.sqlite3``."""
    override = os.environ.get("PARLEY_EMBEDDING_CACHE")
    if override:
        return Path(override)
    from parley.config.env import data_dir

    return data_dir() / "cache" / "embeddings.sqlite3"


def _key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x1f{text}".encode()).hexdigest()


def cached_encode(
    texts: list[str],
    *,
    model: str = "all-MiniLM-L6-v2",
    encoder: Callable[[list[str]], np.ndarray] | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = 512,
) -> np.ndarray:
    """Normalised embeddings of ``texts``, computing only those not cached yet.

    Args:
        texts: strings to embed (duplicates are encoded once).
        model: cache namespace; change it when the encoder changes.
        encoder: defaults to the shared MiniLM :func:`encode`.
        progress: called with the number of texts just encoded (for progress bars).
        chunk: how many texts to encode between cache writes.
    """
    encoder = encoder or encode
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = [_key(model, text) for text in texts]
    found: dict[str, np.ndarray] = {}
    with sqlite3.connect(path, timeout=60) as db:
        db.execute(_SCHEMA)
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 900):
            batch = unique[start : start + 900]
            marks = ",".join("?" * len(batch))
            for key, blob in db.execute(f"SELECT key, vec FROM emb WHERE key IN ({marks})", batch):  # noqa: S608
                found[key] = np.frombuffer(blob, dtype=np.float32)
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found and key not in missing:
                missing[key] = text
        items = list(missing.items())
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            vectors = encoder([text for _, text in part])
            rows = []
            for (key, _), vector in zip(part, vectors, strict=True):
                vec = np.asarray(vector, dtype=np.float32)
                found[key] = vec
                rows.append((key, vec.tobytes()))
            db.executemany("INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)", rows)
            db.commit()
            if progress is not None:
                progress(len(part))
    return np.stack([found[key] for key in keys]).astype(np.float32)
