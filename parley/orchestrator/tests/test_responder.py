"""The retrieval responder only quotes the knowledge base, fills tools from the message, asks when unsure,
and hands over when it has nothing; the language rules it relies on work across languages."""

from __future__ import annotations

import pytest

from parley.orchestrator import nlu
from parley.orchestrator.interface import Passage, ToolOption
from parley.orchestrator.responder import ResponderState, RetrievalInput, quote, respond

RETURNS = Passage(
    chunk_id="c1",
    document_id="d1",
    document_title="Returns and refunds",
    source_name="Help center",
    url="https://help.example/returns",
    heading_path=["Refunds"],
    text="You can return any item within 30 days of delivery. Refunds reach your card within 5 business days.",
    score=0.82,
)
SHIPPING = Passage(
    chunk_id="c2",
    document_id="d2",
    document_title="Shipping times",
    source_name="Help center",
    url="",
    heading_path=[],
    text="Standard shipping takes 3 to 5 business days.",
    score=0.81,
)
LOOKUP = ToolOption(
    name="lookup_order",
    description="Look up an order",
    parameters={"type": "object", "properties": {"order_number": {"type": "string"}}, "required": ["order_number"]},
)
REFUND = ToolOption(
    name="refund_order",
    description="Refund an order",
    parameters={
        "type": "object",
        "properties": {"order_number": {"type": "string", "pattern": "^#\\d+$"}, "reason": {"type": "string"}},
        "required": ["order_number", "reason"],
    },
)


def _input(text: str, **kwargs: object) -> RetrievalInput:
    values: dict[str, object] = {
        "text": text,
        "analysis": {"intent": None, "intent_confidence": 0.0, "language": "en"},
        "language": "en",
        "passages": [],
        "tools": [LOOKUP, REFUND],
        "threshold": 0.5,
    }
    values.update(kwargs)
    return RetrievalInput(**values)  # type: ignore[arg-type]


def test_answers_with_a_verbatim_quote_and_cites_the_document() -> None:
    decision = respond(_input("How long do I have to return something?", passages=[RETURNS]))
    assert decision.kind == "answer"
    assert RETURNS.text in decision.text
    assert "Returns and refunds" in decision.text and RETURNS.url in decision.text
    assert decision.citations == [{"chunk_id": "c1", "document_id": "d1", "title": "Returns and refunds", "url": RETURNS.url}]


def test_hands_over_when_nothing_clears_the_threshold() -> None:
    weak = Passage(**{**RETURNS.as_dict(), "score": 0.49})
    decision = respond(_input("Can I pay with bitcoin?", passages=[weak]))
    assert decision.kind == "handover"
    assert decision.handover_reason == "no_relevant_answer"
    assert decision.text == ""


def test_two_equally_good_documents_get_a_clarifying_question_then_the_chosen_answer() -> None:
    decision = respond(_input("how long does it take", passages=[RETURNS, SHIPPING]))
    assert decision.kind == "clarify"
    assert [b["id"] for b in decision.buttons] == ["doc:d1", "doc:d2"]
    assert all(len(b["title"]) <= 20 for b in decision.buttons)
    follow_up = respond(
        _input("Shipping times", passages=[], state=ResponderState(options=decision.options)),
    )
    assert follow_up.kind == "answer"
    assert SHIPPING.text in follow_up.text
    by_button = respond(_input("whatever", passages=[], button_id="doc:d1", state=ResponderState(options=decision.options)))
    assert by_button.kind == "answer" and "30 days" in by_button.text


def test_order_intent_with_a_number_calls_the_tool_with_the_slot_filled() -> None:
    analysis = {"intent": "track_order", "intent_confidence": 0.9, "language": "en"}
    decision = respond(_input("Where is my order #1001?", analysis=analysis))
    assert decision.kind == "tool"
    assert decision.tool_name == "lookup_order"
    assert decision.tool_arguments == {"order_number": "1001"}


def test_pattern_in_the_schema_decides_the_order_number_format_and_reason_is_the_message() -> None:
    analysis = {"intent": "get_refund", "intent_confidence": 0.9, "language": "en"}
    decision = respond(_input("I want a refund for order 1002, it arrived broken", analysis=analysis))
    assert decision.kind == "tool" and decision.tool_name == "refund_order"
    assert decision.tool_arguments["order_number"] == "#1002"
    assert "broken" in decision.tool_arguments["reason"]


def test_missing_order_number_is_asked_for_and_the_answer_continues_the_tool() -> None:
    analysis = {"intent": "track_order", "intent_confidence": 0.9, "language": "de"}
    first = respond(_input("Wo ist meine Bestellung?", analysis=analysis, language="de"))
    assert first.kind == "clarify"
    assert "Bestellnummer" in first.text
    second = respond(
        _input(
            "1001",
            analysis={"intent": None, "intent_confidence": 0.0},
            state=ResponderState(pending_intent=first.pending_intent, pending_arguments=first.tool_arguments),
        )
    )
    assert second.kind == "tool" and second.tool_arguments == {"order_number": "1001"}


