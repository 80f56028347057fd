"""Training intent, sentiment and topic models from dataset files, with a small grid on validation only.

Splits: a dataset with an explicit validation split (CLINC150 ``val``) keeps it for the final report and
carves a seeded stratified *tuning* split from train; otherwise (BANKING77, Bitext, ...) train /
validation / test are carved 80/10/10 with a fixed seed. Hyperparameters and the out-of-scope
threshold are chosen on the tuning/validation split; the reported metrics come from the held-back
split, never used for a choice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from parley.intelligence.artefacts import Manifest, data_fingerprint
from parley.intelligence.datasets import LabelledText, load
from parley.intelligence.evaluation import OOS, confusion_summary, intent_metrics
from parley.intelligence.heads import LinearHead
from parley.intelligence.intent import (
    DEFAULT_MIN_OOS_RECALL,
    OOS_LABELS,
    FastIntentModel,
    calibrate_threshold,
    calibrate_threshold_for_oos_recall,
    decide,
)
from parley.intelligence.jobs import Checkpoint
from parley.intelligence.preprocessing import stratified_split

SEED = 13
DEFAULT_INTENT_GRID: dict[str, list[Any]] = {"c": [10.0, 30.0], "text_c": [10.0], "text_weight": [0.0, 0.3, 0.4, 0.5, 0.6]}
DEFAULT_SENTIMENT_GRID: dict[str, list[Any]] = {
    "c": [0.3, 1.0, 3.0],
    "class_weight": ["balanced"],
    "vader_weight": [0.0, 1.0],
    # "tfidf_weight": [0.0, 0.5] is supported; cross-validation on TweetEval found no gain from it
}


class TrainingError(ValueError):
    """The data cannot train this kind of model (too few labels, no texts, ...)."""


@dataclass
class Splits:
    train: list[LabelledText]
    tune: list[LabelledText]
    report: list[LabelledText]
    report_name: str


@dataclass
class TrainResult:
    out: Path
    manifest: Manifest
    grid: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.manifest.kind,
            "algorithm": self.manifest.algorithm,
            "out": str(self.out),
            "labels": len(self.manifest.labels),
            "training_seconds": round(self.manifest.training_seconds, 1),
            "params": {k: v for k, v in self.manifest.params.items() if k != "grid"},
            **{k: v for k, v in self.manifest.metrics.items() if not isinstance(v, dict | list)},
        }


def make_splits(records: list[LabelledText], *, seed: int = SEED) -> Splits:
    labelled = [r for r in records if r.label]
    if not labelled:
        raise TrainingError("the dataset has no labelled texts")
    explicit_val = [r for r in labelled if r.split in ("val", "validation", "dev")]
    if explicit_val:
        train_pool = [r for r in labelled if r.split == "train"]
        split = stratified_split([r.label or "" for r in train_pool], validation=0.1, test=0.0, seed=seed)
        return Splits([train_pool[i] for i in split.train], [train_pool[i] for i in split.validation], explicit_val, "val")
    split = stratified_split([r.label or "" for r in labelled], validation=0.1, test=0.1, seed=seed)
    return Splits(
        [labelled[i] for i in split.train],
        [labelled[i] for i in split.validation],
        [labelled[i] for i in split.test],
        "carved_test",
    )


def _grid(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    from itertools import product

    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in product(*(grid[k] for k in keys))]


def _embed(texts: list[str], progress: Callable[[int], None] | None, checkpoint: Checkpoint | None = None) -> np.ndarray:
    from parley.intelligence.cache import cached_encode

    if checkpoint is None:
        return cached_encode(texts, progress=progress)

    def step(done: int) -> None:
        if progress is not None:
            progress(done)
        checkpoint()

    return cached_encode(texts, progress=step)


def _progress_bar(total: int, desc: str, enabled: bool) -> tuple[Any, Callable[[int], None] | None]:
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="text")
    return bar, bar.update


def oos_predictions(labels: list[str], proba: np.ndarray, threshold: float) -> tuple[list[str], list[float]]:
    """Predicted labels with ``"oos"`` for rejected messages, and the top confidences."""
    predictions = decide(labels, proba, threshold)
    return [p.label if p.label is not None else OOS for p in predictions], [p.confidence for p in predictions]


def train_intent(
    format: str,
    path: str | Path,
    out: str | Path,
    *,
    algorithm: str = "fast",
    grid: dict[str, list[Any]] | None = None,
    progress: bool = True,
    seed: int = SEED,
    limit: int | None = None,
    finetune_options: dict[str, Any] | None = None,
    oos_folds: int = 5,
    min_oos_recall: float = DEFAULT_MIN_OOS_RECALL,
    checkpoint: Checkpoint | None = None,
) -> TrainResult:
    """Train an intent model on ``path`` and write it to ``out`` (a directory ``parley evaluate --model`` accepts).

    Args:
        format: dataset format slug.
        path: dataset file or folder.
        out: output directory.
        algorithm: ``fast`` (embeddings + logistic regression) or ``finetuned`` (MiniLM fine-tuned).
        grid: hyperparameter grid for the fast model (defaults to :data:`DEFAULT_INTENT_GRID`).
        progress: show progress bars.
        seed: split and training seed.
        limit: use at most this many labelled texts (a seeded sample; for quick runs and tests).
        finetune_options: ``finetuned`` settings (see :data:`parley.intelligence.finetune.DEFAULTS`): networks,
            frozen_layers, epochs, batch_size, learning_rate, patience, max_seconds, ...
        oos_folds: with out-of-scope training texts (CLINC150 ``oos_train``), the ``fast`` model's threshold
            is calibrated on ``oos_folds``-fold out-of-fold probabilities over train + tuning data, then the
            chosen head is refitted on all of it (see :func:`calibrate_oos_out_of_fold`); ``1`` keeps the old
            rule (threshold calibrated on the tuning split, head fitted on train only).
        min_oos_recall: the out-of-fold out-of-scope recall the threshold must reach.
        checkpoint: called between steps (after loading, per embedding batch, per grid point, per fine-tuning batch); a queued
            job's checkpoint raises :class:`~parley.intelligence.jobs.JobCancelled` to stop training.
    """
    check: Checkpoint = checkpoint or (lambda: None)
    started = time.perf_counter()
    result = load(format, path)
    records = [r for r in result.as_texts() if r.label]
    if limit is not None and len(records) > limit:
        rng = np.random.default_rng(seed)
        records = [records[i] for i in sorted(rng.choice(len(records), size=limit, replace=False))]
    if len({r.label for r in records}) < 2:
        raise TrainingError("an intent model needs at least two labels")
    splits = make_splits(records, seed=seed)
    check()
    out_dir = Path(out)
    if algorithm == "finetuned":
        from parley.intelligence.finetune import train_finetuned_intent

        return train_finetuned_intent(
            splits,
            out_dir,
            format=format,
            started=started,
            seed=seed,
            progress=progress,
            options=finetune_options or {},
            checkpoint=checkpoint,
        )
    if algorithm != "fast":
        raise TrainingError(f"unknown intent algorithm {algorithm!r} (fast or finetuned)")
    all_texts = [r.text for r in splits.train + splits.tune + splits.report]
    bar, tick = _progress_bar(len(all_texts), "embedding", progress)
    embedded = _embed(all_texts, tick, checkpoint)
    if bar is not None:
        bar.close()
    check()
    n_train, n_tune = len(splits.train), len(splits.tune)
    x_train, x_tune, x_report = embedded[:n_train], embedded[n_train : n_train + n_tune], embedded[n_train + n_tune :]
    y_train = [r.label or "" for r in splits.train]
    y_tune = [r.label or "" for r in splits.tune]
    t_train, t_tune = [r.text for r in splits.train], [r.text for r in splits.tune]
    has_oos = any(label in OOS_LABELS for label in y_tune)
    # out-of-scope training texts: calibrate the threshold out of fold over all of them (not on the ~10%
    # that land in the tuning split) and refit on train + tune; the grid still picks C and weights
    out_of_fold = oos_folds > 1 and any(label in OOS_LABELS for label in y_train + y_tune)
    tried: list[dict[str, Any]] = []
    best: tuple[float, dict[str, Any], FastIntentModel] | None = None
    candidates = _grid(grid or DEFAULT_INTENT_GRID)
    only_candidate = candidates[0] if out_of_fold and len(candidates) == 1 else None
    if only_candidate is not None:
        candidates = []  # nothing to choose: no head fitted on train only, straight to the out-of-fold refits
    # every (C, TF-IDF weight) embedding head and every C of the text-only head is fitted once and
    # shared by all the grid points (ensemble weights) that use it
    heads: dict[tuple[float, float], tuple[LinearHead, np.ndarray]] = {}
    text_heads: dict[float, tuple[LinearHead, np.ndarray]] = {}
    iterator: Any = candidates
    if progress:
        from tqdm import tqdm

        iterator = tqdm(candidates, desc="grid search", unit="point")
    for params in iterator:
        check()
        key = (float(params["c"]), float(params.get("tfidf_weight", 0.0)))
        if key not in heads:
            head = LinearHead.fit(x_train, y_train, c=key[0], texts=t_train, tfidf_weight=key[1], seed=seed)
            heads[key] = (head, head.predict_proba(x_tune, t_tune))
        head, proba = heads[key]
        text_weight = float(params.get("text_weight", 0.0))
        text_head = None
        if text_weight > 0:
            text_c = float(params.get("text_c", key[0]))
            if text_c not in text_heads:
                fitted = LinearHead.fit(_no_dims(len(t_train)), y_train, c=text_c, texts=t_train, tfidf_weight=1.0, seed=seed)
                text_heads[text_c] = (fitted, fitted.predict_proba(_no_dims(len(t_tune)), t_tune))
            text_head, text_proba = text_heads[text_c]
            proba = (1.0 - text_weight) * proba + text_weight * text_proba
        calibration = calibrate_threshold(head.labels, proba, y_tune)
        predicted, confidences = oos_predictions(head.labels, proba, calibration.threshold if has_oos else 0.0)
        metrics = intent_metrics(y_tune, predicted, confidences)
        score = (metrics["in_scope_accuracy"] + metrics["oos_recall"]) / 2 if has_oos else metrics["accuracy"]
        tried.append({**params, "score": round(score, 4), "threshold": round(calibration.threshold, 4)})
        if best is None or score > best[0] + 1e-9:
            model = FastIntentModel(
                head, oos_threshold=calibration.threshold, name=f"{format}-fast", text_head=text_head, text_weight=text_weight
            )
            best = (score, params, model)
    calibration_info: dict[str, Any] = {"method": "tuning_split"}
    if only_candidate is not None:
        params = only_candidate
    else:
        assert best is not None
        _, params, model = best
    check()
    if out_of_fold:
        pool_x = np.vstack([x_train, x_tune])
        pool_y, pool_t = y_train + y_tune, t_train + t_tune
        model, calibration_info = calibrate_oos_out_of_fold(
            pool_x, pool_y, pool_t, params, folds=oos_folds, min_oos_recall=min_oos_recall, seed=seed
        )
        model.name = f"{format}-fast"
    threshold, head = model.oos_threshold, model.head
    proba = model.predict_proba([r.text for r in splits.report], x_report)
    gold = [r.label or "" for r in splits.report]
    report_has_oos = any(label in OOS_LABELS for label in gold)
    predicted, confidences = oos_predictions(head.labels, proba, threshold if report_has_oos else 0.0)
    metrics = intent_metrics(gold, predicted, confidences)
    metrics["split"] = splits.report_name
    metrics["confusion"] = confusion_summary(gold, predicted)
    # the live rejection rate on in-scope messages when the threshold also applies (BANKING77-style data)
    if not report_has_oos:
        rejected, _ = oos_predictions(head.labels, proba, threshold)
        metrics["accuracy_with_oos_rejection"] = intent_metrics(gold, rejected, confidences)["accuracy"]
    manifest = Manifest(
        kind="intent",
        algorithm="fast",
        name=model.name,
        labels=head.labels,
        params={
            **params,
            "seed": seed,
            "grid": tried,
            "splits": _split_sizes(splits),
            "oos_calibration": calibration_info,
        },
        metrics=metrics,
        data_fingerprint=data_fingerprint([r.text for r in records], [r.label for r in records]),
        dataset_format=format,
        training_seconds=time.perf_counter() - started,
    )
    model.save(out_dir, manifest)
    return TrainResult(out_dir, manifest, tried)


def fit_fast_intent(x: np.ndarray, y: list[str], texts: list[str], params: dict[str, Any], seed: int) -> FastIntentModel:
    """The fast intent model of one grid point (embedding head, optionally averaged with a TF-IDF head)."""
    c = float(params["c"])
    head = LinearHead.fit(x, y, c=c, texts=texts, tfidf_weight=float(params.get("tfidf_weight", 0.0)), seed=seed)
    text_weight = float(params.get("text_weight", 0.0))
    text_head = None
    if text_weight > 0:
        text_c = float(params.get("text_c", c))
        text_head = LinearHead.fit(_no_dims(len(texts)), y, c=text_c, texts=texts, tfidf_weight=1.0, seed=seed)
    return FastIntentModel(head, text_head=text_head, text_weight=text_weight)


def calibrate_oos_out_of_fold(
    x: np.ndarray,
    y: list[str],
    texts: list[str],
    params: dict[str, Any],
    *,
    folds: int = 5,
    min_oos_recall: float = DEFAULT_MIN_OOS_RECALL,
    seed: int = SEED,
) -> tuple[FastIntentModel, dict[str, Any]]:
    """Calibrate the out-of-scope threshold on out-of-fold probabilities, then refit on all the data.

    The data (train + tuning split; never the report split) is cut into ``folds`` stratified folds; each
    fold is scored by the model of ``params`` fitted on the other folds, so every text, including every
    out-of-scope training text, gets a probability from a model that never saw it. The threshold is the
    lowest one whose out-of-fold out-of-scope recall reaches ``min_oos_recall`` (see
    :func:`~parley.intelligence.intent.calibrate_threshold_for_oos_recall`): the highest out-of-fold
    in-scope accuracy among the thresholds that meet the recall target. The returned model is fitted on
    all of ``x`` with that threshold.
    """
    from collections import Counter

    from sklearn.model_selection import StratifiedKFold

    folds = min(folds, min(Counter(y).values()))
    if folds < 2:
        raise TrainingError("out-of-fold calibration needs at least two texts of every label")
    labels = sorted(set(y))
    column = {label: i for i, label in enumerate(labels)}
    oof = np.zeros((len(y), len(labels)), dtype=np.float32)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, score_idx in splitter.split(np.zeros(len(y)), y):
        fold_model = fit_fast_intent(x[fit_idx], [y[i] for i in fit_idx], [texts[i] for i in fit_idx], params, seed)
        proba = fold_model.predict_proba([texts[i] for i in score_idx], x[score_idx])
        oof[np.ix_(score_idx, [column[label] for label in fold_model.labels])] = proba
    calibration = calibrate_threshold_for_oos_recall(labels, oof, y, min_oos_recall=min_oos_recall)
    model = fit_fast_intent(x, y, texts, params, seed)
    model.oos_threshold = calibration.threshold
    info = {
        "method": f"out_of_fold_{calibration.method}",
        "folds": folds,
        "texts": len(y),
        "oos_texts": sum(label in OOS_LABELS for label in y),
        "min_oos_recall": min_oos_recall,
        "oof_in_scope_accuracy": round(calibration.in_scope_accuracy, 4),
        "oof_oos_recall": round(calibration.oos_recall, 4),
    }
    return model, info


def _fit_sentiment(x: np.ndarray, y: list[str], texts: list[str], params: dict[str, Any], seed: int) -> Any:
    """A :class:`LinearSentiment` fitted with one grid point's settings."""
    from parley.intelligence.sentiment import LinearSentiment

    vader_weight = float(params.get("vader_weight", 0.0))
    features = LinearSentiment.with_vader(x, texts, vader_weight)
    head = LinearHead.fit(
        features,
        y,
        c=float(params["c"]),
        class_weight=params.get("class_weight"),
        texts=texts,
        tfidf_weight=float(params.get("tfidf_weight", 0.0)),
        seed=seed,
    )
    return LinearSentiment(head, vader_weight=vader_weight)


