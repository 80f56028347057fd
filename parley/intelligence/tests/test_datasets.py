from __future__ import annotations

import json
from pathlib import Path

import pytest

from parley.intelligence.datasets import DatasetError, datasets_dir, load
from parley.intelligence.preprocessing import mask_pii, normalise, stratified_split
from parley.intelligence.quality import quality_report

FIXTURES = Path(__file__).parent / "fixtures"


def test_synthetic_csv_orders_turns_keeps_labels_and_lists_bad_rows() -> None:
    result = load("synthetic", FIXTURES / "synthetic_support.csv")
    assert [d.id for d in result.dialogues] == ["c1", "c2"]
    c1, c2 = result.dialogues
    assert [t.speaker for t in c1.turns] == ["customer", "agent", "customer", "agent"]
    assert c1.customer_id == "cust-1"
    assert c1.turns[0].labels == {"intent": "delivery", "sentiment": "negative"}
    assert c1.turns[0].timestamp is not None
    assert [t.text for t in c2.turns] == ["I want a refund", "Anything else?"]  # sorted by turn
    assert [(i.row, "turn" in i.message or "speaker" in i.message) for i in result.issues] == [(7, True), (8, True)]


def test_twcs_rebuilds_threads_from_reply_ids() -> None:
    result = load("twcs", FIXTURES / "twcs_mini.csv")
    threads = {d.id: d for d in result.dialogues}
    assert set(threads) == {"3", "4", "7"}  # 7 answers a tweet outside the file: it starts a thread
    assert [t.text for t in threads["3"].turns] == [
        "@AcmeSupport my order never arrived",
        "@100 We are sorry. Please DM us.",
        "@AcmeSupport done",
    ]
    assert [t.speaker for t in threads["3"].turns] == ["customer", "agent", "customer"]
    assert threads["3"].customer_id == "100"
    assert threads["4"].meta["companies"] == ["AcmeSupport"]
    assert result.issues[0].row == 6 and "inbound" in result.issues[0].message


def test_banking77_json_maps_numeric_labels_and_rejects_unknown(tmp_path: Path) -> None:
    (tmp_path / "categories.json").write_text(json.dumps(["card_arrival", "card_linking"]))
    (tmp_path / "train.json").write_text(
        json.dumps(
            [{"text": "where is my card", "label": 0}, ["link my card", "card_linking"], {"text": "x", "label": 7}, {"text": ""}]
        )
    )
    result = load("banking77", tmp_path / "train.json")
    assert [(r.text, r.label) for r in result.texts] == [("where is my card", "card_arrival"), ("link my card", "card_linking")]
    assert [i.row for i in result.issues] == [3, 4]


def test_banking77_csv_needs_its_columns(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,intent\nhello,greet\n")
    with pytest.raises(DatasetError, match="missing column"):
        load("banking77", bad)


def test_clinc150_merges_oos_keys_into_their_split(tmp_path: Path) -> None:
    path = tmp_path / "data_full.json"
    path.write_text(
        json.dumps(
            {
                "train": [["set an alarm", "alarm"]],
                "oos_train": [["how tall is a giraffe", "oos"]],
                "val": [["wake me", "alarm"], "bad"],
            }
        )
    )
    result = load("clinc150", path)
    assert [(r.split, r.label) for r in result.texts] == [("train", "alarm"), ("train", "oos"), ("val", "alarm")]
    assert len(result.issues) == 1


def test_bitext_parquet_and_csv_give_texts_and_two_turn_dialogues(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = {
        "instruction": ["cancel order 42", ""],
        "intent": ["cancel_order", "x"],
        "category": ["ORDER", "ORDER"],
        "response": ["Sure.", "y"],
    }
    pq.write_table(pa.table(rows), tmp_path / "bitext.parquet")
    result = load("bitext", tmp_path / "bitext.parquet")
    assert [(r.text, r.label, r.meta["category"]) for r in result.texts] == [("cancel order 42", "cancel_order", "ORDER")]
    assert [t.speaker for t in result.dialogues[0].turns] == ["customer", "agent"]
    assert result.issues[0].row == 2
    pq.write_table(pa.table({"instruction": ["a"]}), tmp_path / "broken.parquet")
    with pytest.raises(DatasetError, match="missing column"):
        load("bitext", tmp_path / "broken.parquet")


def test_sgd_and_abcd_samples_from_the_shared_datasets() -> None:
    root = datasets_dir()
    if not (root / "sgd").exists():
        pytest.skip("shared datasets not present")
    sgd = load("sgd", root / "sgd" / "dev" / "dialogues_001.json")
    assert len(sgd.dialogues) == 128 and not sgd.issues
    first_user = sgd.dialogues[0].turns[0]
    assert first_user.speaker == "customer" and first_user.labels["intent"]
    assert any(act.startswith("INFORM_INTENT") for act in first_user.labels["acts"])
    abcd = load("abcd", root / "abcd" / "abcd_sample.json")
    assert len(abcd.dialogues) == 3
    assert {t.speaker for t in abcd.dialogues[0].turns} == {"customer", "agent", "system"}


def test_unknown_format_and_missing_path_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="unknown dataset format"):
        load("nope", tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        load("twcs", tmp_path / "missing.csv")


def test_quality_report_counts_duplicates_conflicts_and_schema_errors(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text(
        "text,category\nI lost my card,lost_card\nI lost my card,lost_card\ni LOST my card!!,card_arrival\n"
        + "where is my card 123,card_arrival\n,card_arrival\n"
        + "x" * 2100
        + ",lost_card\n"
    )
    report = quality_report(load("banking77", path))
    assert report["duplicates"]["exact"] == 1
    assert report["duplicates"]["near"] == 1
    assert report["label_noise_candidates"]["conflicting_labels"][0]["labels"] == ["card_arrival", "lost_card"]
    assert report["schema_errors"]["rows"][0]["row"] == 5
    assert report["lengths"]["overlong"] == 1
    assert report["labels"]["balance"] == {"lost_card": 3, "card_arrival": 2}
    assert report["language_mix"]["counts"]["en"] >= 3


def test_preprocessing_masks_pii_and_splits_are_stratified_and_seeded() -> None:
    assert normalise("  ｆｕｌｌ\u200bwidth \n\n text ") == "full width text"
    masked = mask_pii("mail a.b@c.com, call +44 20 7946 0958, card 4111 1111 1111 1111, @acme")
    assert masked == "mail [EMAIL], call [PHONE], card [CARD], [HANDLE]"
    labels = ["a"] * 50 + ["b"] * 30 + ["c"] * 20 + ["rare"]
    split = stratified_split(labels, validation=0.2, test=0.2, seed=1)
    assert split == stratified_split(labels, validation=0.2, test=0.2, seed=1)
    assert sorted(split.train + split.validation + split.test) == list(range(len(labels)))
    assert 100 in split.train  # a class too small to split stays in train
    assert sum(labels[i] == "a" for i in split.validation) == 10
