"""CSV reading shared by the loaders (real CSV parsing: quoted fields may contain newlines)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from parley.intelligence.datasets.base import DatasetError, require_columns

csv.field_size_limit(10_000_000)


def read_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(row_number, row)`` for each data row, after checking the header has ``required``."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        try:
            columns = list(reader.fieldnames or [])
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path.name} is not a UTF-8 CSV file: {exc}") from exc
        require_columns(columns, required, path)
        try:
            yield from enumerate(reader, start=1)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path.name}: unreadable CSV after row {reader.line_num}: {exc}") from exc
