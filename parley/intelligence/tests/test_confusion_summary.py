"""The compact confusion report stored with each trained model (drawn as a heatmap by the dashboard)."""

from __future__ import annotations

from pathlib import Path

from parley.intelligence.artefacts import read_manifest
from parley.intelligence.evaluation import confusion_summary
from parley.intelligence.training import train_intent

FIXTURES = Path(__file__).parent / "fixtures"


def test_sub_matrix_keeps_the_most_confused_labels_and_counts_cells() -> None:
    gold = ["refund"] * 5 + ["card_lost"] * 4 + ["delivery"] * 3 + ["balance"] * 6 + ["oos"]
    predicted = (
        ["refund", "refund", "refund", "delivery", "delivery"]
        + ["card_lost", "card_lost", "card_lost", "refund"]
        + ["delivery"] * 3
        + ["balance"] * 6
        + ["out_of_scope"]
    )
    report = confusion_summary(gold, predicted, max_labels=3, max_pairs=5)

    assert report["n"] == 19 and report["errors"] == 3 and report["total_labels"] == 5
    assert report["labels"] == ["refund", "delivery", "card_lost"]  # most involved in mistakes first
    # rows are gold, columns predicted, in ``labels`` order; the diagonal holds the correct counts
    assert report["matrix"] == [[3, 2, 0], [0, 3, 0], [1, 0, 3]]
    assert report["worst"][0] == {"gold": "refund", "predicted": "delivery", "count": 2, "share_of_gold": 0.4}
    assert report["worst"][1]["gold"] == "card_lost" and report["worst"][1]["count"] == 1
    assert "oos" in report["per_label"]  # "out_of_scope" predictions count as the oos label
    assert next(iter(report["per_label"])) == "refund"  # lowest F1 first
    assert report["per_label"]["refund"]["confused_with"] == {"delivery": 2}


def test_a_perfect_model_shows_the_diagonal_of_its_largest_labels() -> None:
    report = confusion_summary(["a", "a", "b"], ["a", "a", "b"])
    assert report["errors"] == 0 and report["worst"] == []
    assert report["labels"] == ["a", "b"] and report["matrix"] == [[2, 0], [0, 1]]


def test_training_stores_the_confusion_report_with_the_model(tmp_path: Path) -> None:
    result = train_intent("banking77", FIXTURES / "intents_mini.csv", tmp_path / "m", grid={"c": [30.0]}, progress=False)
    confusion = read_manifest(tmp_path / "m").metrics["confusion"]
    assert confusion["n"] == 3
    size = len(confusion["labels"])
    assert size >= 1 and len(confusion["matrix"]) == size and all(len(row) == size for row in confusion["matrix"])
    assert sum(map(sum, confusion["matrix"])) <= confusion["n"]
    assert "confusion" not in result.summary()  # the CLI's one-line summary stays scalar
