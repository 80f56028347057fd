"""Evaluation reports people can diff between models (after Rasa's ``rasa test nlu``).

``intent_report.json`` (per-label precision/recall/F1/support and most-confused-with), ``errors.json``,
``confusion_matrix.png``, ``confidence_histogram.png`` and ``report.html`` showing them.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from parley.intelligence.intent import OOS_LABELS

OOS = "oos"


@dataclass
class Evaluation:
    summary: dict[str, Any]
    per_label: dict[str, dict[str, Any]]
    errors: list[dict[str, Any]]


def intent_metrics(gold: list[str], predicted: list[str], confidences: list[float]) -> dict[str, Any]:
    """accuracy, macro F1, and with out-of-scope examples in ``gold``: in-scope accuracy and OOS recall.

    ``predicted`` uses ``"oos"`` for messages the model rejected as out of scope.
    """
    from sklearn.metrics import accuracy_score, f1_score

    gold_n = [OOS if g in OOS_LABELS else g for g in gold]
    pred_n = [OOS if p in OOS_LABELS else p for p in predicted]
    summary: dict[str, Any] = {
        "n": len(gold_n),
        "accuracy": round(float(accuracy_score(gold_n, pred_n)), 4),
        "macro_f1": round(float(f1_score(gold_n, pred_n, average="macro", zero_division=0)), 4),
    }
    is_oos = np.asarray([g == OOS for g in gold_n])
    if is_oos.any():
        correct = np.asarray([g == p for g, p in zip(gold_n, pred_n, strict=True)])
        flagged = np.asarray([p == OOS for p in pred_n])
        summary["in_scope_accuracy"] = round(float(correct[~is_oos].mean()), 4) if (~is_oos).any() else 0.0
        summary["oos_recall"] = round(float(flagged[is_oos].mean()), 4)
        summary["oos_precision"] = round(float((flagged & is_oos).sum() / max(1, flagged.sum())), 4)
    summary["mean_confidence"] = round(float(np.mean(confidences)), 4) if confidences else 0.0
    return summary


def per_label_report(gold: list[str], predicted: list[str]) -> dict[str, dict[str, Any]]:
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(gold) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    confused: dict[str, Counter[str]] = {label: Counter() for label in labels}
    for g, p in zip(gold, predicted, strict=True):
        if g != p:
            confused[g][p] += 1
    return {
        label: {
            "precision": round(float(precision[i]), 4),
            "recall": round(float(recall[i]), 4),
            "f1-score": round(float(f1[i]), 4),
            "support": int(support[i]),
            "confused_with": dict(confused[label].most_common(3)),
        }
        for i, label in enumerate(labels)
    }


def write_reports(
    directory: Path,
    *,
    kind: str,
    texts: list[str],
    gold: list[str],
    predicted: list[str],
    confidences: list[float],
    summary: dict[str, Any],
    model_name: str,
) -> Evaluation:
    """Write the report files into ``directory`` and return what they contain."""
    directory.mkdir(parents=True, exist_ok=True)
    per_label = per_label_report(gold, predicted)
    errors: list[dict[str, Any]] = sorted(
        (
            {"text": t, "gold": g, "predicted": p, "confidence": round(c, 4)}
            for t, g, p, c in zip(texts, gold, predicted, confidences, strict=True)
            if g != p
        ),
        key=lambda item: -float(item["confidence"]),
    )
    report_name = f"{kind}_report.json"
    (directory / report_name).write_text(json.dumps({"summary": summary, "labels": per_label}, indent=2), encoding="utf-8")
    (directory / "errors.json").write_text(json.dumps(errors, indent=2, ensure_ascii=False), encoding="utf-8")
    _confusion_png(directory / "confusion_matrix.png", gold, predicted)
    _histogram_png(directory / "confidence_histogram.png", gold, predicted, confidences)
    _html(directory / "report.html", model_name, kind, summary, per_label, errors[:100], report_name)
    return Evaluation(summary, per_label, errors)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _confusion_png(path: Path, gold: list[str], predicted: list[str]) -> None:
    from sklearn.metrics import confusion_matrix

    plt = _pyplot()
    labels = sorted(set(gold) | set(predicted))
    matrix = confusion_matrix(gold, predicted, labels=labels, normalize="true")
    size = min(24.0, 4 + 0.18 * len(labels))
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=6 if len(labels) > 30 else 9)
    ax.set_yticks(range(len(labels)), labels, fontsize=6 if len(labels) > 30 else 9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("Confusion matrix (row-normalised)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _histogram_png(path: Path, gold: list[str], predicted: list[str], confidences: list[float]) -> None:
    plt = _pyplot()
    conf = np.asarray(confidences)
    right = np.asarray([g == p for g, p in zip(gold, predicted, strict=True)])
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(0, 1, 21).tolist()
    ax.hist([conf[right], conf[~right]], bins=bins, label=["correct", "wrong"], color=["#2b8a3e", "#c92a2a"], stacked=True)
    ax.set_xlabel("confidence")
    ax.set_ylabel("messages")
    ax.legend()
    ax.set_title("Confidence histogram")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _html(
    path: Path,
    model_name: str,
    kind: str,
    summary: dict[str, Any],
    per_label: dict[str, dict[str, Any]],
    errors: list[dict[str, Any]],
    report_name: str,
) -> None:
    esc = html.escape
    summary_rows = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in summary.items())
    label_rows = "".join(
        f"<tr><td>{esc(label)}</td><td>{m['precision']:.3f}</td><td>{m['recall']:.3f}</td><td>{m['f1-score']:.3f}</td>"
        f"<td>{m['support']}</td><td>{esc(', '.join(f'{k} ({v})' for k, v in m['confused_with'].items()))}</td></tr>"
        for label, m in sorted(per_label.items(), key=lambda item: item[1]["f1-score"])
    )
    error_rows = "".join(
        f"<tr><td>{esc(e['text'])}</td><td>{esc(e['gold'])}</td><td>{esc(e['predicted'])}</td><td>{e['confidence']:.3f}</td></tr>"
        for e in errors
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(kind)} evaluation: {esc(model_name)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px}}table{{border-collapse:collapse;margin:1rem 0}}
td,th{{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:14px}}img{{max-width:100%;border:1px solid #eee}}</style>
</head><body>
<h1>{esc(kind.title())} evaluation: {esc(model_name)}</h1>
<h2>Summary</h2><table>{summary_rows}</table>
<p>Files: <a href="{report_name}">{report_name}</a>, <a href="errors.json">errors.json</a></p>
<h2>Confusion matrix</h2><img src="confusion_matrix.png" alt="confusion matrix">
<h2>Confidence</h2><img src="confidence_histogram.png" alt="confidence histogram">
<h2>Per label (worst first)</h2>
<table><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th><th>most confused with</th></tr>{label_rows}</table>
<h2>Most confident errors</h2>
<table><tr><th>text</th><th>gold</th><th>predicted</th><th>confidence</th></tr>{error_rows}</table>
</body></html>
"""
    path.write_text(page, encoding="utf-8")


