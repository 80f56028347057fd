"""Intent classification with out-of-scope detection.

``fast``: MiniLM sentence embeddings (+ optional TF-IDF n-grams) and a logistic-regression head.
``finetuned``: MiniLM fine-tuned end to end with a classification head (see :mod:`.finetune`).
Both reject a message as out of scope when the top probability is below a threshold calibrated on
validation data, or when the predicted class is the dataset's out-of-scope label (e.g. CLINC150 ``oos``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from parley.intelligence.artefacts import Manifest
from parley.intelligence.heads import LinearHead

OOS_LABELS = frozenset({"oos", "out_of_scope", "out-of-scope"})
TEXT_HEAD_DIR = "text_head"


@dataclass(frozen=True)
class IntentPrediction:
    """``label`` is the best in-scope intent (None when out of scope); ``top_label`` the raw argmax."""

    label: str | None
    confidence: float
    out_of_scope: bool
    top_label: str
    alternatives: list[tuple[str, float]]


class IntentModel(Protocol):
    name: str
    labels: list[str]
    oos_threshold: float
    needs_embeddings: bool

    def predict_proba(self, texts: list[str], embeddings: np.ndarray | None = None) -> np.ndarray: ...


def decide(labels: list[str], proba: np.ndarray, threshold: float, *, top_k: int = 3) -> list[IntentPrediction]:
    """Turn class probabilities into predictions, applying the out-of-scope rule."""
    out = []
    for row in proba:
        order = np.argsort(-row)[:top_k]
        best = int(order[0])
        top_label = labels[best]
        confidence = float(row[best])
        oos = top_label in OOS_LABELS or confidence < threshold
        out.append(
            IntentPrediction(
                label=None if oos else top_label,
                confidence=confidence,
                out_of_scope=oos,
                top_label=top_label,
                alternatives=[(labels[int(i)], float(row[int(i)])) for i in order],
            )
        )
    return out


def predict(model: IntentModel, texts: list[str], embeddings: np.ndarray | None = None) -> list[IntentPrediction]:
    """Batch prediction with the model's calibrated out-of-scope threshold."""
    return decide(model.labels, model.predict_proba(texts, embeddings), model.oos_threshold)


