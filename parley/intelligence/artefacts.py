"""Model artefacts on disk: a directory with ``manifest.json`` plus the files the model needs.

Linear heads are stored as ``.npz`` arrays (no pickle), fine-tuned transformers with
``save_pretrained``. ``parley evaluate --model DIR`` and the registry both read this layout.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class ArtefactError(ValueError):
    """A model directory is missing, incomplete or of an unknown kind."""


@dataclass
class Manifest:
    """What a model directory holds."""

    kind: str  # intent | sentiment | topics
    algorithm: str  # fast | finetuned | vader | ...
    name: str
    labels: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: str = ""
    dataset_format: str = ""
    training_seconds: float = 0.0
    embedding_model: str = "all-MiniLM-L6-v2"
    format_version: int = FORMAT_VERSION

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MANIFEST).write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")


def read_manifest(directory: str | Path) -> Manifest:
    """The manifest of a model directory.

    Raises:
        ArtefactError: when the directory has no readable manifest.
    """
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise ArtefactError(f"{directory} is not a model directory (no {MANIFEST})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise ArtefactError(f"{path} is not a valid manifest: {exc}") from exc


def data_fingerprint(texts: Iterable[str], labels: Iterable[str | None]) -> str:
    """sha256 over the (text, label) pairs in order: the same training data gives the same fingerprint."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(text.encode("utf-8"))
        digest.update(b"\x1f")
        digest.update((label or "").encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def models_root() -> Path:
    """Where the registry keeps artefacts: ``PARLEY_DATA_DIR/models``."""
    from parley.config.env import data_dir

    return Path(os.environ.get("PARLEY_MODELS_DIR", "")) if os.environ.get("PARLEY_MODELS_DIR") else data_dir() / "models"
