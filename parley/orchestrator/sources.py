"""The orchestrator's view of its inputs: message analysis and knowledge retrieval.

Both come from sibling apps (``parley.intelligence.pipeline``, ``parley.knowledge.retrieval``); while one is
not installed, analysis falls back to the rule-based stand-in in :mod:`parley.orchestrator.nlu` and
retrieval returns nothing (so the retrieval responder hands over instead of guessing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from parley.orchestrator.interface import Passage
from parley.orchestrator.nlu import rule_analysis, rule_intent
from parley.orchestrator.optional import optional_module

log = structlog.get_logger(__name__)


@dataclass
class Analysed:
    """The analysis as stored on the message, and where it came from."""

    data: dict[str, Any]
    source: str
    error: str = ""


def analyse(text: str, *, tenant_id: str | None) -> Analysed:
    """Language, intent and sentiment of ``text`` (intelligence pipeline, else the rule stand-in)."""
    pipeline = optional_module("parley.intelligence.pipeline")
    if pipeline is not None and hasattr(pipeline, "analyse_message"):
        try:
            result = pipeline.analyse_message(text, tenant_id=tenant_id)
            data = result.model_dump() if hasattr(result, "model_dump") else dict(result)
            if not data.get("intent"):
                # No intent model promoted for this tenant yet: keyword rules still catch the actionable intents.
                intent, confidence = rule_intent(text)
                if intent:
                    data.update(intent=intent, intent_confidence=confidence, intent_source="rules")
            return Analysed(data=data, source="intelligence")
        except Exception as exc:  # noqa: BLE001 - a broken model must not cost the customer an answer
            log.warning("analysis_failed", error=str(exc))
            return Analysed(data=rule_analysis(text).model_dump(), source="rules", error=f"analysis: {exc}")
    return Analysed(data=rule_analysis(text).model_dump(), source="rules")


def prepare_retrieval(*, tenant: Any, query: str) -> Any:
    """Start what retrieval for ``query`` can do ahead (embedding it in the background while the turn reads
    its context); the handle goes to :func:`retrieve`. None when knowledge is not installed or this fails
    (retrieval then does it all itself)."""
    retrieval = optional_module("parley.knowledge.retrieval")
    if retrieval is None or not hasattr(retrieval, "prepare_query"):
        return None
    try:
        return retrieval.prepare_query(tenant=tenant, query=query)
    except Exception as exc:  # noqa: BLE001 - only a head start: retrieval itself reports what fails
        log.warning("retrieval_prepare_failed", error=str(exc))
        return None


def retrieve(
    *,
    tenant: Any,
    query: str,
    k: int = 5,
    source_ids: list[str] | None = None,
    tags: list[str] | None = None,
    language: str | None = None,
    conversation_id: str | None = None,
    record: bool = True,
    prepared: Any = None,
) -> tuple[list[Passage], str]:
    """Knowledge passages for ``query``, best first, and an error note ('' when fine); ``prepared``: what
    :func:`prepare_retrieval` returned for the same tenant and query."""
    retrieval = optional_module("parley.knowledge.retrieval")
    if retrieval is None or not hasattr(retrieval, "search"):
        return [], "knowledge: not installed"
    try:
        chunks = retrieval.search(
            tenant=tenant,
            query=query,
            k=k,
            source_ids=source_ids or None,
            tags=tags or None,
            language=language,
            conversation_id=conversation_id,
            record=record,
            **({"embedder": prepared} if prepared is not None else {}),
        )
    except Exception as exc:  # noqa: BLE001 - retrieval failing must degrade to a handover, not a dropped message
        log.warning("retrieval_failed", error=str(exc))
        return [], f"knowledge: {exc}"
    return [to_passage(chunk) for chunk in chunks], ""


def to_passage(chunk: Any) -> Passage:
    """Convert a knowledge ``RetrievedChunk`` (or a dict with the same fields) into a Passage."""
    get = chunk.get if isinstance(chunk, dict) else lambda name, default=None: getattr(chunk, name, default)
    return Passage(
        chunk_id=str(get("chunk_id", "")),
        document_id=str(get("document_id", "")),
        document_title=str(get("document_title", "") or ""),
        source_name=str(get("source_name", "") or ""),
        url=str(get("url", "") or ""),
        heading_path=[str(part) for part in (get("heading_path", []) or [])],
        text=str(get("text", "") or ""),
        score=float(get("score", 0.0) or 0.0),
    )