def _no_dims(rows: int) -> np.ndarray:
    """An ``(rows, 0)`` embedding block: the input of a TF-IDF-only head."""
    return np.zeros((rows, 0), dtype=np.float32)


def _split_sizes(splits: Splits) -> dict[str, int]:
    return {"train": len(splits.train), "tune": len(splits.tune), splits.report_name: len(splits.report)}


def train_sentiment(
    sources: list[tuple[str, str | Path]],
    out: str | Path,
    *,
    grid: dict[str, list[Any]] | None = None,
    progress: bool = True,
    seed: int = SEED,
    eval_format: str | None = None,
    limits: dict[str, int] | None = None,
    folds: int = 5,
    checkpoint: Checkpoint | None = None,
) -> TrainResult:
    """Train the sentiment head on one or more labelled sources (negative / neutral / positive).

    Each source is split 80/10/10 (seeded, stratified) unless it has its own validation split;
    the grid (C, class weights, VADER-score and TF-IDF feature weights) is scored by macro-recall with
    ``folds``-fold cross-validation over the pooled train + tuning splits, then the chosen settings are
    refitted on them (``folds=1``: fit on train, score on the tuning splits); the report uses the held-back split
    of ``eval_format`` (default: the last source), and VADER is measured on the same texts.
    ``limits`` caps a source (format → number of texts, a seeded sample) for quick runs; ``checkpoint``
    is called between steps (see :func:`train_intent`).
    """
    from sklearn.metrics import f1_score, recall_score

    from parley.intelligence.sentiment import LABELS, VaderSentiment

    started = time.perf_counter()
    train: list[LabelledText] = []
    tune: list[LabelledText] = []
    report: list[LabelledText] = []
    all_records: list[LabelledText] = []
    eval_format = eval_format or sources[-1][0]
    for format, path in sources:
        records = [r for r in load(format, path).as_texts() if r.label in LABELS]
        if limits and format in limits and len(records) > limits[format]:
            import random

            keep = sorted(random.Random(seed).sample(range(len(records)), limits[format]))
            records = [records[i] for i in keep]
        all_records.extend(records)
        split = stratified_split([r.label or "" for r in records], validation=0.1, test=0.1, seed=seed)
        train += [records[i] for i in split.train]
        tune += [records[i] for i in split.validation]
        if format == eval_format:
            report += [records[i] for i in split.test]
        else:
            train += [records[i] for i in split.test]
    if not train or not report:
        raise TrainingError("no labelled sentiment texts (need negative / neutral / positive labels)")
    check: Checkpoint = checkpoint or (lambda: None)
    check()
    texts = [r.text for r in train + tune + report]
    bar, tick = _progress_bar(len(texts), "embedding", progress)
    embedded = _embed(texts, tick, checkpoint)
    if bar is not None:
        bar.close()
    check()
    n_train, n_tune = len(train), len(tune)
    x_train, x_tune, x_report = embedded[:n_train], embedded[n_train : n_train + n_tune], embedded[n_train + n_tune :]
    y_train, y_tune = [r.label or "" for r in train], [r.label or "" for r in tune]
    t_train, t_tune = [r.text for r in train], [r.text for r in tune]
    tried: list[dict[str, Any]] = []
    best: tuple[float, dict[str, Any]] | None = None
    candidates = _grid(grid or DEFAULT_SENTIMENT_GRID)
    from collections import Counter

    folds = min(folds, min(Counter(y_train + y_tune).values()))  # every fold needs every class
    if folds > 1:
        # a few hundred tuning tweets make a noisy judge: score each grid point by k-fold
        # cross-validation over train + tune (the report split is never part of it)
        pool_x, pool_y, pool_t = np.vstack([x_train, x_tune]), y_train + y_tune, t_train + t_tune
        from sklearn.model_selection import StratifiedKFold

        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        fold_indices = list(splitter.split(np.zeros(len(pool_y)), pool_y))
    for params in candidates:
        check()
        if folds > 1:
            scores = []
            for fit_idx, score_idx in fold_indices:
                model = _fit_sentiment(pool_x[fit_idx], [pool_y[i] for i in fit_idx], [pool_t[i] for i in fit_idx], params, seed)
                predicted = [p.label for p in model.predict_batch([pool_t[i] for i in score_idx], pool_x[score_idx])]
                scores.append(recall_score([pool_y[i] for i in score_idx], predicted, average="macro", zero_division=0))
            score = float(np.mean(scores))
        else:
            model = _fit_sentiment(x_train, y_train, t_train, params, seed)
            predicted = [p.label for p in model.predict_batch(t_tune, x_tune)]
            score = float(recall_score(y_tune, predicted, average="macro", zero_division=0))
        tried.append({**params, "macro_recall": round(score, 4)})
        if best is None or score > best[0] + 1e-9:
            best = (score, params)
    assert best is not None
    _, params = best
    if folds > 1:  # the chosen settings, refitted on train + tune
        model = _fit_sentiment(pool_x, pool_y, pool_t, params, seed)
    else:
        model = _fit_sentiment(x_train, y_train, t_train, params, seed)
    model.name = "sentiment-fast"
    head = model.head
    report_texts, gold = [r.text for r in report], [r.label or "" for r in report]
    predicted = [p.label for p in model.predict_batch(report_texts, x_report)]
    vader = [p.label for p in VaderSentiment().predict_batch(report_texts)]
    metrics = {
        "split": f"{eval_format}:carved_test",
        "n": len(gold),
        "accuracy": round(float(np.mean([g == p for g, p in zip(gold, predicted, strict=True)])), 4),
        "macro_recall": round(float(recall_score(gold, predicted, average="macro", zero_division=0)), 4),
        "macro_f1": round(float(f1_score(gold, predicted, average="macro", zero_division=0)), 4),
        "vader_macro_recall": round(float(recall_score(gold, vader, average="macro", zero_division=0)), 4),
        "vader_accuracy": round(float(np.mean([g == p for g, p in zip(gold, vader, strict=True)])), 4),
        "confusion": confusion_summary(gold, predicted),
    }
    manifest = Manifest(
        kind="sentiment",
        algorithm="fast",
        name=model.name,
        labels=head.labels,
        params={**params, "seed": seed, "folds": folds, "grid": tried, "sources": [f for f, _ in sources]},
        metrics=metrics,
        data_fingerprint=data_fingerprint([r.text for r in all_records], [r.label for r in all_records]),
        dataset_format="+".join(f for f, _ in sources),
        training_seconds=time.perf_counter() - started,
    )
    out_dir = Path(out)
    model.save(out_dir, manifest)
    return TrainResult(out_dir, manifest, tried)


