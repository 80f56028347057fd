"""CLINC150 (OOS-eval): 150 intents plus out-of-scope queries labelled ``oos``.

One JSON object whose keys (``train``, ``val``, ``oos_train``, ``oos_val``, ...) map to lists of
``[utterance, intent]`` pairs. ``oos_*`` keys are merged into their split (``oos_val`` → ``val``).
"""

from __future__ import annotations

import json
from pathlib import Path

from parley.intelligence.datasets.base import DatasetError, LabelledText, LoadResult, SchemaIssue, clean_text, register

OOS_LABEL = "oos"


@register("clinc150", "CLINC150 intents with out-of-scope (JSON of [text, intent] pairs per split)")
def load(path: Path) -> LoadResult:
    if path.is_dir():
        candidates = sorted(path.glob("data_*.json"))
        if not candidates:
            raise DatasetError(f"no data_*.json in {path}")
        path = candidates[0]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path.name} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not any(isinstance(v, list) for v in data.values()):
        raise DatasetError(f"{path.name}: expected an object mapping split names to lists of [text, intent]")
    result = LoadResult(format="clinc150", path=str(path))
    row = 0
    for key, items in data.items():
        if not isinstance(items, list):
            continue
        split = key.removeprefix("oos_")
        for item in items:
            row += 1
            result.rows_read += 1
            if not (isinstance(item, list) and len(item) == 2):
                result.issues.append(SchemaIssue(row, f"{key}: expected [text, intent]"))
                continue
            text, label = clean_text(item[0]), clean_text(item[1])
            if not text or not label:
                result.issues.append(SchemaIssue(row, f"{key}: empty text or intent"))
                continue
            result.texts.append(LabelledText(text, label, split=split, meta={"source_key": key}))
    return result
