"""Text preprocessing for training and import: normalisation, PII masking, seeded stratified splits."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

_WS = re.compile(r"\s+")
_PII_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("[EMAIL]", re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")),
    ("[URL]", re.compile(r"\bhttps?://\S+|\bwww\.\S+")),
    ("[CARD]", re.compile(r"\b(?:\d[ -]?){13,19}\b")),
    ("[IBAN]", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b")),
    ("[PHONE]", re.compile(r"(?<!\w)\+?\d[\d ()./-]{7,}\d\b")),
    ("[HANDLE]", re.compile(r"(?<!\w)@\w{2,}")),
]


def normalise(text: str) -> str:
    """Unicode NFKC, control characters removed, whitespace collapsed, trimmed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return _WS.sub(" ", text).strip()


def mask_pii(text: str) -> str:
    """Replace e-mail addresses, URLs, card numbers, IBANs, phone numbers and @handles by placeholders."""
    for placeholder, pattern in _PII_PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


def preprocess(text: str, *, mask: bool = False) -> str:
    """:func:`normalise`, then :func:`mask_pii` when ``mask``."""
    text = normalise(text)
    return mask_pii(text) if mask else text


def dedup_key(text: str) -> str:
    """A key under which near-identical texts collide: lower case, digits/handles/URLs/punctuation folded."""
    text = mask_pii(normalise(text)).lower()
    text = re.sub(r"\d+", "0", text)
    text = re.sub(r"[^\w\s\[\]]", "", text)
    return _WS.sub(" ", text).strip()


@dataclass(frozen=True)
class SplitIndices:
    train: list[int]
    validation: list[int]
    test: list[int]


def stratified_split(labels: list[str], *, validation: float = 0.1, test: float = 0.1, seed: int = 13) -> SplitIndices:
    """Seeded stratified train/validation/test indices; classes too small to split go to train.

    Args:
        labels: one label per example.
        validation: share for validation.
        test: share for test (0 for none).
        seed: random seed (same seed, same split).
    """
    from sklearn.model_selection import train_test_split

    indices = list(range(len(labels)))
    counts = Counter(labels)
    splittable = [i for i in indices if counts[labels[i]] >= 3]
    rest = [i for i in indices if counts[labels[i]] < 3]
    held = validation + test
    if not splittable or held <= 0:
        return SplitIndices(indices, [], [])
    n_classes = len({labels[i] for i in splittable})
    n_held = max(round(held * len(splittable)), n_classes * (2 if test > 0 else 1))
    if len(splittable) - n_held < n_classes:
        return SplitIndices(indices, [], [])
    train_idx, held_idx = train_test_split(
        splittable, test_size=n_held, random_state=seed, stratify=[labels[i] for i in splittable]
    )
    if test > 0:
        held_labels = [labels[i] for i in held_idx]
        held_counts = Counter(held_labels)
        n_test = max(1, round(len(held_idx) * test / held))
        stratify = (
            held_labels if min(held_counts.values()) >= 2 and min(n_test, len(held_idx) - n_test) >= len(held_counts) else None
        )
        val_idx, test_idx = train_test_split(held_idx, test_size=n_test, random_state=seed, stratify=stratify)
    else:
        val_idx, test_idx = held_idx, []
    return SplitIndices(sorted([*train_idx, *rest]), sorted(val_idx), sorted(test_idx))
