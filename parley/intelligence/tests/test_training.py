from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from parley.intelligence.artefacts import read_manifest
from parley.intelligence.evaluation import evaluate_model, intent_metrics
from parley.intelligence.intent import calibrate_threshold, calibrate_threshold_for_oos_recall
from parley.intelligence.registry import load_model
from parley.intelligence.training import TrainingError, train_intent, train_sentiment, train_topics

FIXTURES = Path(__file__).parent / "fixtures"


def test_fast_intent_model_trains_with_grid_and_reports(tmp_path: Path) -> None:
    result = train_intent("banking77", FIXTURES / "intents_mini.csv", tmp_path / "m", grid={"c": [1.0, 30.0]}, progress=False)
    manifest = read_manifest(tmp_path / "m")
    assert manifest.kind == "intent" and manifest.algorithm == "fast"
    assert manifest.labels == ["card_lost", "delivery", "refund"]
    assert [g["c"] for g in manifest.params["grid"]] == [1.0, 30.0]
    assert manifest.params["splits"] == {"train": 24, "tune": 3, "carved_test": 3}
    assert len(manifest.data_fingerprint) == 64 and manifest.training_seconds > 0
    assert result.summary()["accuracy"] == manifest.metrics["accuracy"]
    model = load_model(str(tmp_path / "m"))
    proba = model.predict_proba(["somebody stole my card", "my parcel is late"])
    assert [model.labels[i] for i in proba.argmax(axis=1)] == ["card_lost", "delivery"]


def test_oos_threshold_is_calibrated_on_validation_and_used_in_reports(tmp_path: Path) -> None:
    train_intent("clinc150", FIXTURES / "clinc_mini.json", tmp_path / "m", grid={"c": [30.0]}, progress=False)
    manifest = read_manifest(tmp_path / "m")
    assert manifest.metrics["split"] == "val"
    assert 0 <= manifest.params["oos_threshold"] < 1
    assert manifest.metrics["oos_recall"] >= 0.5
    assert {"in_scope_accuracy", "oos_recall"} <= set(manifest.metrics)
    report_dir = tmp_path / "report"
    evaluation = evaluate_model("intent", str(tmp_path / "m"), "clinc150", FIXTURES / "clinc_mini.json", report_dir)
    assert evaluation.summary["split"] == "val" and evaluation.summary["n"] == 12
    assert evaluation.summary["oos_recall"] == manifest.metrics["oos_recall"]
    for name in ("intent_report.json", "errors.json", "confusion_matrix.png", "confidence_histogram.png", "report.html"):
        assert (report_dir / name).stat().st_size > 0, name
    report = json.loads((report_dir / "intent_report.json").read_text())
    assert set(report["labels"]["refund"]) == {"precision", "recall", "f1-score", "support", "confused_with"}
    assert "confusion_matrix.png" in (report_dir / "report.html").read_text()


def test_calibration_balances_in_scope_accuracy_and_oos_recall() -> None:
    labels = ["a", "b"]
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.55, 0.45], [0.52, 0.48]])
    calibration = calibrate_threshold(labels, proba, ["a", "b", "oos", "oos"])
    assert 0.55 < calibration.threshold <= 0.8
    assert (calibration.in_scope_accuracy, calibration.oos_recall) == (1.0, 1.0)
    no_oos = calibrate_threshold(labels, proba[:2], ["a", "b"])
    assert no_oos.method == "quantile" and 0.8 <= no_oos.threshold < 0.9


