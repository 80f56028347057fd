"""Synthetic (or exported) support conversations in one documented CSV.

Required columns: ``conversation_id``, ``turn`` (integer order within the conversation), ``speaker``
(``customer`` | ``agent`` | ``system``; ``user``/``bot``/``assistant`` are accepted aliases), ``text``.
Optional columns: ``customer_id``, ``timestamp`` (ISO 8601), ``intent``, ``sentiment``, ``outcome``
(e.g. resolved / escalated / abandoned) and any ``label_*`` column — all kept as turn labels.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from parley.intelligence.datasets._csv import read_rows
from parley.intelligence.datasets.base import DatasetError, Dialogue, LoadResult, SchemaIssue, Speaker, Turn, clean_text, register

REQUIRED = ["conversation_id", "turn", "speaker", "text"]
_SPEAKERS: dict[str, Speaker] = {
    "customer": "customer",
    "user": "customer",
    "agent": "agent",
    "assistant": "agent",
    "bot": "agent",
    "system": "system",
}
_LABELS = ("intent", "sentiment", "outcome")


@register("synthetic", "Support conversations CSV: conversation_id, turn, speaker, text [, intent, sentiment, ...]")
def load(path: Path) -> LoadResult:
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise DatasetError(f"no .csv file in {path}")
        path = files[0]
    result = LoadResult(format="synthetic", path=str(path))
    conversations: dict[str, list[tuple[int, Turn]]] = {}
    customers: dict[str, str] = {}
    for number, row in read_rows(path, REQUIRED):
        result.rows_read += 1
        conversation_id, text = clean_text(row.get("conversation_id")), clean_text(row.get("text"))
        speaker = _SPEAKERS.get(clean_text(row.get("speaker")).lower())
        try:
            turn_no = int(clean_text(row.get("turn")))
        except ValueError:
            result.issues.append(SchemaIssue(number, f"turn must be an integer, got {row.get('turn')!r}"))
            continue
        if not conversation_id or not text:
            result.issues.append(SchemaIssue(number, "empty conversation_id or text"))
            continue
        if speaker is None:
            result.issues.append(SchemaIssue(number, f"unknown speaker {row.get('speaker')!r}"))
            continue
        timestamp = None
        if clean_text(row.get("timestamp")):
            try:
                timestamp = datetime.fromisoformat(clean_text(row.get("timestamp")))
            except ValueError:
                result.issues.append(SchemaIssue(number, f"timestamp is not ISO 8601: {row.get('timestamp')!r}"))
                continue
        labels: dict[str, Any] = {
            key: clean_text(value)
            for key, value in row.items()
            if key and (key in _LABELS or key.startswith("label_")) and clean_text(value)
        }
        conversations.setdefault(conversation_id, []).append((turn_no, Turn(speaker, text, timestamp=timestamp, labels=labels)))
        if clean_text(row.get("customer_id")):
            customers[conversation_id] = clean_text(row.get("customer_id"))
    for conversation_id, turns in conversations.items():
        turns.sort(key=lambda item: item[0])
        result.dialogues.append(
            Dialogue(id=conversation_id, turns=[turn for _, turn in turns], customer_id=customers.get(conversation_id, ""))
        )
    return result
