"""Data quality report of a loaded dataset: completeness, duplicates, lengths, labels, languages, schema errors."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from parley.intelligence.datasets.base import LoadResult
from parley.intelligence.preprocessing import dedup_key

OVERLONG_CHARS = 2000
LANGUAGE_SAMPLE = 1000


def quality_report(result: LoadResult, *, embeddings: np.ndarray | None = None, max_listed: int = 50) -> dict[str, Any]:
    """A JSON-able report of ``result``.

    Args:
        result: what a loader produced.
        embeddings: optional embeddings of ``result.as_texts()``; enables semantic label-noise candidates
            (examples whose nearest neighbours mostly carry another label).
        max_listed: how many examples to list per finding.
    """
    records = result.as_texts()
    texts = [record.text for record in records]
    labels = [record.label for record in records]
    exact = Counter(texts)
    keys = [dedup_key(text) for text in texts]
    near = Counter(keys)
    by_key: dict[str, set[str]] = defaultdict(set)
    for text, key in zip(texts, keys, strict=True):
        by_key[key].add(text)
    conflicting: list[dict[str, Any]] = []
    labels_by_text: dict[str, set[str]] = defaultdict(set)
    for text, label in zip(texts, labels, strict=True):
        if label:
            labels_by_text[dedup_key(text)].add(label)
    for key, label_set in labels_by_text.items():
        if len(label_set) > 1 and len(conflicting) < max_listed:
            conflicting.append({"text": sorted(by_key[key])[0], "labels": sorted(label_set)})
    lengths = np.asarray([len(text) for text in texts]) if texts else np.zeros(1)
    label_counts = Counter(label for label in labels if label)
    rng = random.Random(0)
    sample = texts if len(texts) <= LANGUAGE_SAMPLE else rng.sample(texts, LANGUAGE_SAMPLE)
    from parley.intelligence.language import language_mix

    turns_total = sum(len(d.turns) for d in result.dialogues)
    report: dict[str, Any] = {
        "format": result.format,
        "path": result.path,
        "rows_read": result.rows_read,
        "records": len(records),
        "dialogues": len(result.dialogues),
        "turns": turns_total,
        "completeness": {
            "valid_rows": result.rows_read - len(result.issues),
            "share_valid": round((result.rows_read - len(result.issues)) / result.rows_read, 4) if result.rows_read else 0.0,
            "share_labelled": round(sum(1 for label in labels if label) / len(labels), 4) if labels else 0.0,
        },
        "duplicates": {
            "exact": sum(count - 1 for count in exact.values() if count > 1),
            "near": sum(count - 1 for count in near.values() if count > 1)
            - sum(count - 1 for count in exact.values() if count > 1),
            "examples": [sorted(group)[:3] for group in by_key.values() if len(group) > 1][:max_listed],
        },
        "lengths": {
            "empty": int(sum(1 for text in texts if not text.strip())),
            "overlong": int((lengths > OVERLONG_CHARS).sum()),
            "overlong_threshold": OVERLONG_CHARS,
            "mean_chars": round(float(lengths.mean()), 1),
            "p95_chars": float(np.percentile(lengths, 95)),
            "max_chars": int(lengths.max()),
        },
        "labels": {
            "count": len(label_counts),
            "balance": dict(label_counts.most_common()),
            "imbalance_ratio": round(max(label_counts.values()) / min(label_counts.values()), 2) if label_counts else None,
        },
        "label_noise_candidates": {"conflicting_labels": conflicting},
        "language_mix": {"sampled": len(sample), "counts": language_mix(sample)},
        "schema_errors": {
            "count": len(result.issues),
            "rows": [{"row": i.row, "error": i.message} for i in result.issues[:max_listed]],
        },
    }
    if embeddings is not None and label_counts:
        report["label_noise_candidates"]["neighbour_disagreement"] = neighbour_disagreement(
            embeddings, labels, texts, max_listed=max_listed
        )
    return report


def neighbour_disagreement(
    embeddings: np.ndarray, labels: list[str | None], texts: list[str], *, k: int = 5, max_listed: int = 50
) -> list[dict[str, Any]]:
    """Examples whose ``k`` nearest neighbours (cosine) all carry one other label: likely mislabelled."""
    found: list[dict[str, Any]] = []
    label_arr = np.asarray([label or "" for label in labels])
    for start in range(0, len(embeddings), 1024):
        block = embeddings[start : start + 1024] @ embeddings.T
        for row, offset in enumerate(range(start, min(start + 1024, len(embeddings)))):
            block[row, offset] = -1.0
        neighbours = np.argpartition(-block, k, axis=1)[:, :k]
        for row, offset in enumerate(range(start, min(start + 1024, len(embeddings)))):
            if not label_arr[offset]:
                continue
            votes = Counter(label_arr[neighbours[row]])
            label, count = votes.most_common(1)[0]
            if count == k and label != label_arr[offset] and label:
                found.append({"text": texts[offset], "label": str(label_arr[offset]), "neighbours_say": str(label)})
    found.sort(key=lambda item: item["text"])
    return found[:max_listed]
