"""Small, deterministic language rules the orchestrator needs whatever model is installed:
slot extraction (order numbers, e-mails), yes/no answers to confirmations, explicit requests for a human,
and a rule-based stand-in for message analysis used only while parley.intelligence is not installed."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

ORDER_NUMBER = re.compile(
    r"(?:#\s?(\d{3,12})\b)|(?:\b(?:order|pedido|bestellung|commande|ordine|encomenda|nr\.?|no\.?|number|número|numero|nummer)\s*(?:n[ou°º]\.?|number|#|:)?\s*(\d{3,12})\b)",
    re.IGNORECASE,
)
BARE_NUMBER = re.compile(r"^\s*#?\s*(\d{3,12})\s*[.!]?\s*$")
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")

_YES = {
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "confirm",
    "confirmed",
    "correct",
    "right",
    "go ahead",
    "do it",
    "please do",
    "yes please",
    "absolutely",
    "of course",
    "affirmative",
    "proceed",
    "si",
    "sí",
    "claro",
    "vale",
    "confirmo",
    "de acuerdo",
    "por favor",
    "adelante",
    "ja",
    "jawohl",
    "genau",
    "bestätigen",
    "bestätige",
    "gerne",
    "klar",
    "einverstanden",
    "mach das",
    "oui",
    "d'accord",
    "dacord",
    "je confirme",
    "confirmer",
    "bien sûr",
    "vas-y",
    "allez-y",
    "sim",
    "certo",
    "pode",
    "confirmar",
    "isso",
    "confermo",
    "va bene",
    "procedi",
    "confirm_yes",
}
_NO = {
    "no",
    "n",
    "nope",
    "nah",
    "cancel",
    "stop",
    "don't",
    "dont",
    "do not",
    "no thanks",
    "no thank you",
    "never mind",
    "nevermind",
    "abort",
    "negative",
    "not now",
    "cancelar",
    "no gracias",
    "mejor no",
    "nein",
    "abbrechen",
    "nicht",
    "lieber nicht",
    "nein danke",
    "non",
    "annuler",
    "non merci",
    "pas maintenant",
    "não",
    "nao",
    "não obrigado",
    "annulla",
    "no grazie",
    "confirm_no",
}

_HUMAN = re.compile(
    r"\b(human|humans|real person|a person|someone real|live agent|an agent|the agent|agent please|representative|operator|"
    r"customer service rep|speak to someone|talk to someone|talk to a|speak to a|persona|humano|agente|operador|"
    r"mensch|menschen|mitarbeiter|mitarbeiterin|berater|sachbearbeiter|humain|conseiller|opérateur|operateur|"
    r"une personne|quelqu'un|umano|operatore|una persona|atendente|pessoa|alguém)\b",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """Lower-case, strip punctuation and emoji at the ends, collapse spaces."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = re.sub(r"[\s]+", " ", text)
    return text.strip(" .,!?¡¿;:)(\"'👍🙏")


def order_numbers(text: str) -> list[str]:
    """Order numbers mentioned in ``text`` ("#1001", "order 1001", or a bare number reply), in order."""
    found = [a or b for a, b in ORDER_NUMBER.findall(text)]
    if not found:
        bare = BARE_NUMBER.match(text)
        if bare:
            found = [bare.group(1)]
    return list(dict.fromkeys(found))


def emails(text: str) -> list[str]:
    """E-mail addresses in ``text``."""
    return list(dict.fromkeys(EMAIL.findall(text)))


