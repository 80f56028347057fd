"""Failure-point detection: where each conversation went wrong, with the turn and an excerpt.

Kinds (stable slugs used by the API, exports and alerts):

- ``fallback`` — the customer's turn was not understood (no intent) or the assistant answered with
  its fallback.
- ``out_of_scope`` — the customer asked for something the assistant does not cover.
- ``repeated_question`` — the customer asked the same intent again after getting a reply.
- ``sentiment_drop`` — the customer's sentiment fell sharply from one turn to the next, to negative.
- ``frustration`` — the customer used a frustration phrase ("this is useless", "talk to a human", ...).
- ``abandonment`` — the customer left after an assistant turn without a resolution.
- ``handover_after_failures`` — a human took over after N or more failed turns.
- ``tool_error`` — a tool the assistant called failed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from parley.analytics.interface import FailurePoint, ToolCallRecord, Turn

FAILURE_KINDS = (
    "fallback",
    "out_of_scope",
    "repeated_question",
    "sentiment_drop",
    "frustration",
    "abandonment",
    "handover_after_failures",
    "tool_error",
)

FRUSTRATION_PATTERNS = [
    r"\b(this|that|you)\s+(is|are)\s+(useless|ridiculous|pointless|a joke|terrible|awful|the worst)\b",
    r"\b(useless|ridiculous|unacceptable|pathetic|incompetent|worst service)\b",
    r"\b(talk|speak|chat)\s+(to|with)\s+(a|an|some)?\s*(human|person|real person|agent|representative|someone)\b",
    r"\b(real|actual)\s+(human|person)\b",
    r"\b(not|isn'?t|wasn'?t)\s+(helpful|helping|working)\b",
    r"\bdoesn'?t\s+(help|work|answer)\b",
    r"\b(already|i just)\s+(told|said|asked|explained)\b",
    r"\b(again|still)\b.*\b(not|no|nothing|wrong)\b",
    r"\bwaste of (my )?time\b",
    r"\b(frustrat\w*|annoy\w*|fed up|sick of|angry|furious)\b",
    r"\b(wtf|ffs|omg)\b",
    r"[!?]{3,}",
]
_FRUSTRATION = re.compile("|".join(f"(?:{p})" for p in FRUSTRATION_PATTERNS), re.IGNORECASE)
SENTIMENT_DROP = 0.5


@dataclass(frozen=True)
class FailureSettings:
    """Tunable thresholds (``Tenant.settings["analytics"]`` may override them)."""

    low_confidence: float = 0.0
    failed_turns_before_handover: int = 2
    sentiment_drop: float = SENTIMENT_DROP


def _excerpt(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def frustration_phrase(text: str) -> str | None:
    """The frustration phrase in ``text``, if any."""
    match = _FRUSTRATION.search(text or "")
    return match.group(0) if match else None


def detect_failures(
    turns: Sequence[Turn],
    *,
    abandoned: bool = False,
    handed_over_at: datetime | None = None,
    tool_calls: Sequence[ToolCallRecord] = (),
    settings: FailureSettings | None = None,
) -> list[FailurePoint]:
    """Every failure point of one conversation, in turn order.

    Args:
        turns: the conversation's non-private messages in order.
        abandoned: whether the conversation was abandoned (decided by the caller from timestamps).
        handed_over_at: when a human took over, if one did.
        tool_calls: the assistant's tool executions in this conversation.
        settings: thresholds.
    """
    settings = settings or FailureSettings()
    points: list[FailurePoint] = []
    failed_turns: list[int] = []
    asked: dict[str, int] = {}
    replied_since: dict[str, bool] = {}
    previous_score: float | None = None
    for turn in turns:
        if turn.from_customer:
            if turn.analysed and turn.out_of_scope:
                points.append(FailurePoint("out_of_scope", turn.index, turn.message_id, _excerpt(turn.text)))
                failed_turns.append(turn.index)
            elif (
                turn.analysed
                and turn.intent_checked
                and (not turn.intent or bool(settings.low_confidence and turn.intent_confidence < settings.low_confidence))
            ):
                points.append(FailurePoint("fallback", turn.index, turn.message_id, _excerpt(turn.text), "intent not recognised"))
                failed_turns.append(turn.index)
            if turn.intent and not turn.out_of_scope:
                if turn.intent in asked and replied_since.get(turn.intent):
                    points.append(
                        FailurePoint(
                            "repeated_question",
                            turn.index,
                            turn.message_id,
                            _excerpt(turn.text),
                            f"{turn.intent} first asked at turn {asked[turn.intent]}",
                        )
                    )
                    failed_turns.append(turn.index)
                asked.setdefault(turn.intent, turn.index)
                replied_since[turn.intent] = False
            phrase = frustration_phrase(turn.text)
            if phrase:
                points.append(FailurePoint("frustration", turn.index, turn.message_id, _excerpt(turn.text), phrase))
            if turn.sentiment_score is not None:
                if (
                    previous_score is not None
                    and previous_score - turn.sentiment_score >= settings.sentiment_drop
                    and (turn.sentiment == "negative" or turn.sentiment_score < 0)
                ):
                    points.append(
                        FailurePoint(
                            "sentiment_drop",
                            turn.index,
                            turn.message_id,
                            _excerpt(turn.text),
                            f"{previous_score:+.2f} → {turn.sentiment_score:+.2f}",
                        )
                    )
                previous_score = turn.sentiment_score
        elif turn.is_reply:
            for intent in replied_since:
                replied_since[intent] = True
            if turn.sender_type == "assistant" and turn.fallback:
                points.append(
                    FailurePoint("fallback", turn.index, turn.message_id, _excerpt(turn.text), "assistant fallback reply")
                )
                failed_turns.append(turn.index)
    for call in tool_calls:
        if not call.ok:
            at = _turn_at(turns, call.created_at)
            points.append(
                FailurePoint(
                    "tool_error",
                    at.index if at else None,
                    at.message_id if at else None,
                    _excerpt(call.error or "tool failed"),
                    call.name,
                )
            )
    if handed_over_at is not None:
        before = [i for i in failed_turns if turns[i].created_at <= handed_over_at]
        if len(set(before)) >= settings.failed_turns_before_handover:
            handover_turn = _turn_at(turns, handed_over_at)
            points.append(
                FailurePoint(
                    "handover_after_failures",
                    handover_turn.index if handover_turn else None,
                    handover_turn.message_id if handover_turn else None,
                    _excerpt(handover_turn.text) if handover_turn else "",
                    f"{len(set(before))} failed turns before the handover",
                )
            )
    if abandoned:
        last_reply = next((t for t in reversed(turns) if t.is_reply and t.sender_type == "assistant"), None)
        if last_reply is not None:
            points.append(
                FailurePoint(
                    "abandonment", last_reply.index, last_reply.message_id, _excerpt(last_reply.text), "no answer after this turn"
                )
            )
    points.sort(key=lambda p: (p.turn_index if p.turn_index is not None else 10**9, FAILURE_KINDS.index(p.kind)))
    return points


def _turn_at(turns: Sequence[Turn], at: datetime | None) -> Turn | None:
    """The last turn at or before ``at`` (the first turn when ``at`` is earlier than all)."""
    if not turns:
        return None
    if at is None:
        return turns[-1]
    candidate = turns[0]
    for turn in turns:
        if turn.created_at <= at:
            candidate = turn
        else:
            break
    return candidate
