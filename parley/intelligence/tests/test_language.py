from __future__ import annotations

import pytest

from parley.intelligence.language import detect_language, language_mix


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I lost my card, what should I do?", "en"),
        ("Hola, quiero cancelar mi pedido", "es"),
        ("Bonjour, ma carte est bloquée", "fr"),
        ("Wo ist mein Paket? Ich warte seit Tagen", "de"),
        ("Ciao, il mio ordine non è arrivato", "it"),
        ("Olá, meu pedido não chegou", "pt"),
        ("Waar is mijn pakket? Het is niet aangekomen", "nl"),
        ("Gracias, todo perfecto", "es"),
        ("@AmazonHelp my order hasn't arrived https://t.co/x #fail", "en"),
        # short English that langdetect alone calls Italian, Dutch or Norwegian
        ("Who do I call to cancel a transfer?", "en"),
        ("When do I get my PIN?", "en"),
        ("As a college student, this airline makes a year of travel easy", "en"),
        ("Quiero saber a qué hora llega mi pedido", "es"),
        ("Eu quero saber onde está a minha encomenda", "pt"),
        ("Ik wil weten waar mijn pakket is", "nl"),
        ("Ich möchte wissen, wo mein Paket ist", "de"),
    ],
)
def test_detects_common_languages(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_short_or_empty_texts_fall_back_and_results_are_stable() -> None:
    assert detect_language("") == "en"
    assert detect_language("12345 !!") == "en"
    assert detect_language("ok", default="und") == "und"
    assert {detect_language("Servicio excelente, muy rápido") for _ in range(5)} == {"es"}
    assert language_mix(["hello there my friend", "hola amigo, ¿qué tal estás?", "!!"]) == {"en": 1, "es": 1, "unknown": 1}


@pytest.mark.parametrize(
    "text",
    ["Where is my order #5001?", "How much does express delivery cost for a red kettle?", "How long do refunds take?"],
)
def test_common_english_support_questions_are_decided_without_the_statistical_detector(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.intelligence import language

    def unavailable(_: object) -> None:
        raise AssertionError("langdetect was consulted")

    monkeypatch.setattr(language, "_factory", unavailable)
    assert detect_language(text) == "en"
