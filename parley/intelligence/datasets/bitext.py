"""Bitext customer-support instruction/response pairs (CSV or Parquet).

Required columns: ``instruction``, ``intent``, ``category``, ``response`` (``flags``/``tags`` optional).
Each row is a labelled customer text; as a dialogue it is the customer's instruction and the agent's response.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.intelligence.datasets._csv import read_rows
from parley.intelligence.datasets.base import (
    DatasetError,
    Dialogue,
    LabelledText,
    LoadResult,
    SchemaIssue,
    Turn,
    clean_text,
    register,
    require_columns,
)

REQUIRED = ["instruction", "intent", "category", "response"]


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise DatasetError(f"{path.name} is not a readable Parquet file: {exc}") from exc
        require_columns(table.column_names, REQUIRED, path)
        return list(enumerate(table.to_pylist(), start=1))
    return list(read_rows(path, REQUIRED))


@register("bitext", "Bitext customer support (CSV or Parquet: instruction, intent, category, response)")
def load(path: Path) -> LoadResult:
    if path.is_dir():
        files = sorted([*path.glob("*.csv"), *path.glob("*.parquet")])
        if not files:
            raise DatasetError(f"no .csv or .parquet file in {path}")
        path = files[0]
    result = LoadResult(format="bitext", path=str(path))
    for number, row in _rows(path):
        result.rows_read += 1
        instruction, intent = clean_text(row.get("instruction")), clean_text(row.get("intent"))
        category, response = clean_text(row.get("category")), clean_text(row.get("response"))
        if not instruction or not intent:
            result.issues.append(SchemaIssue(number, "empty instruction or intent"))
            continue
        meta = {"category": category, "flags": clean_text(row.get("flags") or row.get("tags"))}
        result.texts.append(LabelledText(instruction, intent, meta=meta))
        turns = [Turn("customer", instruction, labels={"intent": intent, "category": category})]
        if response:
            turns.append(Turn("agent", response))
        result.dialogues.append(Dialogue(id=f"bitext-{number}", turns=turns, meta=meta))
    return result
