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
