"""Sentiment of customer messages: negative / neutral / positive plus a score in [-1, 1].

Two models: VADER (rule-based baseline, always available) and a linear head over MiniLM
embeddings trained on labelled tweets (``parley train sentiment``). Per-turn sentiment and the trend
across a conversation are computed from either.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from parley.intelligence.artefacts import Manifest
from parley.intelligence.heads import LinearHead

SentimentLabel = Literal["negative", "neutral", "positive"]
LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")
VADER_THRESHOLD = 0.05


@dataclass(frozen=True)
class SentimentPrediction:
    label: SentimentLabel
    score: float  # -1 (very negative) .. 1 (very positive)
    confidence: float


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_label(compound: float, threshold: float = VADER_THRESHOLD) -> SentimentLabel:
    if compound >= threshold:
        return "positive"
    if compound <= -threshold:
        return "negative"
    return "neutral"


class VaderSentiment:
    """The rule-based baseline: VADER's compound score, ±0.05 for the label (its authors' convention)."""

    name = "vader"
    needs_embeddings = False

    def predict_batch(self, texts: list[str], embeddings: np.ndarray | None = None) -> list[SentimentPrediction]:
        analyser = _vader()
        out = []
        for text in texts:
            compound = float(analyser.polarity_scores(text or "")["compound"])
            out.append(SentimentPrediction(vader_label(compound), compound, abs(compound)))
        return out


@lru_cache(maxsize=8192)
def _vader_scores(text: str) -> tuple[float, float, float, float]:
    scores = _vader().polarity_scores(text or "")
    return scores["compound"], scores["pos"], scores["neg"], scores["neu"]


def vader_features(texts: list[str]) -> np.ndarray:
    """VADER's ``(compound, pos, neg, neu)`` scores per text: lexicon evidence a linear head can weigh.

    Cached per text, so the cross-validation folds of training score each text once.
    """
    return np.asarray([_vader_scores(text) for text in texts], dtype=np.float32).reshape(len(texts), 4)


class LinearSentiment:
    """A trained head over sentence embeddings (+ VADER scores, + TF-IDF n-grams); score = P(positive) − P(negative).

    ``vader_weight`` > 0 appends ``vader_weight ×`` :func:`vader_features` to each embedding; the head's
    TF-IDF block (when trained with one) reads the texts.
    """

    needs_embeddings = True

    def __init__(self, head: LinearHead, name: str = "sentiment", *, vader_weight: float = 0.0) -> None:
        missing = set(LABELS) - set(head.labels)
        if missing:
            raise ValueError(f"a sentiment head needs the labels {LABELS}; missing {sorted(missing)}")
        self.head = head
        self.name = name
        self.vader_weight = vader_weight
        self._index = {label: head.labels.index(label) for label in LABELS}

    @staticmethod
    def with_vader(embeddings: np.ndarray, texts: list[str], vader_weight: float) -> np.ndarray:
        """The dense input of the head: the embeddings, then ``vader_weight ×`` the VADER scores when > 0."""
        if vader_weight <= 0:
            return embeddings
        return np.hstack([embeddings, vader_weight * vader_features(texts)]).astype(np.float32)

    def features(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        return self.with_vader(embeddings, texts, self.vader_weight)

    def predict_proba(self, texts: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        if embeddings is None:
            from parley.intelligence.embeddings import encode

            embeddings = encode(texts)
        return self.head.predict_proba(self.features(texts, embeddings), texts)

    def predict_batch(self, texts: list[str], embeddings: np.ndarray | None = None) -> list[SentimentPrediction]:
        proba = self.predict_proba(texts, embeddings)
        out = []
        for row in proba:
            best = int(np.argmax(row))
            label = self.head.labels[best]
            score = float(row[self._index["positive"]] - row[self._index["negative"]])
            out.append(SentimentPrediction(label, score, float(row[best])))  # type: ignore[arg-type]
        return out

    def save(self, directory: Path, manifest: Manifest) -> None:
        self.head.save(directory)
        manifest.params["vader_weight"] = self.vader_weight
        manifest.write(directory)

    @classmethod
    def load(cls, directory: Path, manifest: Manifest) -> LinearSentiment:
        return cls(LinearHead.load(directory), name=manifest.name, vader_weight=float(manifest.params.get("vader_weight", 0.0)))


@dataclass(frozen=True)
class SentimentTrend:
    """How a customer's mood moves across a conversation."""

    scores: list[float]
    start: float
    end: float
    mean: float
    slope: float  # change in score per customer turn (least squares)
    direction: Literal["improving", "worsening", "stable"]


def sentiment_trend(scores: list[float], *, tolerance: float = 0.05) -> SentimentTrend:
    """The trend of per-turn sentiment scores (customer turns, in order).

    Args:
        scores: per-turn scores in [-1, 1].
        tolerance: slopes smaller than this (per turn) count as stable.
    """
    if not scores:
        return SentimentTrend([], 0.0, 0.0, 0.0, 0.0, "stable")
    values = np.asarray(scores, dtype=np.float64)
    slope = float(np.polyfit(np.arange(len(values)), values, 1)[0]) if len(values) > 1 else 0.0
    direction: Literal["improving", "worsening", "stable"] = (
        "improving" if slope > tolerance else "worsening" if slope < -tolerance else "stable"
    )
    return SentimentTrend(list(map(float, values)), float(values[0]), float(values[-1]), float(values.mean()), slope, direction)