def yes_or_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the answer is neither (or both)."""
    said = normalise(text)
    if not said:
        return None
    if said in _YES:
        return True
    if said in _NO:
        return False
    words = said.replace(",", " ").replace("!", " ").split()
    phrases = set(words) | {" ".join(words[i : i + 2]) for i in range(len(words) - 1)}
    if len(words) <= 4:  # short answers: any yes/no word counts ("yes please", "ok, do it", "yes no" is both)
        yes = bool(phrases & _YES)
        no = bool(phrases & _NO)
    else:  # longer messages only count when they start with the answer ("No, I changed my mind ...")
        head = {words[0], " ".join(words[:2])}
        yes = bool(head & _YES)
        no = bool(head & _NO)
    if yes and not no:
        return True
    if no and not yes:
        return False
    return None


def asks_for_human(text: str, extra_keywords: list[str] | None = None) -> bool:
    """Whether the customer explicitly asks for a person, in any of the supported languages."""
    if _HUMAN.search(text):
        return True
    lowered = text.lower()
    return any(keyword.lower() in lowered for keyword in extra_keywords or [])


@dataclass
class RuleAnalysis:
    """The stand-in analysis; same fields as intelligence's MessageAnalysis."""

    intent: str | None
    intent_confidence: float
    out_of_scope: bool
    sentiment: str
    sentiment_score: float
    language: str
    model_version: str = "orchestrator-rules-0"
    intent_candidates: list[dict[str, Any]] = field(default_factory=list)

    def model_dump(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "intent_confidence": self.intent_confidence,
            "out_of_scope": self.out_of_scope,
            "sentiment": self.sentiment,
            "sentiment_score": self.sentiment_score,
            "language": self.language,
            "model_version": self.model_version,
        }


_INTENT_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("contact_human_agent", _HUMAN),
    (
        "check_refund_policy",
        re.compile(
            r"\b(refund policy|return policy|policy|policies|how long|how many days|return window|pol[ií]tica|richtlinie|politique)\b",
            re.I,
        ),
    ),
    (
        "get_refund",
        re.compile(
            r"\b(refund|money back|reimburse|reembolso|devoluci[oó]n|r[uü]ckerstattung|erstattung|rembourse\w*|rimborso|reembolso)\b",
            re.I,
        ),
    ),
    ("cancel_order", re.compile(r"\b(cancel|cancelar|stornier\w*|annuler|annullare|cancela\w*)\b", re.I)),
    (
        "track_order",
        re.compile(
            r"\b(where is|where's|track|tracking|status of|arrive[ds]?|shipped|d[oó]nde est[aá]|wo ist|wo bleibt|o[uù] est|dov'[eè]|cad[eê])\b",
            re.I,
        ),
    ),
    (
        "greeting",
        re.compile(
            r"^\s*(hi|hello|hey|hola|hallo|bonjour|salut|ciao|ol[aá]|buenos d[ií]as|guten tag|good (morning|afternoon|evening))\b[\s!.,]*$",
            re.I,
        ),
    ),
    (
        "thanks",
        re.compile(
            r"^\s*(thanks?( you)?|thank you( so much)?|thx|gracias|danke( sch[oö]n)?|merci( beaucoup)?|grazie|obrigad[oa])\b[\s!.,]*$",
            re.I,
        ),
    ),
]


def rule_intent(text: str) -> tuple[str | None, float]:
    """The keyword intent of ``text`` and its confidence (``(None, 0.0)`` when no rule matches)."""
    for name, pattern in _INTENT_RULES:
        if pattern.search(text):
            return name, 0.8
    if order_numbers(text):
        return "track_order", 0.6
    return None, 0.0


def _language_of(text: str) -> str:
    if len(text.split()) < 3:
        return "en"
    try:
        from parley.intelligence import language as intelligence_language
    except ImportError:
        intelligence_language = None  # type: ignore[assignment]
    try:
        if intelligence_language is not None:  # deterministic, restricted to the configured languages, fast path
            return intelligence_language.detect_language(text)
        from langdetect import DetectorFactory, detect

        DetectorFactory.seed = 0
        return str(detect(text))
    except Exception:  # noqa: BLE001 - langdetect raises on text without features
        return "en"


def rule_analysis(text: str) -> RuleAnalysis:
    """Language, sentiment (VADER) and a keyword intent; used while intelligence is missing."""
    language = _language_of(text)
    score = 0.0
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        score = float(_vader(SentimentIntensityAnalyzer).polarity_scores(text)["compound"])
    except ImportError:
        score = 0.0
    sentiment = "negative" if score <= -0.05 else "positive" if score >= 0.05 else "neutral"
    intent, confidence = rule_intent(text)
    return RuleAnalysis(
        intent=intent,
        intent_confidence=confidence,
        out_of_scope=False,
        sentiment=sentiment,
        sentiment_score=score,
        language=language.split("-")[0],
    )


_VADER: list[Any] = []


def _vader(factory: Any) -> Any:
    if not _VADER:
        _VADER.append(factory())
    return _VADER[0]
