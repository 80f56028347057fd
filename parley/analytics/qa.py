"""Automatic QA score per conversation: a rubric evaluated by the configured LLM, or by rules.

Criteria (each 0..1, or None when it does not apply): ``greeting``, ``correct_information``
(replies grounded in the knowledge base), ``empathy`` (when the customer was upset), ``resolution``,
``policy_compliance``. The score is the mean of the applicable criteria × 100.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import structlog

from parley.analytics.failures import frustration_phrase
from parley.analytics.interface import Turn

log = structlog.get_logger(__name__)

CRITERIA = ("greeting", "correct_information", "empathy", "resolution", "policy_compliance")
_GREETING = re.compile(
    r"\b(hi|hello|hey|good (morning|afternoon|evening)|welcome|thanks for (contacting|reaching)|thank you for (contacting|reaching))\b",
    re.I,
)
_EMPATHY = re.compile(r"\b(sorry|apolog\w*|understand|i see how|frustrating|that must be|i hear you|unfortunately)\b", re.I)
_POLICY_DEFAULT = [
    r"\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b",  # a full card number in a reply
    r"\b(send|give|tell) (me|us) your (password|pin|cvv|security code)\b",
    r"\b(stupid|idiot|shut up)\b",
    r"\bwe guarantee\b",
]
GROUNDED_SCORE = 0.5


def rules_score(
    turns: Sequence[Turn],
    *,
    outcome: str,
    forbidden: Sequence[str] = (),
    grounding: Sequence[float] | None = None,
) -> dict[str, dict[str, Any]]:
    """Evaluate the rubric with rules.

    Args:
        turns: the conversation.
        outcome: its outcome (see ``Outcome``).
        forbidden: extra regular expressions replies must not match (tenant policy).
        grounding: best knowledge-retrieval score of each assistant reply, when known.
    """
    replies = [t for t in turns if t.is_reply]
    customer = [t for t in turns if t.from_customer]
    result: dict[str, dict[str, Any]] = {}
    if replies:
        greeted = bool(_GREETING.search(replies[0].text))
        result["greeting"] = {
            "score": 1.0 if greeted else 0.0,
            "reason": "first reply greets" if greeted else "no greeting in the first reply",
        }
    else:
        result["greeting"] = {"score": None, "reason": "no reply"}
    if grounding:
        grounded = sum(1 for s in grounding if s >= GROUNDED_SCORE)
        result["correct_information"] = {
            "score": grounded / len(grounding),
            "reason": f"{grounded}/{len(grounding)} replies match the knowledge base",
        }
    else:
        result["correct_information"] = {"score": None, "reason": "no knowledge base to check against"}
    upset = [t for t in customer if (t.sentiment == "negative") or frustration_phrase(t.text)]
    if upset:
        after = [t for t in replies if t.created_at >= upset[0].created_at]
        empathic = any(_EMPATHY.search(t.text) for t in after)
        result["empathy"] = {
            "score": 1.0 if empathic else 0.0,
            "reason": "acknowledged the customer's frustration" if empathic else "no empathy after a negative turn",
        }
    else:
        result["empathy"] = {"score": None, "reason": "customer was not upset"}
    if outcome.startswith("resolved"):
        result["resolution"] = {"score": 1.0, "reason": outcome}
    elif outcome in ("abandoned",):
        result["resolution"] = {"score": 0.0, "reason": "customer left unresolved"}
    elif outcome == "handed_over":
        result["resolution"] = {"score": 0.5, "reason": "handed over, not resolved yet"}
    else:
        result["resolution"] = {"score": None, "reason": "still open"}
    patterns = [re.compile(p, re.I) for p in [*_POLICY_DEFAULT, *forbidden]]
    violations = [t.index for t in replies for p in patterns if p.search(t.text)]
    result["policy_compliance"] = {
        "score": 0.0 if violations else 1.0,
        "reason": f"policy violation at turn {violations[0]}" if violations else "no policy violations",
    }
    return result


def overall(criteria: dict[str, dict[str, Any]]) -> float:
    """0..100: the mean of applicable criteria."""
    scores = [float(c["score"]) for c in criteria.values() if c.get("score") is not None]
    return round(100.0 * sum(scores) / len(scores), 1) if scores else 0.0


def llm_score(turns: Sequence[Turn], *, tenant_id: str, conversation_id: str) -> dict[str, dict[str, Any]] | None:
    """Ask the configured LLM to grade the rubric; None when no LLM is configured or it failed."""
    try:
        from parley.llm import router
        from parley.llm.types import ChatMessage, LLMRequest
    except ImportError:
        return None
    routing = router.default_routing()
    if routing is None:
        return None
    transcript = "\n".join(f"[{t.index}] {t.sender_type}: {t.text}" for t in turns)[:12000]
    prompt = (
        "Grade this customer-support conversation. For each criterion give a score between 0 and 1 (or null if it "
        f"does not apply) and a short reason. Criteria: {', '.join(CRITERIA)}. Answer with JSON only: "
        '{"greeting": {"score": 1, "reason": "..."}, ...}\n\n' + transcript
    )
    try:
        response = router.complete(
            LLMRequest(
                messages=[
                    ChatMessage(role="system", content="You are a strict support QA reviewer."),
                    ChatMessage(role="user", content=prompt),
                ],
                tools=[],
                routing=routing,
                tenant_id=tenant_id,
                assistant_id=None,
                conversation_id=conversation_id,
                purpose="qa",
            )
        )
        text = response.content or ""
        data = json.loads(text[text.find("{") : text.rfind("}") + 1])
    except Exception as exc:  # noqa: BLE001 - any LLM failure falls back to the rules
        log.warning("qa_llm_failed", error=str(exc)[:200])
        return None
    result: dict[str, dict[str, Any]] = {}
    for name in CRITERIA:
        item = data.get(name) if isinstance(data, dict) else None
        score = item.get("score") if isinstance(item, dict) else None
        if isinstance(score, int | float):
            score = min(1.0, max(0.0, float(score)))
        else:
            score = None
        result[name] = {"score": score, "reason": str(item.get("reason", ""))[:300] if isinstance(item, dict) else ""}
    return result