class FastIntentModel:
    """Embeddings (+ TF-IDF) → logistic regression, optionally averaged with a TF-IDF-only head.

    ``P = (1 - text_weight) · head(embeddings[, TF-IDF]) + text_weight · text_head(TF-IDF)``: the
    n-gram head catches wording the sentence embedding blurs (amounts, card names, typos); the weight
    is chosen on the tuning split.
    """

    needs_embeddings = True

    def __init__(
        self,
        head: LinearHead,
        *,
        oos_threshold: float = 0.0,
        name: str = "intent",
        text_head: LinearHead | None = None,
        text_weight: float = 0.0,
    ) -> None:
        if text_head is not None and text_head.labels != head.labels:
            raise ValueError("the text head must have the same labels, in the same order, as the embedding head")
        self.head = head
        self.labels = head.labels
        self.oos_threshold = oos_threshold
        self.name = name
        self.text_head = text_head if text_weight > 0 else None
        self.text_weight = text_weight if text_head is not None else 0.0

    def predict_proba(self, texts: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        if embeddings is None:
            from parley.intelligence.embeddings import encode

            embeddings = encode(texts)
        proba = self.head.predict_proba(embeddings, texts)
        if self.text_head is not None and len(texts):
            text_proba = self.text_head.predict_proba(np.zeros((len(texts), 0), dtype=np.float32), texts)
            proba = (1.0 - self.text_weight) * proba + self.text_weight * text_proba
        return proba

    def save(self, directory: Path, manifest: Manifest) -> None:
        self.head.save(directory)
        if self.text_head is not None:
            self.text_head.save(directory / TEXT_HEAD_DIR)
        manifest.params["oos_threshold"] = self.oos_threshold
        manifest.params["text_weight"] = self.text_weight
        manifest.write(directory)

    @classmethod
    def load(cls, directory: Path, manifest: Manifest) -> FastIntentModel:
        text_dir = directory / TEXT_HEAD_DIR
        text_head = LinearHead.load(text_dir) if (text_dir / "head.npz").is_file() else None
        return cls(
            LinearHead.load(directory),
            oos_threshold=float(manifest.params.get("oos_threshold", 0.0)),
            name=manifest.name,
            text_head=text_head,
            text_weight=float(manifest.params.get("text_weight", 0.0)),
        )


@dataclass(frozen=True)
class OosCalibration:
    threshold: float
    in_scope_accuracy: float
    oos_recall: float
    method: str


def calibrate_threshold(
    labels: list[str],
    proba: np.ndarray,
    gold: list[str],
    *,
    target_in_scope_keep: float = 0.99,
    max_in_scope_drop: float = 0.01,
) -> OosCalibration:
    """Choose the out-of-scope threshold on validation predictions.

    With out-of-scope examples in ``gold``: the highest threshold that costs at most
    ``max_in_scope_drop`` of in-scope accuracy (compared with no threshold), which catches as many
    out-of-scope messages as that budget allows. Without: the ``1 - target_in_scope_keep`` quantile of
    the confidence of correctly classified validation examples (rejects about 1% of good answers).
    """
    confidence = proba.max(axis=1)
    top = [labels[int(i)] for i in proba.argmax(axis=1)]
    gold_arr = np.asarray(gold)
    is_oos = np.isin(gold_arr, list(OOS_LABELS))
    correct = np.asarray([t == g for t, g in zip(top, gold, strict=True)])
    top_is_oos = np.isin(np.asarray(top), list(OOS_LABELS))
    if is_oos.any() and (~is_oos).any():
        base_in_acc = float((correct & ~top_is_oos)[~is_oos].mean())
        best = OosCalibration(0.0, base_in_acc, float(top_is_oos[is_oos].mean()), "in_scope_budget")
        for threshold in np.unique(np.round(confidence, 4)):
            rejected = top_is_oos | (confidence < threshold)
            in_acc = float((correct & ~rejected)[~is_oos].mean())
            if in_acc < base_in_acc - max_in_scope_drop - 1e-9:
                break
            best = OosCalibration(float(threshold), in_acc, float(rejected[is_oos].mean()), "in_scope_budget")
        return best
    good = confidence[correct & ~is_oos]
    threshold = float(np.quantile(good, 1 - target_in_scope_keep)) if len(good) else 0.0
    rejected = confidence < threshold
    return OosCalibration(threshold, float((correct & ~rejected).mean()) if len(correct) else 0.0, 0.0, "quantile")


DEFAULT_MIN_OOS_RECALL = 0.80


def calibrate_threshold_for_oos_recall(
    labels: list[str], proba: np.ndarray, gold: list[str], *, min_oos_recall: float = DEFAULT_MIN_OOS_RECALL
) -> OosCalibration:
    """The lowest out-of-scope threshold whose out-of-scope recall on ``proba`` is at least ``min_oos_recall``.

    Meant for out-of-fold probabilities over the whole training data (every out-of-scope training text
    scored by a head that never saw it). Raising the threshold only ever rejects more messages, so the
    lowest threshold that meets the recall target is the one with the highest in-scope accuracy among
    those that meet it. When the ``oos`` class alone already meets the target the threshold is 0.
    Without out-of-scope examples in ``gold`` this is :func:`calibrate_threshold`'s quantile rule.
    """
    if not 0.0 <= min_oos_recall <= 1.0:
        raise ValueError("min_oos_recall must be between 0 and 1")
    gold_arr = np.asarray(gold)
    is_oos = np.isin(gold_arr, list(OOS_LABELS))
    if not is_oos.any() or is_oos.all():
        return calibrate_threshold(labels, proba, gold)
    confidence = proba.max(axis=1).astype(np.float64)
    top = np.asarray([labels[int(i)] for i in proba.argmax(axis=1)])
    top_is_oos = np.isin(top, list(OOS_LABELS))
    correct = top == gold_arr
    n_oos = int(is_oos.sum())
    needed = int(np.ceil(min_oos_recall * n_oos - 1e-9)) - int((top_is_oos & is_oos).sum())
    threshold = 0.0
    if needed > 0:
        missed = np.sort(confidence[is_oos & ~top_is_oos])
        # reject the ``needed`` least confident missed out-of-scope texts: just above the last of them
        threshold = float(np.nextafter(missed[needed - 1], 2.0))
    rejected = top_is_oos | (confidence < threshold)
    return OosCalibration(
        threshold,
        float((correct & ~rejected)[~is_oos].mean()),
        float(rejected[is_oos].mean()),
        "oos_recall_target",
    )