def evaluate_model(
    kind: str,
    model_ref: str,
    format: str,
    path: str | Path,
    report_dir: str | Path,
    *,
    split: str | None = None,
    limit: int | None = None,
) -> Evaluation:
    """Evaluate a stored model (a directory, or ``vader`` for sentiment) on a dataset and write the reports.

    Args:
        kind: ``intent`` or ``sentiment``.
        model_ref: model directory (``parley train --out``) or ``vader``.
        format: dataset format; path: dataset file/folder.
        report_dir: where the report files go.
        split: ``all``, a split name in the data (``val``), or ``carved_test`` / ``carved_val`` (the seeded
            splits training carves). Default: ``val`` when the data has one, else ``all``.
        limit: evaluate at most this many texts.
    """
    from parley.intelligence.artefacts import read_manifest
    from parley.intelligence.datasets import load
    from parley.intelligence.registry import load_model
    from parley.intelligence.training import SEED, make_splits, oos_predictions

    records = [r for r in load(format, path).as_texts() if r.label]
    if not records:
        raise ValueError("the dataset has no labelled texts")
    has_val = any(r.split == "val" for r in records)
    split = split or ("val" if has_val else "all")
    if split in ("carved_test", "carved_val"):
        splits = make_splits(records, seed=SEED)
        records = splits.report if split == "carved_test" else splits.tune
    elif split != "all":
        records = [r for r in records if r.split == split]
        if not records:
            raise ValueError(f"no texts in split {split!r}")
    if limit is not None:
        records = records[:limit]
    texts, gold = [r.text for r in records], [r.label or "" for r in records]
    if kind == "sentiment":
        from sklearn.metrics import recall_score

        from parley.intelligence.sentiment import VaderSentiment

        model: Any = VaderSentiment() if model_ref == "vader" else load_model(str(Path(model_ref).resolve()))
        predictions = model.predict_batch(texts)
        predicted = [p.label for p in predictions]
        confidences = [p.confidence for p in predictions]
        summary = intent_metrics(gold, predicted, confidences)
        summary["macro_recall"] = round(float(recall_score(gold, predicted, average="macro", zero_division=0)), 4)
        name = model.name
    elif kind == "intent":
        manifest = read_manifest(model_ref)
        if manifest.kind != "intent":
            raise ValueError(f"{model_ref} holds a {manifest.kind} model, not an intent model")
        model = load_model(str(Path(model_ref).resolve()))
        proba = model.predict_proba(texts)
        has_oos = any(g in OOS_LABELS for g in gold)
        predicted, confidences = oos_predictions(model.labels, proba, model.oos_threshold if has_oos else 0.0)
        summary = intent_metrics(gold, predicted, confidences)
        if not has_oos:
            rejected, _ = oos_predictions(model.labels, proba, model.oos_threshold)
            summary["accuracy_with_oos_rejection"] = intent_metrics(gold, rejected, confidences)["accuracy"]
        name = manifest.name
    else:
        raise ValueError(f"cannot evaluate {kind!r} models (intent or sentiment)")
    summary = {"model": name, "split": split, **summary}
    return write_reports(
        Path(report_dir),
        kind=kind,
        texts=texts,
        gold=gold,
        predicted=predicted,
        confidences=confidences,
        summary=summary,
        model_name=name,
    )


