"""Offline language detection (langdetect), deterministic and restricted to a configurable set.

langdetect is randomised; a private factory with a fixed seed makes the same text always get the
same answer. Restricting the candidate languages (``PARLEY_LANGUAGES``) makes it faster and avoids
exotic guesses on short customer messages.
"""

from __future__ import annotations

import os
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "sv", "da", "no", "fi", "tr", "ru", "ar", "zh-cn", "ja")
FALLBACK_LANGUAGE = "en"
_MIN_LETTERS = 3
_lock = threading.Lock()
_NOISE = re.compile(r"(https?://\S+)|(@\w+)|(#)|(\d+)")


def configured_languages() -> tuple[str, ...]:
    """The candidate languages: ``PARLEY_LANGUAGES`` (comma-separated langdetect codes) or a default set."""
    raw = os.environ.get("PARLEY_LANGUAGES", "")
    codes = tuple(code.strip() for code in raw.split(",") if code.strip())
    return codes or DEFAULT_LANGUAGES


@lru_cache(maxsize=4)
def _factory(languages: tuple[str, ...]) -> Any:
    import langdetect
    from langdetect.detector_factory import DetectorFactory

    profile_dir = Path(langdetect.__file__).parent / "profiles"
    available = {path.name for path in profile_dir.iterdir()}
    chosen = [code for code in languages if code in available]
    if len(chosen) < 2:
        chosen = [code for code in DEFAULT_LANGUAGES if code in available]
    factory = DetectorFactory()
    factory.load_json_profile([(profile_dir / code).read_text(encoding="utf-8") for code in chosen])
    factory.set_seed(0)
    return factory


def _iso639_1(code: str) -> str:
    return code.split("-")[0][:2]


def detect_language(text: str, *, default: str = FALLBACK_LANGUAGE) -> str:
    """The ISO 639-1 code of ``text``'s language; ``default`` when the text is too short to tell.

    Args:
        text: the message.
        default: returned for empty, numeric-only or otherwise undecidable texts.
    """
    cleaned = _NOISE.sub(" ", text or "")
    if sum(ch.isalpha() for ch in cleaned) < _MIN_LETTERS:
        return default
    from langdetect.lang_detect_exception import LangDetectException

    factory = _factory(configured_languages())
    with _lock:  # the detector shares the factory's seed state
        try:
            detector = factory.create()
            detector.append(cleaned)
            return _iso639_1(detector.detect())
        except LangDetectException:
            return default


def language_mix(texts: list[str]) -> dict[str, int]:
    """How many of ``texts`` are in each language (for data quality reports)."""
    counts: dict[str, int] = {}
    for text in texts:
        code = detect_language(text, default="unknown")
        counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))