def test_oos_recall_target_picks_the_lowest_threshold_that_meets_it() -> None:
    labels = ["a", "b", "oos"]
    rng = np.random.default_rng(0)
    # 200 in-scope texts, confident (0.65-0.99, 95% right); 20 out-of-scope texts, unsure (0.35-0.6), 2 won by "oos"
    in_conf = rng.uniform(0.65, 0.99, 200)
    oos_conf = np.sort(rng.uniform(0.35, 0.6, 20))
    rows, gold = [], []
    for i, c in enumerate(in_conf):
        top = i % 2 if i % 20 else 1 - i % 2  # every 20th is wrong
        row = np.full(3, (1 - c) / 2)
        row[top] = c
        rows.append(row)
        gold.append(labels[i % 2])
    for i, c in enumerate(oos_conf):
        row = np.full(3, (1 - c) / 2)
        row[2 if i >= 18 else i % 2] = c
        rows.append(row)
        gold.append("oos")
    proba = np.asarray(rows, dtype=np.float32)
    calibration = calibrate_threshold_for_oos_recall(labels, proba, gold, min_oos_recall=0.5)
    assert calibration.method == "oos_recall_target"
    # 2 caught by the oos class + the 8 least confident others = 10 of 20
    assert oos_conf[7] < calibration.threshold <= oos_conf[8]
    assert calibration.oos_recall == 0.5
    assert calibration.in_scope_accuracy == 0.95  # no in-scope text is as unsure: nothing good is rejected
    stricter = calibrate_threshold_for_oos_recall(labels, proba, gold, min_oos_recall=0.9)
    assert stricter.threshold > calibration.threshold and stricter.oos_recall == 0.9
    assert stricter.in_scope_accuracy <= calibration.in_scope_accuracy
    # the oos class alone meets a low target: no threshold at all
    assert calibrate_threshold_for_oos_recall(labels, proba, gold, min_oos_recall=0.1).threshold == 0.0
    # without out-of-scope examples it falls back to the quantile rule
    assert calibrate_threshold_for_oos_recall(labels, proba[:200], gold[:200]).method == "quantile"
    with pytest.raises(ValueError):
        calibrate_threshold_for_oos_recall(labels, proba, gold, min_oos_recall=1.5)


def test_oos_threshold_is_calibrated_out_of_fold_without_the_report_split(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "clinc_mini.json").read_text())
    first = train_intent("clinc150", FIXTURES / "clinc_mini.json", tmp_path / "a", grid={"c": [30.0]}, progress=False)
    calibration = first.manifest.params["oos_calibration"]
    # every train and oos_train text is scored out of fold; no val / oos_val text takes part
    assert calibration["method"] == "out_of_fold_oos_recall_target"
    assert calibration["texts"] == len(data["train"]) + len(data["oos_train"])
    assert calibration["oos_texts"] == len(data["oos_train"]) and calibration["folds"] == 5
    assert calibration["oof_oos_recall"] >= calibration["min_oos_recall"]
    # swapping the report split's out-of-scope texts changes the report, never the chosen threshold
    data["oos_val"] = [["please sing me a lullaby", "oos"], ["where do penguins live", "oos"], ["I lost my card", "oos"]]
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps(data))
    second = train_intent("clinc150", swapped, tmp_path / "b", grid={"c": [30.0]}, progress=False)
    assert second.manifest.params["oos_threshold"] == first.manifest.params["oos_threshold"]
    assert second.manifest.params["oos_calibration"] == calibration
    # the old rule (threshold from the carved tuning split) is still available
    old = train_intent("clinc150", FIXTURES / "clinc_mini.json", tmp_path / "c", grid={"c": [30.0]}, oos_folds=1, progress=False)
    assert old.manifest.params["oos_calibration"] == {"method": "tuning_split"}
    assert old.manifest.params["splits"] == first.manifest.params["splits"]


def test_intent_metrics_count_rejections() -> None:
    metrics = intent_metrics(["a", "b", "oos", "oos"], ["a", "oos", "oos", "b"], [0.9, 0.3, 0.2, 0.6])
    assert metrics["in_scope_accuracy"] == 0.5 and metrics["oos_recall"] == 0.5 and metrics["accuracy"] == 0.5


def test_sentiment_head_beats_nothing_and_is_compared_with_vader(tmp_path: Path) -> None:
    train_sentiment([("airline", FIXTURES / "airline_mini.csv")], tmp_path / "s", grid={"c": [10.0]}, progress=False)
    manifest = read_manifest(tmp_path / "s")
    assert manifest.labels == ["negative", "neutral", "positive"]
    assert {"macro_recall", "vader_macro_recall", "accuracy"} <= set(manifest.metrics)
    model = load_model(str(tmp_path / "s"))
    angry, happy = model.predict_batch(["worst flight ever, so angry", "thank you, wonderful crew"])
    assert angry.label == "negative" and angry.score < 0
    assert happy.label == "positive" and happy.score > 0
    evaluation = evaluate_model("sentiment", "vader", "airline", FIXTURES / "airline_mini.csv", tmp_path / "vader")
    assert evaluation.summary["model"] == "vader" and 0 < evaluation.summary["macro_recall"] <= 1