def train_topics(
    format: str,
    path: str | Path,
    out: str | Path,
    *,
    method: str = "agglomerative",
    distance_threshold: float = 0.55,
    min_size: int = 3,
    limit: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Discover topics over the dataset's conversations and write the topic model to ``out``.

    When conversations carry an intent label (first customer turn), the clustering is scored against it
    (normalised mutual information and purity) so settings can be compared.
    """
    from sklearn.metrics import normalized_mutual_info_score

    from parley.intelligence.topics import TopicModel, conversation_text

    started = time.perf_counter()
    dialogues = load(format, path).as_dialogues()
    if limit is not None:
        dialogues = dialogues[:limit]
    texts = [conversation_text([(t.speaker, t.text) for t in d.turns]) for d in dialogues]
    gold = [next((t.labels.get("intent") for t in d.turns if t.labels.get("intent")), None) for d in dialogues]
    bar, tick = _progress_bar(len(texts), "embedding", progress)
    embedded = _embed(texts, tick)
    if bar is not None:
        bar.close()
    model = TopicModel.discover(texts, embedded, method=method, distance_threshold=distance_threshold, min_size=min_size)
    assigned = [topic for topic, _ in model.assign(embedded)]
    metrics: dict[str, Any] = {
        "conversations": len(texts),
        "topics": len(model.topics),
        "coverage": round(float(np.mean([a >= 0 for a in assigned])), 4),
        "largest": [{"label": t.label, "size": t.size} for t in model.topics[:5]],
    }
    labelled = [(a, g) for a, g in zip(assigned, gold, strict=True) if g]
    if labelled:
        metrics["nmi_vs_intent"] = round(
            float(normalized_mutual_info_score([g for _, g in labelled], [a for a, _ in labelled])), 4
        )
        by_topic: dict[int, list[str]] = {}
        for a, g in labelled:
            if a >= 0:
                by_topic.setdefault(a, []).append(g or "")
        from collections import Counter

        majority = sum(Counter(v).most_common(1)[0][1] for v in by_topic.values())
        metrics["purity"] = round(majority / max(1, sum(len(v) for v in by_topic.values())), 4)
    manifest = Manifest(
        kind="topics",
        algorithm=method,
        name=f"{format}-topics",
        labels=[t.label for t in model.topics],
        params={"method": method, "distance_threshold": distance_threshold, "min_size": min_size},
        metrics=metrics,
        data_fingerprint=data_fingerprint(texts, [g or "" for g in gold]),
        dataset_format=format,
        training_seconds=time.perf_counter() - started,
    )
    out_dir = Path(out)
    model.save(out_dir, manifest)
    return TrainResult(out_dir, manifest)
