"""Hand-over triggers checked before (and after) the responder runs."""

from __future__ import annotations

from typing import Any

from parley.assistants.schemas import HandoverRules
from parley.orchestrator.nlu import asks_for_human


def handover_trigger(text: str, analysis: dict[str, Any], rules: HandoverRules) -> str | None:
    """The reason to hand over before answering, or None.

    Explicit requests (any supported language, or the ``contact_human_agent`` intent), sentiment at or below
    the threshold, and out-of-scope topics by rule (intents, keywords, or the analysis' out-of-scope flag
    when the rules ask for it).
    """
    intent = analysis.get("intent") or ""
    if rules.explicit_request and (asks_for_human(text, rules.extra_keywords) or intent == "contact_human_agent"):
        return "explicit_request"
    score = analysis.get("sentiment_score")
    if isinstance(score, (int, float)) and float(score) <= rules.negative_sentiment_threshold:
        return "negative_sentiment"
    lowered = text.lower()
    if intent and intent in rules.out_of_scope_intents:
        return "out_of_scope"
    if any(keyword.lower() in lowered for keyword in rules.out_of_scope_keywords):
        return "out_of_scope"
    if rules.out_of_scope and analysis.get("out_of_scope"):
        return "out_of_scope"
    return None


def is_low_confidence(analysis: dict[str, Any], *, best_passage: float, knowledge_threshold: float, rules: HandoverRules) -> bool:
    """Neither the intent model nor the knowledge base is confident about this message."""
    confidence = float(analysis.get("intent_confidence") or 0.0)
    return confidence < rules.low_confidence_threshold and best_passage < knowledge_threshold