def test_topics_are_discovered_labelled_and_new_texts_assigned(tmp_path: Path) -> None:
    result = train_topics("banking77", FIXTURES / "intents_mini.csv", tmp_path / "t", distance_threshold=0.7, progress=False)
    assert result.manifest.metrics["topics"] >= 2
    assert result.manifest.metrics["purity"] >= 0.7
    model = load_model(str(tmp_path / "t"))
    assert all(topic.keywords and topic.examples and topic.size >= 3 for topic in model.topics)
    from parley.intelligence.embeddings import encode

    assigned = model.assign(encode(["my card was stolen last night", "quantum chromodynamics lecture notes"]))
    card_topic = next(t for t in model.topics if any("card" in k for k in t.keywords))
    assert assigned[0][0] == card_topic.id
    assert assigned[1][0] == -1


def test_one_label_is_a_training_error(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("text,category\n" + "".join(f"text {i},only\n" for i in range(10)))
    with pytest.raises(TrainingError, match="two labels"):
        train_intent("banking77", path, tmp_path / "m", progress=False)


def test_cli_train_and_evaluate_print_one_json_line(tmp_path: Path) -> None:
    from parley.intelligence.cli import evaluate, train

    runner = CliRunner()
    trained = runner.invoke(
        train,
        [
            "intent",
            "--format",
            "banking77",
            "--data",
            str(FIXTURES / "intents_mini.csv"),
            "--out",
            str(tmp_path / "m"),
            "--no-register",
        ],
    )
    assert trained.exit_code == 0, trained.output
    summary = json.loads(trained.stdout.strip().splitlines()[-1])
    assert summary["kind"] == "intent" and "accuracy" in summary
    evaluated = runner.invoke(
        evaluate,
        [
            "intent",
            "--model",
            str(tmp_path / "m"),
            "--data",
            str(FIXTURES / "intents_mini.csv"),
            "--format",
            "banking77",
            "--report-dir",
            str(tmp_path / "r"),
            "--split",
            "carved_test",
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    line = json.loads(evaluated.stdout.strip())
    assert line["split"] == "carved_test" and line["accuracy"] == summary["accuracy"]
    bad = runner.invoke(
        evaluate,
        [
            "intent",
            "--model",
            str(tmp_path),
            "--data",
            str(FIXTURES / "intents_mini.csv"),
            "--format",
            "banking77",
            "--report-dir",
            str(tmp_path / "x"),
        ],
    )
    assert bad.exit_code == 1 and "not a model directory" in bad.output


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_finetuned_intent_model_trains_checkpoints_and_loads(tmp_path: Path) -> None:
    import torch

    result = train_intent(
        "banking77",
        FIXTURES / "intents_mini.csv",
        tmp_path / "ft",
        algorithm="finetuned",
        progress=False,
        finetune_options={"networks": 2, "epochs": 2, "batch_size": 8, "head_learning_rate": 5e-2, "max_length": 16},
    )
    manifest = result.manifest
    assert manifest.algorithm == "finetuned" and manifest.params["networks_trained"] == 2
    # each network trains its own epochs (early stopping may cut the second), seeded apart
    networks = [h["network"] for h in manifest.params["history"]]
    assert networks[0] == 1 and networks[-1] == 2 and sorted(networks) == networks
    assert all(h["epoch"] in (1, 2) for h in manifest.params["history"])
    model = load_model(str(tmp_path / "ft"))
    proba = model.predict_proba(["someone stole my card"])
    assert proba.shape == (1, 3) and abs(float(proba.sum()) - 1) < 1e-4
    # the bottom three layers are frozen and stored once; each network keeps its own top three
    assert manifest.params["frozen_layers"] == 3 and manifest.params["top_layers"] == 3
    bottom, tops = model.model.bottom, model.model.tops
    assert len(bottom.encoder.layer) == 3 and len(tops) == 2 and all(len(top.layers) == 3 for top in tops)
    first, second = (dict(top.named_parameters())["layers.0.attention.self.query.weight"] for top in tops)
    assert not torch.equal(first, second)
    # the frozen bottom is MiniLM's own: same token states as the first three layers of the shipped model
    from transformers import AutoModel, AutoTokenizer

    from parley.intelligence.embeddings import model_path

    shipped = AutoModel.from_pretrained(str(model_path()), local_files_only=True).eval()
    encoded = AutoTokenizer.from_pretrained(str(model_path()))(["my card is lost"], return_tensors="pt")
    with torch.inference_mode():
        expected = shipped(**encoded, output_hidden_states=True).hidden_states[3]
        torch.testing.assert_close(model.model.bottom_states(encoded["input_ids"], encoded["attention_mask"]), expected)
    # the checkpoint is a loadable model too (the networks at their best epochs so far)
    checkpoint = load_model(str(tmp_path / "ft" / "checkpoint"))
    assert checkpoint.predict_proba(["someone stole my card"]).shape == (1, 3)
    assert manifest.params["logit_scale"] == 20.0 and read_manifest(tmp_path / "ft" / "checkpoint").params["logit_scale"] == 20.0
    # the ensemble is the average of its networks
    text = ["my card was stolen yesterday"]
    encoded = model.tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        states = model.model.bottom_states(encoded["input_ids"], encoded["attention_mask"])
        mask = encoded["attention_mask"].float()
        each = [torch.softmax(top(states, mask), dim=-1).numpy() for top in tops]
    np.testing.assert_allclose(model.encoder_proba(text), np.mean(each, axis=0), atol=1e-5)
    # the ensemble weights (embedding head, TF-IDF head) were chosen on the tuning split, and reload
    grid = manifest.params["ensemble_grid"]
    assert len(grid) == 5 * 4 and {(g["embedding_weight"], g["text_weight"]) for g in grid} >= {(0.0, 0.0), (0.5, 0.3)}
    best = max(g["tune_accuracy"] for g in grid)
    chosen = next(g for g in grid if g["tune_accuracy"] == best)
    assert manifest.params["embedding_weight"] == chosen["embedding_weight"] == model.embedding_weight
    assert manifest.params["text_weight"] == chosen["text_weight"] == model.text_weight
    assert (model.text_head is not None) == (chosen["text_weight"] > 0)
    assert model.needs_embeddings == (model.embedding_head is not None) == (chosen["embedding_weight"] > 0)
    # the ensemble is the weighted sum of its parts
    parts = (1 - model.embedding_weight - model.text_weight) * model.encoder_proba(text)
    if model.text_head is not None:
        parts += model.text_weight * model.text_head.predict_proba(np.zeros((1, 0), dtype=np.float32), text)
    if model.embedding_head is not None:
        from parley.intelligence.embeddings import encode

        parts += model.embedding_weight * model.embedding_head.predict_proba(encode(text))
    np.testing.assert_allclose(model.predict_proba(text), parts, atol=1e-5)
    # length-sorted inference batches: every row comes back in the caller's order
    texts = ["my parcel has not arrived after three weeks of waiting", "refund", "someone stole my card"]
    forward, backward = model.predict_proba(texts, batch_size=2), model.predict_proba(texts[::-1], batch_size=2)
    np.testing.assert_allclose(forward, backward[::-1], atol=1e-5)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_finetuned_model_saved_before_the_frozen_bottom_still_loads_and_predicts_as_it_did(tmp_path: Path) -> None:
    """A network fine-tuned end to end (saved as encoder/ + classifier.pt) loads as one top over no frozen layer."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from parley.intelligence.artefacts import Manifest
    from parley.intelligence.embeddings import model_path

    encoder = AutoModel.from_pretrained(str(model_path()), local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_path()), local_files_only=True)
    torch.manual_seed(0)
    classifier = torch.nn.Linear(384, 3)
    encoder.save_pretrained(tmp_path / "encoder")
    tokenizer.save_pretrained(tmp_path / "encoder")
    torch.save(classifier.state_dict(), tmp_path / "classifier.pt")
    (tmp_path / "labels.json").write_text(json.dumps(["a", "b", "c"]))
    Manifest(kind="intent", algorithm="finetuned", name="old", labels=["a", "b", "c"], params={"logit_scale": 20.0}).write(
        tmp_path
    )
    model = load_model(str(tmp_path))
    assert len(model.model.bottom.encoder.layer) == 0 and len(model.model.tops) == 1
    texts = ["where is my new card", "refund please"]
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():  # the old network: mean pool → normalise → linear × scale
        states = encoder(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).float()
        pooled = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=-1)
        expected = torch.softmax(classifier(pooled) * 20.0, dim=-1).numpy()
    np.testing.assert_allclose(model.encoder_proba(texts), expected, atol=1e-5)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_cancelling_stops_fine_tuning_between_batches(tmp_path: Path) -> None:
    from parley.intelligence.jobs import JobCancelled

    calls = 0

    def checkpoint() -> None:
        nonlocal calls
        calls += 1
        # 1: data loaded, 2: before the frozen bottom runs, 3-4: its train and tuning batches,
        # 5: the first training batch; cancelled before the second
        if calls > 5:
            raise JobCancelled

    with pytest.raises(JobCancelled):
        train_intent(
            "banking77",
            FIXTURES / "intents_mini.csv",
            tmp_path / "ft",
            algorithm="finetuned",
            progress=False,
            finetune_options={"epochs": 3, "batch_size": 2, "max_length": 16},
            checkpoint=checkpoint,
        )
    assert calls == 6 and not (tmp_path / "ft" / "manifest.json").exists()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_cli_fine_tuning_options_and_time_budget(tmp_path: Path) -> None:
    """`--networks`, `--epochs` and `--max-seconds` reach the training; an exhausted budget keeps what was
    trained (the network in training at its best epoch) and starts no other network."""
    from parley.intelligence.cli import train

    def run(out: str, *options: str) -> None:
        result = CliRunner().invoke(
            train,
            [
                *("intent", "--model", "finetuned", "--format", "banking77", "--data", str(FIXTURES / "intents_mini.csv")),
                *("--out", str(tmp_path / out), "--no-register", "--no-progress", *options),
            ],
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.strip().splitlines()[-1])["algorithm"] == "finetuned"

    run("two", "--networks", "2", "--epochs", "1")
    params = read_manifest(tmp_path / "two").params
    assert params["networks_trained"] == 2 and params["network_stops"] == ["epochs", "epochs"]
    assert [(h["network"], h["epoch"]) for h in params["history"]] == [(1, 1), (2, 1)]
    assert params["stopped"] == "epochs"

    run("budget", "--networks", "3", "--epochs", "3", "--max-seconds", "0")
    params = read_manifest(tmp_path / "budget").params
    assert params["stopped"] == "max_seconds" and params["network_stops"] == ["max_seconds"]
    assert params["networks_trained"] == 1 and [(h["network"], h["epoch"]) for h in params["history"]] == [(1, 1)]
    assert load_model(str(tmp_path / "budget")).predict_proba(["someone stole my card"]).shape == (1, 3)


def test_length_buckets_cover_every_text_once_in_similar_length_batches() -> None:
    from parley.intelligence.finetune import length_buckets

    lengths = [int(n) for n in np.random.default_rng(0).integers(3, 60, size=203)]
    batches = length_buckets(lengths, 8, 5, np.random.default_rng(1))
    assert sorted(i for b in batches for i in b) == list(range(203))
    assert all(1 <= len(b) <= 8 for b in batches) and len(batches) == 26
    # padding: within a pool of 40 texts sorted by length, a batch spans far less than the whole range
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 20
    # seeded (reproducible), and a new epoch (generator state) gives another order
    rng = np.random.default_rng(1)
    assert length_buckets(lengths, 8, 5, rng) == batches
    assert length_buckets(lengths, 8, 5, rng) != batches


def test_sentiment_trend_direction() -> None:
    from parley.intelligence.sentiment import sentiment_trend

    worsening = sentiment_trend([0.5, 0.1, -0.4, -0.8])
    assert worsening.direction == "worsening" and worsening.slope < 0 and worsening.end == -0.8
    assert sentiment_trend([-0.6, 0.0, 0.7]).direction == "improving"
    assert sentiment_trend([0.2]).direction == "stable"
    assert sentiment_trend([]).scores == []
