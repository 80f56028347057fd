"""Conversation flow: turn sequencing, dialogue state per turn, transition graphs and typical paths.

A conversation becomes a sequence of states — the customer's intents (or ``out_of_scope`` /
``unrecognised``), a ``handover`` when a human took over — ending in its outcome. Imported SGD
dialogues also carry dialogue acts and services per turn; those give a second, finer sequence.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from parley.analytics.interface import Turn

START = "start"
UNRECOGNISED = "unrecognised"
OUT_OF_SCOPE = "out_of_scope"
HANDOVER = "handover"
LOW_CONFIDENCE = 0.35


def _acts_of(metadata: dict[str, Any], analysis: dict[str, Any]) -> tuple[list[str], str]:
    """Dialogue acts and service of a turn, in whichever shape the importer stored them."""
    acts: list[str] = []
    service = ""
    sources: list[Any] = [analysis, metadata, metadata.get("labels"), metadata.get("sgd")]
    for source in sources:
        if not isinstance(source, dict):
            continue
        raw = source.get("acts") or source.get("dialogue_acts") or source.get("actions") or []
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, str):
                acts.append(item)
            elif isinstance(item, dict) and (item.get("act") or item.get("type")):
                name = str(item.get("act") or item.get("type"))
                slot = item.get("slot")
                acts.append(f"{name}({slot})" if slot else name)
        services = source.get("service") or source.get("services")
        if not service and services:
            service = str(services[0] if isinstance(services, list) else services)
        frames = source.get("frames")
        if not acts and isinstance(frames, list):
            for frame in frames:
                if isinstance(frame, dict):
                    service = service or str(frame.get("service", ""))
                    for action in frame.get("actions", []) or []:
                        if isinstance(action, dict) and action.get("act"):
                            slot = action.get("slot")
                            acts.append(f"{action['act']}({slot})" if slot else str(action["act"]))
        if acts:
            break
    return acts, service


TURN_COLUMNS = ("id", "created_at", "direction", "sender_type", "sender_user_id", "text", "analysis", "metadata")


def turn_from_message(index: int, message: Any) -> Turn:
    """Build a :class:`Turn` from a stored ``conversations.Message`` (tolerates ``analysis == {}``)."""
    return turn_from_row(index, tuple(getattr(message, column) for column in TURN_COLUMNS))


def turn_from_row(index: int, row: tuple[Any, ...]) -> Turn:
    """Build a :class:`Turn` from a message's ``TURN_COLUMNS`` values (what ``values_list`` returns)."""
    message_id, created_at, direction, sender_type, sender_user_id, text, raw_analysis, raw_metadata = row
    analysis = raw_analysis if isinstance(raw_analysis, dict) else {}
    metadata = raw_metadata if isinstance(raw_metadata, dict) else {}
    acts, service = _acts_of(metadata, analysis)
    score = analysis.get("sentiment_score")
    raw_labels = metadata.get("labels")
    labels: dict[str, Any] = raw_labels if isinstance(raw_labels, dict) else {}
    # An imported dialogue's gold annotation (SGD's active intent and acts) beats a model's guess; a
    # gold-annotated turn without an intent ("thanks, that's all") expressed none, so it is no fallback.
    gold = bool(labels.get("acts")) or isinstance(labels.get("intent"), str)
    intent = labels.get("intent") if gold else (analysis.get("intent") or None)
    return Turn(
        index=index,
        message_id=str(message_id),
        created_at=created_at,
        direction=direction,
        sender_type=sender_type,
        text=text or "",
        intent=str(intent) if intent else None,
        intent_confidence=float(analysis.get("intent_confidence") or 0.0),
        out_of_scope=bool(analysis.get("out_of_scope", False)) and not gold,
        sentiment=analysis.get("sentiment"),
        sentiment_score=float(score) if isinstance(score, int | float) else None,
        analysed=bool(analysis) or bool(labels.get("intent")),
        intent_checked=bool(labels.get("intent"))
        or (not gold and bool(analysis) and "intent=none" not in str(analysis.get("model_version", ""))),
        acts=acts,
        service=service,
        topic=str(analysis.get("topic") or ""),
        language=str(analysis.get("language") or ""),
        fallback=bool(metadata.get("fallback") or metadata.get("responder") == "fallback" or analysis.get("fallback")),
        sender_user_id=str(sender_user_id) if sender_user_id else None,
    )


def customer_state(turn: Turn) -> str:
    """The dialogue state a customer turn puts the conversation in."""
    if turn.out_of_scope:
        return OUT_OF_SCOPE
    if turn.intent:
        return turn.intent
    return UNRECOGNISED