def confusion_summary(
    gold: list[str], predicted: list[str], *, max_labels: int = 12, max_pairs: int = 15, worst_labels: int = 30
) -> dict[str, Any]:
    """A compact confusion report stored with a model version (the dashboard draws it as a heatmap).

    A full matrix over 150 intents is unreadable and large, so this keeps the labels most involved
    in mistakes: the sub-matrix over those (rows gold, columns predicted, counts), the most frequent
    gold → predicted confusions, and per-label results of the labels with the lowest F1.

    Args:
        gold: the true labels of the report split.
        predicted: the model's labels (``"oos"`` for rejected messages).
        max_labels: size of the sub-matrix.
        max_pairs: how many confusions to list.
        worst_labels: how many per-label rows to keep (lowest F1 first).

    Returns:
        ``{"labels", "matrix", "worst", "errors", "n", "total_labels"}`` plus ``per_label``.
    """
    gold_n = [OOS if g in OOS_LABELS else g for g in gold]
    pred_n = [OOS if p in OOS_LABELS else p for p in predicted]
    support = Counter(gold_n)
    pairs = Counter((g, p) for g, p in zip(gold_n, pred_n, strict=True) if g != p)
    involvement: Counter[str] = Counter()
    for (g, p), count in pairs.items():
        involvement[g] += count
        involvement[p] += count
    chosen: list[str] = []
    for (g, p), _ in pairs.most_common():
        for label in (g, p):
            if label not in chosen and len(chosen) < max_labels:
                chosen.append(label)
        if len(chosen) >= max_labels:
            break
    chosen.sort(key=lambda label: (-involvement[label], label))
    if not chosen:  # no mistakes at all: show the biggest labels' (diagonal) counts
        chosen = [label for label, _ in support.most_common(max_labels)]
    cells = Counter(zip(gold_n, pred_n, strict=True))
    matrix = [[cells[(g, p)] for p in chosen] for g in chosen]
    per_label = per_label_report(gold_n, pred_n)
    worst_first = sorted(per_label.items(), key=lambda item: (item[1]["f1-score"], -item[1]["support"]))
    return {
        "n": len(gold_n),
        "errors": sum(pairs.values()),
        "total_labels": len(set(gold_n) | set(pred_n)),
        "labels": chosen,
        "matrix": matrix,
        "worst": [
            {"gold": g, "predicted": p, "count": count, "share_of_gold": round(count / max(1, support[g]), 4)}
            for (g, p), count in pairs.most_common(max_pairs)
        ],
        "per_label": dict(worst_first[:worst_labels]),
    }
