"""Schema-Guided Dialogue (DSTC8): multi-turn JSON with services, dialogue acts and slots.

Accepts a ``dialogues_*.json`` file or a folder of them (``schema.json`` is read for service
descriptions when present). User turns carry ``intent`` (the frame's active intent), ``acts`` and
``slots`` (slot → values); system turns carry their acts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from parley.intelligence.datasets.base import DatasetError, Dialogue, LoadResult, SchemaIssue, Turn, clean_text, register


def _turn(raw: dict[str, Any]) -> Turn:
    speaker_raw = raw.get("speaker")
    if speaker_raw not in ("USER", "SYSTEM"):
        raise ValueError(f"speaker must be USER or SYSTEM, got {speaker_raw!r}")
    text = clean_text(raw.get("utterance"))
    if not text:
        raise ValueError("empty utterance")
    frames = raw.get("frames")
    if not isinstance(frames, list):
        raise ValueError("frames must be a list")
    acts: list[str] = []
    slots: dict[str, list[str]] = {}
    intent = None
    services = []
    for frame in frames:
        services.append(frame.get("service", ""))
        for action in frame.get("actions", []):
            act = action.get("act", "")
            slot = action.get("slot", "")
            acts.append(f"{act}({slot})" if slot else act)
            if action.get("values"):
                slots.setdefault(slot, []).extend(action["values"])
        state = frame.get("state") or {}
        if state.get("active_intent") and state["active_intent"] != "NONE":
            intent = state["active_intent"]
    labels: dict[str, Any] = {"acts": acts, "slots": slots, "services": services}
    if intent:
        labels["intent"] = intent
    # SGD's SYSTEM side is an automated assistant, not a human agent.
    return Turn("customer" if speaker_raw == "USER" else "assistant", text, labels=labels)


@register("sgd", "Schema-Guided Dialogue (dialogues_*.json files or their folder)")
def load(path: Path) -> LoadResult:
    files = sorted(path.glob("dialogues_*.json")) if path.is_dir() else [path]
    if not files:
        raise DatasetError(f"no dialogues_*.json in {path}")
    result = LoadResult(format="sgd", path=str(path))
    services: dict[str, str] = {}
    schema = (path if path.is_dir() else path.parent) / "schema.json"
    if schema.is_file():
        services = {s["service_name"]: s.get("description", "") for s in json.loads(schema.read_text(encoding="utf-8"))}
    row = 0
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{file.name} is not JSON: {exc}") from exc
        if not isinstance(data, list):
            raise DatasetError(f"{file.name}: expected a list of dialogues")
        for raw in data:
            row += 1
            result.rows_read += 1
            if not isinstance(raw, dict) or "dialogue_id" not in raw or not isinstance(raw.get("turns"), list):
                result.issues.append(SchemaIssue(row, f"{file.name}: a dialogue needs dialogue_id and turns"))
                continue
            try:
                turns = [_turn(turn) for turn in raw["turns"]]
            except (ValueError, AttributeError, TypeError) as exc:
                result.issues.append(SchemaIssue(row, f"{file.name} dialogue {raw['dialogue_id']}: {exc}"))
                continue
            dialogue_services = list(raw.get("services", []))
            result.dialogues.append(
                Dialogue(
                    id=str(raw["dialogue_id"]),
                    turns=turns,
                    meta={
                        "services": dialogue_services,
                        "service_descriptions": [services.get(s, "") for s in dialogue_services],
                    },
                )
            )
    return result
