"""ABCD (Action-Based Conversations Dataset): a JSON list (or ``{train, dev, test}`` object) of dialogues.

Each dialogue has ``convo_id``, ``scenario`` (``flow``/``subflow`` = its intent) and ``original``
(``[speaker, text]`` pairs; speaker agent, customer or action — actions become system turns).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from parley.intelligence.datasets.base import DatasetError, Dialogue, LoadResult, SchemaIssue, Speaker, Turn, clean_text, register

_SPEAKERS: dict[str, Speaker] = {"customer": "customer", "agent": "agent", "action": "system"}


@register("abcd", "ABCD dialogues (JSON list or {train,dev,test}; .json or .json.gz)")
def load(path: Path) -> LoadResult:
    if path.is_dir():
        files = sorted([*path.glob("abcd_*.json.gz"), *path.glob("abcd_*.json")])
        if not files:
            raise DatasetError(f"no abcd_*.json(.gz) in {path}")
        path = files[0]
    opener: Any = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (json.JSONDecodeError, OSError) as exc:
        raise DatasetError(f"{path.name} is not ABCD JSON: {exc}") from exc
    splits: dict[str, list[Any]] = data if isinstance(data, dict) else {"train": data}
    result = LoadResult(format="abcd", path=str(path))
    row = 0
    for split, items in splits.items():
        if not isinstance(items, list):
            raise DatasetError(f"{path.name}: {split} is not a list of dialogues")
        for raw in items:
            row += 1
            result.rows_read += 1
            try:
                scenario = raw["scenario"]
                intent = f"{scenario['flow']}/{scenario['subflow']}"
                turns = []
                for speaker, text in raw["original"]:
                    mapped = _SPEAKERS.get(speaker)
                    if mapped is None:
                        raise ValueError(f"unknown speaker {speaker!r}")
                    labels = {"intent": intent} if mapped == "customer" else {}
                    turns.append(Turn(mapped, clean_text(text), labels=labels))
            except (KeyError, TypeError, ValueError) as exc:
                result.issues.append(SchemaIssue(row, f"dialogue needs scenario.flow/subflow and original pairs: {exc}"))
                continue
            result.dialogues.append(
                Dialogue(id=str(raw.get("convo_id", row)), turns=turns, meta={"split": split, "intent": intent})
            )
    return result