def intent_sequence(turns: Sequence[Turn]) -> list[str]:
    """The customer's states in order, with consecutive repeats collapsed (unanalysed turns skipped)."""
    sequence: list[str] = []
    for turn in turns:
        if not turn.from_customer or not turn.analysed or not (turn.intent or turn.out_of_scope or turn.intent_checked):
            continue
        state = customer_state(turn)
        if not sequence or sequence[-1] != state:
            sequence.append(state)
    return sequence


def act_sequence(turns: Sequence[Turn]) -> list[str]:
    """Dialogue acts in order, prefixed by speaker (``USER:INFORM_INTENT``, ``SYSTEM:OFFER``)."""
    sequence = []
    for turn in turns:
        speaker = "USER" if turn.from_customer else "SYSTEM"
        for act in turn.acts:
            sequence.append(f"{speaker}:{act.split('(')[0]}")
    return sequence


def state_path(turns: Sequence[Turn], outcome: str, handed_over_at: datetime | None = None) -> list[str]:
    """``start`` → customer states (with ``handover`` where it happened) → the outcome."""
    path = [START]
    handover_placed = handed_over_at is None
    for turn in turns:
        if not handover_placed and handed_over_at is not None and turn.created_at >= handed_over_at:
            path.append(HANDOVER)
            handover_placed = True
        if turn.from_customer and turn.analysed and (turn.intent or turn.out_of_scope or turn.intent_checked):
            state = customer_state(turn)
            if path[-1] != state:
                path.append(state)
    if not handover_placed:
        path.append(HANDOVER)
    path.append(outcome)
    return path


def _weighted(paths: Iterable[Sequence[str] | tuple[Sequence[str], int]]) -> Iterable[tuple[Sequence[str], int]]:
    for item in paths:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], int):
            yield item[0], item[1]
        else:
            yield item, 1  # type: ignore[misc]


def transition_counts(paths: Iterable[Any]) -> Counter[tuple[str, str]]:
    """How often each state follows another across ``paths`` (plain paths or ``(path, weight)`` pairs)."""
    counts: Counter[tuple[str, str]] = Counter()
    for path, weight in _weighted(paths):
        for source, target in itertools.pairwise(path):
            counts[(source, target)] += weight
    return counts


def transition_graph(paths: Iterable[Any], *, min_count: int = 1, limit: int = 200) -> dict[str, Any]:
    """Nodes and weighted edges of the state graph (may contain cycles)."""
    counts = transition_counts(paths)
    edges = [(s, t, c) for (s, t), c in counts.most_common() if c >= min_count][:limit]
    nodes = sorted({e[0] for e in edges} | {e[1] for e in edges})
    return {"nodes": nodes, "edges": [{"source": s, "target": t, "count": c} for s, t, c in edges]}


def sankey(paths: Iterable[Any], *, max_steps: int = 6, limit: int = 300) -> dict[str, Any]:
    """A Sankey-ready, acyclic graph: each node is ``step:state`` so loops unroll into later steps.

    Paths longer than ``max_steps`` are cut to their first ``max_steps - 1`` states plus the outcome.
    """
    counts: Counter[tuple[str, str]] = Counter()
    for path, weight in _weighted(paths):
        trimmed = list(path) if len(path) <= max_steps else [*path[: max_steps - 1], path[-1]]
        labelled = [f"{i}:{state}" for i, state in enumerate(trimmed)]
        for source, target in itertools.pairwise(labelled):
            counts[(source, target)] += weight
    top = counts.most_common(limit)
    nodes = sorted({s for (s, _t), _v in top} | {t for (_s, t), _v in top}, key=lambda n: (int(n.split(":")[0]), n))
    return {
        "nodes": [{"id": n, "step": int(n.split(":", 1)[0]), "label": n.split(":", 1)[1]} for n in nodes],
        "links": [{"source": s, "target": t, "value": v} for (s, t), v in top],
    }


def typical_paths(
    paths_with_outcome: Iterable[tuple[Sequence[str], str, int]], *, top: int = 5
) -> dict[str, list[dict[str, Any]]]:
    """The most frequent complete paths per outcome, with counts and shares (input: path, outcome, weight)."""
    by_outcome: dict[str, Counter[tuple[str, ...]]] = {}
    for path, outcome, weight in paths_with_outcome:
        by_outcome.setdefault(outcome, Counter())[tuple(path)] += weight
    result: dict[str, list[dict[str, Any]]] = {}
    for outcome, counter in sorted(by_outcome.items()):
        total = sum(counter.values())
        result[outcome] = [
            {"path": list(path), "count": count, "share": round(count / total, 4)} for path, count in counter.most_common(top)
        ]
    return result
