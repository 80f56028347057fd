"""BANKING77: online-banking queries with 77 intents.

CSV: header ``text,category``. JSON: a list of ``{"text": ..., "category"|"label"|"intent": ...}`` objects
or ``[text, label]`` pairs, or JSON Lines of such objects. Integer labels are mapped through a
``categories.json`` next to the file when present.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from parley.intelligence.datasets._csv import read_rows
from parley.intelligence.datasets.base import DatasetError, LabelledText, LoadResult, SchemaIssue, clean_text, register


def _categories(path: Path) -> list[str] | None:
    candidate = path.parent / "categories.json"
    if candidate.is_file():
        data = json.loads(candidate.read_text(encoding="utf-8"))
        if isinstance(data, list):
            return [str(item) for item in data]
    return None


def _record(raw: Any, categories: list[str] | None) -> tuple[str, str]:
    if isinstance(raw, list | tuple) and len(raw) == 2:
        text, label = raw
    elif isinstance(raw, dict):
        text = raw.get("text")
        label = raw.get("category", raw.get("label", raw.get("intent")))
    else:
        raise ValueError("expected an object with text and category, or a [text, label] pair")
    if isinstance(label, int) and not isinstance(label, bool):
        if categories is None or not 0 <= label < len(categories):
            raise ValueError(f"numeric label {label} without a matching categories.json")
        label = categories[label]
    text_s, label_s = clean_text(text), clean_text(label)
    if not text_s:
        raise ValueError("empty text")
    if not label_s:
        raise ValueError("missing category")
    return text_s, label_s


@register("banking77", "BANKING77 intents (CSV text,category or JSON)")
def load(path: Path) -> LoadResult:
    if path.is_dir():
        path = path / "train.csv"
    result = LoadResult(format="banking77", path=str(path))
    categories = _categories(path)
    allowed = set(categories) if categories else None
    if path.suffix.lower() == ".csv":
        rows: list[Any] = []
        for number, row in read_rows(path, ["text", "category"]):
            rows.append((number, {"text": row.get("text"), "category": row.get("category")}))
    else:
        content = path.read_text(encoding="utf-8")
        try:
            data = json.loads(content)
        except json.JSONDecodeError:
            try:
                data = [json.loads(line) for line in content.splitlines() if line.strip()]
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path.name} is neither JSON nor JSON Lines: {exc}") from exc
        if isinstance(data, dict):
            data = data.get("data", data.get("train"))
        if not isinstance(data, list):
            raise DatasetError(f"{path.name}: expected a list of records")
        rows = list(enumerate(data, start=1))
    for number, raw in rows:
        result.rows_read += 1
        try:
            text, label = _record(raw, categories)
        except ValueError as exc:
            result.issues.append(SchemaIssue(number, str(exc)))
            continue
        if allowed is not None and label not in allowed:
            result.issues.append(SchemaIssue(number, f"unknown category {label!r}"))
            continue
        result.texts.append(LabelledText(text, label))
    return result
