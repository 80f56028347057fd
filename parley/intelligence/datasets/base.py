"""Typed records every dataset loader produces, schema errors, and the format registry.

Two shapes: :class:`LabelledText` (one text with an optional label, for classifiers) and
:class:`Dialogue` (ordered turns, for importing conversations and for flow analysis).
A loader validates its input and reports bad rows as :class:`SchemaIssue` instead of failing the whole
file; a file that is not of the format at all raises :class:`DatasetError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

Speaker = Literal["customer", "agent", "assistant", "system"]  # assistant: an automated system side (SGD)


class DatasetError(ValueError):
    """The file is missing or is not in the expected format (the message says what is wrong)."""


@dataclass(frozen=True)
class SchemaIssue:
    """A row the loader skipped, and why (``row`` is 1-based, counting data rows)."""

    row: int
    message: str


@dataclass(frozen=True)
class LabelledText:
    text: str
    label: str | None = None
    split: str = "train"
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Turn:
    speaker: Speaker
    text: str
    author: str = ""
    timestamp: datetime | None = None
    labels: dict[str, Any] = field(default_factory=dict)  # intent, acts, slots, sentiment, ...


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: list[Turn]
    customer_id: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadResult:
    """What a loader produced: texts and/or dialogues, and the rows it rejected."""

    format: str
    path: str
    texts: list[LabelledText] = field(default_factory=list)
    dialogues: list[Dialogue] = field(default_factory=list)
    issues: list[SchemaIssue] = field(default_factory=list)
    rows_read: int = 0

    def split(self, name: str) -> list[LabelledText]:
        return [record for record in self.texts if record.split == name]

    def as_dialogues(self) -> list[Dialogue]:
        """Dialogues, or each labelled text as a one-turn customer conversation."""
        if self.dialogues:
            return self.dialogues
        return [
            Dialogue(
                id=f"{record.split}-{index}",
                turns=[Turn("customer", record.text, labels={"intent": record.label} if record.label else {})],
                meta=dict(record.meta),
            )
            for index, record in enumerate(self.texts, start=1)
        ]

    def as_texts(self) -> list[LabelledText]:
        """Labelled texts, or the customer turns of dialogues labelled with their intent."""
        if self.texts:
            return self.texts
        return [
            LabelledText(turn.text, turn.labels.get("intent"), meta={"dialogue_id": dialogue.id})
            for dialogue in self.dialogues
            for turn in dialogue.turns
            if turn.speaker == "customer"
        ]


Loader = Callable[[Path], LoadResult]
_FORMATS: dict[str, Loader] = {}
_DESCRIPTIONS: dict[str, str] = {}


def register(name: str, description: str) -> Callable[[Loader], Loader]:
    def wrap(loader: Loader) -> Loader:
        _FORMATS[name] = loader
        _DESCRIPTIONS[name] = description
        return loader

    return wrap


def formats() -> dict[str, str]:
    """Format slug → one-line description."""
    _load_all()
    return dict(_DESCRIPTIONS)


def load(format: str, path: str | Path) -> LoadResult:
    """Load ``path`` with the loader of ``format``.

    Raises:
        DatasetError: unknown format, missing path, or a file not of that format.
    """
    _load_all()
    if format not in _FORMATS:
        raise DatasetError(f"unknown dataset format {format!r}; known: {', '.join(sorted(_FORMATS))}")
    target = Path(path)
    if not target.exists():
        raise DatasetError(f"{path} does not exist")
    return _FORMATS[format](target)


def _load_all() -> None:
    from parley.intelligence.datasets import (  # noqa: F401 - importing registers the loaders
        abcd,
        airline,
        banking77,
        bitext,
        clinc150,
        sgd,
        synthetic,
        twcs,
        tweeteval,
    )


def datasets_dir() -> Path:
    """The shared datasets folder: ``PARLEY_DATASETS_DIR`` or ``<repo>/../shared/datasets``."""
    override = os.environ.get("PARLEY_DATASETS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3].parent / "shared" / "datasets"


def clean_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    return str(value).strip()


def require_columns(columns: list[str], required: list[str], path: Path) -> None:
    missing = [name for name in required if name not in columns]
    if missing:
        raise DatasetError(f"{path.name}: missing column(s) {', '.join(missing)}; found {', '.join(columns) or 'none'}")