def test_a_single_open_order_fills_the_slot() -> None:
    analysis = {"intent": "track_order", "intent_confidence": 0.9}
    decision = respond(_input("where is my parcel", analysis=analysis, open_order_numbers=["#1005"]))
    assert decision.tool_arguments == {"order_number": "1005"}


def test_close_intents_get_a_clarifying_question() -> None:
    analysis = {
        "intent": "track_order",
        "intent_confidence": 0.41,
        "intent_candidates": [{"intent": "track_order", "confidence": 0.41}, {"intent": "get_refund", "confidence": 0.38}],
    }
    decision = respond(_input("my order 1001", analysis=analysis))
    assert decision.kind == "clarify"
    assert [b["id"] for b in decision.buttons] == ["intent:track_order", "intent:get_refund"]
    chosen = respond(_input("Refund", state=ResponderState(options=decision.options)))
    assert chosen.kind == "clarify" and chosen.pending_intent == "get_refund"  # still needs the order number


def test_tool_intent_without_an_allowed_tool_falls_back_to_knowledge() -> None:
    analysis = {"intent": "get_refund", "intent_confidence": 0.9}
    decision = respond(_input("refund please", analysis=analysis, tools=[], passages=[RETURNS]))
    assert decision.kind == "answer"


def test_small_talk_is_a_template() -> None:
    decision = respond(_input("Hola", analysis={"intent": "greeting", "intent_confidence": 0.8}, language="es"))
    assert decision.kind == "smalltalk" and decision.text.startswith("¡Hola!")


def test_quote_is_verbatim_and_bounded() -> None:
    long = " ".join(f"Sentence number {i} talks about nothing." for i in range(40)) + " Refunds take five days."
    excerpt = quote(long, "how long do refunds take")
    assert "Refunds take five days." in excerpt
    assert len(excerpt) <= 450
    for part in excerpt.rstrip("…").split(". "):
        assert part.strip(". ") in long


def test_quote_keeps_hard_wrapped_sentences_whole() -> None:
    # a Markdown document wrapped at a fixed width: a line break inside a sentence does not end it
    passage = (
        "You can return any unused item within 30 days of delivery for a full refund. Start a return under\n"
        "My account > Orders > Return, print the prepaid label and drop the parcel at any DHL point.\n\n"
        "If an item arrives damaged or broken (for example a cracked mug), tell us within 14 days and send a photo\n"
        "of the damage. You do not need to send it back: we refund the item in full, including shipping, or send a\n"
        "replacement, whichever you prefer.\n\n"
        "- Refunds are issued to the original payment method within 5 business days.\n"
        "- Bank transfers can take another 2-3 days to show on your statement.\n"
    )
    excerpt = quote(passage, "how long do refunds take", max_chars=200)
    assert excerpt.startswith("- Refunds are issued to the original payment method within 5 business days.")
    full = quote(passage, "my mug arrived broken, do I send it back?", max_chars=300)
    assert "send a photo of the damage." in full
    assert "of the damage." not in full.replace("send a photo of the damage.", "")  # never a fragment on its own
    assert "including shipping, or send a replacement, whichever you prefer." in full


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("Yes please!", True),
        ("sí", True),
        ("Ja, bitte", True),
        ("oui", True),
        ("ok", True),
        ("go ahead", True),
        ("no", False),
        ("No thanks", False),
        ("nein", False),
        ("cancel", False),
        ("annuler", False),
        ("what is the status of my order?", None),
        ("yes no", None),
    ],
)
def test_yes_or_no(text: str, expected: bool | None) -> None:
    assert nlu.yes_or_no(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a human",
        "Can I speak to an agent?",
        "Quiero hablar con una persona",
        "Ich möchte einen Mitarbeiter sprechen",
        "je veux parler à un conseiller",
        "Mensch bitte",
    ],
)
def test_explicit_requests_for_a_person(text: str) -> None:
    assert nlu.asks_for_human(text)


def test_ordinary_questions_are_not_requests_for_a_person() -> None:
    assert not nlu.asks_for_human("Where is my order #1001?")


def test_slot_extraction() -> None:
    assert nlu.order_numbers("order #1001 and #1002") == ["1001", "1002"]
    assert nlu.order_numbers("mi pedido 4455 no llegó") == ["4455"]
    assert nlu.order_numbers("#77") == []
    assert nlu.emails("write to me at ana@example.com please") == ["ana@example.com"]


def test_other_sections_of_the_best_document_can_supply_the_quoted_sentence() -> None:
    costs = Passage(
        **{
            **SHIPPING.as_dict(),
            "chunk_id": "c3",
            "text": "Standard shipping is free for orders over 50 EUR; below that it costs 4.90 EUR.",
            "score": 0.9,
        }
    )
    filler = " ".join(f"Parcels leave the warehouse on business day {i}." for i in range(12))
    times = Passage(
        **{
            **SHIPPING.as_dict(),
            "chunk_id": "c4",
            "text": f"{filler} Express delivery arrives the next business day and costs 9.90 EUR.",
            "score": 0.52,
        }
    )
    decision = respond(_input("How much does express delivery cost?", passages=[costs, times]))
    assert decision.kind == "answer"
    assert "Express delivery arrives the next business day and costs 9.90 EUR." in decision.text
    assert "c4" in [c["chunk_id"] for c in decision.citations]
