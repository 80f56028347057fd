"""The retrieval responder: the embedded default that needs no LLM.

It answers only with (a) verbatim quotes of knowledge-base passages above a calibrated threshold, with the
document cited, (b) the customer-safe message of a tool it called with slots taken from the message, or
(c) fixed templates (clarifying questions, hand-over notices). It never composes a factual sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from parley.orchestrator import nlu
from parley.orchestrator.interface import Decision, Passage, ToolOption
from parley.orchestrator.texts import render

# Intents (Bitext taxonomy, used by parley.intelligence) → tools that serve them, by common tool names.
INTENT_TOOL_CANDIDATES: dict[str, tuple[str, ...]] = {
    "track_order": ("lookup_order", "get_order", "get_order_status", "order_status", "track_order"),
    "track_refund": ("lookup_order", "get_order", "get_order_status", "order_status"),
    "get_refund": ("refund_order", "request_refund", "create_refund", "issue_refund", "refund"),
    "cancel_order": ("cancel_order",),
}
INTENT_TITLES: dict[str, str] = {
    "track_order": "Order status",
    "track_refund": "Refund status",
    "get_refund": "Refund",
    "cancel_order": "Cancel order",
    "check_refund_policy": "Refund policy",
    "change_order": "Change order",
    "delivery_period": "Delivery time",
}
SMALLTALK = {"greeting": "greeting", "thanks": "thanks"}
PASSAGE_TIE_MARGIN = 0.02
INTENT_TIE_MARGIN = 0.1
MIN_TOOL_INTENT_CONFIDENCE = 0.3
QUOTE_MAX_CHARS = 450


@dataclass
class ResponderState:
    """What the previous turn left open: a tool waiting for a slot, or a clarifying question."""

    pending_intent: str = ""
    pending_arguments: dict[str, Any] = field(default_factory=dict)
    options: list[dict[str, str]] = field(default_factory=list)


@dataclass
class RetrievalInput:
    """Everything the retrieval responder decides from."""

    text: str
    analysis: dict[str, Any]
    language: str
    passages: list[Passage]
    tools: list[ToolOption]
    threshold: float
    intent_tools: dict[str, str] = field(default_factory=dict)
    state: ResponderState = field(default_factory=ResponderState)
    customer_email: str = ""
    button_id: str = ""
    open_order_numbers: list[str] = field(default_factory=list)


def respond(data: RetrievalInput) -> Decision:
    """Decide the reply for one customer message (see the module docstring for what it may say)."""
    chosen = _answer_to_clarification(data)
    if chosen is not None:
        return chosen
    intent = data.analysis.get("intent") or ""
    confidence = float(data.analysis.get("intent_confidence") or 0.0)
    if intent in SMALLTALK and not nlu.order_numbers(data.text):
        return Decision(kind="smalltalk", text=render(SMALLTALK[intent], data.language))
    ambiguous = _close_intents(data)
    if ambiguous is not None:
        return ambiguous
    pending = data.state.pending_intent
    if pending and _tool_for(pending, data) is not None and (nlu.order_numbers(data.text) or nlu.emails(data.text)):
        return _tool_decision(pending, data, carried=data.state.pending_arguments)
    if intent and confidence >= MIN_TOOL_INTENT_CONFIDENCE and _tool_for(intent, data) is not None:
        return _tool_decision(intent, data, carried={})
    return _knowledge_decision(data)


def _tool_for(intent: str, data: RetrievalInput) -> ToolOption | None:
    by_name = {tool.name: tool for tool in data.tools}
    explicit = data.intent_tools.get(intent)
    if explicit:
        return by_name.get(explicit)
    for name in INTENT_TOOL_CANDIDATES.get(intent, ()):
        if name in by_name:
            return by_name[name]
    return None


def _order_value(number: str, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "integer":
        return int(number)
    pattern = schema.get("pattern")
    if pattern:
        for candidate in (number, f"#{number}"):
            if re.fullmatch(pattern, candidate) or re.search(pattern, candidate):
                return candidate
    return number


def _tool_decision(intent: str, data: RetrievalInput, *, carried: dict[str, Any]) -> Decision:
    tool = _tool_for(intent, data)
    assert tool is not None
    properties: dict[str, Any] = dict(tool.parameters.get("properties") or {})
    required = list(tool.parameters.get("required") or [])
    arguments: dict[str, Any] = {k: v for k, v in carried.items() if k in properties}
    numbers = nlu.order_numbers(data.text)
    if not numbers and len(data.open_order_numbers) == 1 and intent in ("track_order", "track_refund"):
        numbers = [data.open_order_numbers[0].lstrip("#")]
    found_emails = nlu.emails(data.text) or ([data.customer_email] if data.customer_email else [])
    for name, schema in properties.items():
        if name in arguments:
            continue
        lowered = name.lower()
        if "order" in lowered and numbers:
            arguments[name] = _order_value(numbers[0], schema if isinstance(schema, dict) else {})
        elif "email" in lowered and found_emails:
            arguments[name] = found_emails[0]
        elif lowered in ("reason", "note", "comment", "message", "description") and name in required:
            arguments[name] = data.text[:500]
    missing = [name for name in required if name not in arguments]
    if missing:
        slot = missing[0]
        if "order" in slot.lower():
            question = render("ask_order_number", data.language)
        elif "email" in slot.lower():
            question = render("ask_email", data.language)
        else:
            question = render("ask_value", data.language, name=slot.replace("_", " "))
        return Decision(kind="clarify", text=question, pending_intent=intent, tool_name=tool.name, tool_arguments=arguments)
    return Decision(kind="tool", tool_name=tool.name, tool_arguments=arguments, pending_intent=intent)


def _close_intents(data: RetrievalInput) -> Decision | None:
    """Two intents the analysis finds about equally likely, both actionable → ask which one."""
    candidates = data.analysis.get("intent_candidates") or data.analysis.get("top_intents") or []
    ranked = sorted(
        (c for c in candidates if isinstance(c, dict) and c.get("intent")),
        key=lambda c: -_score(c),
    )
    if len(ranked) < 2:
        return None
    first, second = ranked[0], ranked[1]
    gap = _score(first) - _score(second)
    if gap > INTENT_TIE_MARGIN or first["intent"] == second["intent"]:
        return None
    if not all(c["intent"] in INTENT_TITLES for c in (first, second)):
        return None
    options = [{"id": f"intent:{c['intent']}", "title": INTENT_TITLES[c["intent"]][:20]} for c in (first, second)]
    return _clarify(options, data.language)


def _score(candidate: dict[str, Any]) -> float:
    value = candidate.get("confidence", candidate.get("score", 0.0))
    return float(value) if isinstance(value, (int, float, str)) else 0.0


def _clarify(options: list[dict[str, str]], language: str) -> Decision:
    joiner = f" {render('or', language)} "
    text = render("clarify", language, options=joiner.join(f"“{o['title']}”" for o in options))
    return Decision(
        kind="clarify", text=text, buttons=[{"id": o["id"], "title": o["title"][:20]} for o in options], options=options
    )


def _answer_to_clarification(data: RetrievalInput) -> Decision | None:
    if not data.state.options:
        return None
    said = nlu.normalise(data.text)
    for option in data.state.options:
        if data.button_id and data.button_id == option["id"]:
            said = option["id"].lower()
        if said in (option["id"].lower(), nlu.normalise(option["title"]), nlu.normalise(option.get("full_title", ""))):
            kind, _, value = option["id"].partition(":")
            if kind == "intent":
                if _tool_for(value, data) is not None:
                    return _tool_decision(value, data, carried=data.state.pending_arguments)
                return _knowledge_decision(data)
            if kind == "doc":
                for passage in data.passages:
                    if passage.document_id == value:
                        return _answer(passage, data)
                quoted = option.get("quote")
                if quoted:
                    return Decision(
                        kind="answer",
                        text=render(
                            "answer",
                            data.language,
                            title=option.get("full_title", option["title"]),
                            quote=quoted,
                            source=option.get("source", ""),
                        ),
                        citations=[
                            {
                                "document_id": value,
                                "title": option.get("full_title", option["title"]),
                                "url": option.get("url", ""),
                            }
                        ],
                    )
    return None


def _knowledge_decision(data: RetrievalInput) -> Decision:
    relevant = [p for p in data.passages if p.score >= data.threshold]
    if not relevant:
        return Decision(kind="handover", handover_reason="no_relevant_answer")
    relevant.sort(key=lambda p: -p.score)
    best = relevant[0]
    rival = next((p for p in relevant[1:] if p.document_id != best.document_id), None)
    if rival is not None and best.score - rival.score < PASSAGE_TIE_MARGIN and best.document_title != rival.document_title:
        options = []
        for passage in (best, rival):
            options.append(
                {
                    "id": f"doc:{passage.document_id}",
                    "title": (passage.document_title or passage.source_name or "?")[:20],
                    "full_title": passage.document_title,
                    "quote": quote(passage.text, data.text),
                    "source": _source(passage),
                    "url": passage.url,
                }
            )
        return _clarify(options, data.language)
    siblings = [p for p in relevant[1:] if p.document_id == best.document_id][:2]
    return _answer(best, data, siblings=siblings)


def _source(passage: Passage) -> str:
    title = passage.document_title or passage.source_name
    return f"{title} – {passage.url}" if passage.url else title


def _answer(passage: Passage, data: RetrievalInput, *, siblings: list[Passage] | None = None) -> Decision:
    """Quote the best passage; other relevant sections of the same document may supply the best sentences."""
    siblings = siblings or []
    title = " › ".join([passage.document_title, *passage.heading_path[-1:]]) if passage.heading_path else passage.document_title
    text = "\n\n".join(p.text.strip() for p in [passage, *siblings])
    excerpt = quote(text, data.text) if siblings else quote(passage.text, data.text)
    if siblings and len(text) > QUOTE_MAX_CHARS:
        title = passage.document_title
    return Decision(
        kind="answer",
        text=render("answer", data.language, title=title, quote=excerpt, source=_source(passage)),
        citations=[
            {"chunk_id": p.chunk_id, "document_id": p.document_id, "title": p.document_title, "url": p.url}
            for p in [passage, *siblings]
            if p is passage or any(sentence in excerpt for sentence in _sentences(p.text))
        ],
    )


_WORD = re.compile(r"\w+", re.UNICODE)
# Sentence ends, blank lines and the start of a Markdown heading, list item or quote. A single line break
# is not one: documents are often hard-wrapped, and a wrapped line is not a sentence.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n\s*|\n(?=[ \t]*(?:#|[-*+>]\s|\d+[.)]\s))")


def _sentences(text: str) -> list[str]:
    """The sentences of ``text``, each on one line (a hard-wrapped sentence's line breaks become spaces)."""
    return [" ".join(part.split()) for part in _SENTENCE.split(text.strip()) if part and part.strip()]


def quote(passage: str, query: str, max_chars: int = QUOTE_MAX_CHARS) -> str:
    """A verbatim excerpt of ``passage``: whole when short, else the sentences that best match ``query``."""
    text = passage.strip()
    if len(text) <= max_chars:
        return text
    sentences = _sentences(text)
    query_words = {w.lower() for w in _WORD.findall(query) if len(w) > 2}
    scored = sorted(
        range(len(sentences)),
        key=lambda i: (-len(query_words & {w.lower() for w in _WORD.findall(sentences[i])}), i),
    )
    keep: list[int] = []
    size = 0
    for index in scored:
        if size + len(sentences[index]) > max_chars and keep:
            continue
        keep.append(index)
        size += len(sentences[index]) + 1
        if size >= max_chars:
            break
    excerpt = " ".join(sentences[i] for i in sorted(keep))
    return excerpt if len(excerpt) <= max_chars else excerpt[: max_chars - 1].rsplit(" ", 1)[0] + "…"
