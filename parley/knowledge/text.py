"""Small text helpers shared by parsing, chunking and retrieval: tokens, language, full-text configs."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)

#: ISO 639-1 → PostgreSQL text search configuration (built-in snowball stemmers); others use ``simple``.
FTS_CONFIGS = {
    "ar": "arabic",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "tr": "turkish",
}


def fts_config_for(language: str | None) -> str:
    """The PostgreSQL text search configuration for an ISO 639-1 code (``english`` when unknown/blank)."""
    if not language:
        return "english"
    return FTS_CONFIGS.get(language.lower()[:2], "simple")


def count_tokens(text: str) -> int:
    """Words and punctuation marks: a cheap, embedder-independent token count (MiniLM word pieces are ~1.3x)."""
    return len(_TOKEN.findall(text))


def split_tokens(text: str) -> list[str]:
    """The tokens :func:`count_tokens` counts, in order."""
    return _TOKEN.findall(text)


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text`` (deterministic), ``""`` when it cannot tell."""
    sample = text[:3000].strip()
    if len(sample) < 20:
        return ""
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0
    try:
        return str(detect(sample))[:2]
    except LangDetectException:
        return ""


def normalise_whitespace(text: str) -> str:
    """Collapse runs of spaces, keep paragraph breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\f\v\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
