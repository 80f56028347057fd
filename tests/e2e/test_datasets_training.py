"""The Datasets page in a real Chromium against ``parley up``: upload a dataset, watch the import finish and
read its quality report, then train an intent model from an upload and open the new version."""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path
from typing import Any

import httpx

SYNTHETIC_ROWS = [
    ("conversation_id", "turn", "speaker", "text", "intent"),
    ("e2e-1", "1", "customer", "Where is my order 1234?", "order_status"),
    ("e2e-1", "2", "agent", "It ships tomorrow.", ""),
    ("e2e-2", "1", "customer", "I want my money back for the broken kettle", "refund"),
    ("e2e-2", "2", "agent", "I have started the refund.", ""),
    ("e2e-3", "1", "customer", "Can you cancel my subscription please", "cancel"),
    ("e2e-3", "2", "robot", "beep", ""),  # an unknown speaker: a schema error in the quality report
]

INTENT_TEXTS = {
    "card_lost": [
        "I lost my card",
        "my card is missing",
        "I can't find my bank card anywhere",
        "someone stole my card",
        "card got lost on holiday",
        "my debit card disappeared",
        "I think I dropped my card",
        "lost card, please block it",
        "where did my card go, it's gone",
        "my wallet with the card was stolen",
    ],
    "balance": [
        "what is my balance",
        "how much money do I have",
        "show my account balance",
        "check balance please",
        "how much is left on my account",
        "tell me my current balance",
        "balance of my savings",
        "what's in my account right now",
        "I want to see my balance",
        "how much do I have available",
    ],
    "transfer": [
        "send money to my friend",
        "transfer 50 euros to John",
        "how do I make a transfer",
        "wire money abroad",
        "move money between accounts",
        "pay my sister 20 pounds",
        "I need to send a bank transfer",
        "make a payment to another account",
        "transfer funds to savings",
        "send cash to my landlord",
    ],
}


def _write_csv(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _upload(page: Any, path: Path, format: str) -> Any:
    """Upload ``path`` through the form; returns the import detail card (the new import is selected)."""
    page.get_by_label("Format").select_option(format)
    page.get_by_label("Dataset file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and import").click()
    detail = page.get_by_test_id("import-detail")
    detail.get_by_role("heading", name=re.compile(re.escape(path.name))).wait_for()
    return detail


def test_import_a_dataset_then_train_an_intent_model(
    logged_in_page: Any, api_session: httpx.Client, tmp_path: Path, artifacts_dir: Path
) -> None:
    page = logged_in_page
    started = time.monotonic()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets").click()
    page.get_by_role("heading", name="Datasets", level=1).wait_for()
    # The format list comes from the server's loaders.
    page.get_by_label("Format").locator("option[value=synthetic]").wait_for(state="attached")
    options = page.get_by_label("Format").locator("option").all_inner_texts()
    assert {"synthetic", "banking77", "sgd", "twcs"} <= set(options), options

    # 1. A conversation dataset: the import runs on the worker, reaches done, and shows its quality report.
    conversations = _write_csv(tmp_path / "e2e-support.csv", SYNTHETIC_ROWS)
    detail = _upload(page, conversations, "synthetic")
    detail.locator(".chip.status-done").wait_for(timeout=30_000)
    table = page.get_by_role("table", name="Dataset imports")
    row = table.get_by_role("row").filter(has_text="e2e-support.csv")
    assert row.get_by_role("progressbar").get_attribute("value") == "100"
    assert "done" in row.inner_text()
    report = detail.get_by_test_id("quality-report")
    report.wait_for()
    assert "Created 3 conversations with 5 messages" in detail.inner_text()
    rows_read = report.locator("dt", has_text="Rows read").locator("xpath=following-sibling::dd")
    assert rows_read.inner_text().strip() == "6"
    schema_errors = report.get_by_role("table", name=re.compile("Rows that could not be read"))
    assert "unknown speaker 'robot'" in schema_errors.inner_text()
    page.screenshot(path=str(artifacts_dir / "dashboard-datasets-quality.png"), full_page=True)

    # 2. A tiny labelled dataset (banking77 format: text,category): train an intent model on it.
    labelled = [("text", "category")] + [(text, label) for label, texts in INTENT_TEXTS.items() for text in texts]
    intents = _write_csv(tmp_path / "e2e-intents.csv", labelled)
    detail = _upload(page, intents, "banking77")
    detail.locator(".chip.status-done").wait_for(timeout=30_000)
    detail.get_by_role("img", name="Label balance bar chart").wait_for()
    detail.get_by_text("Label counts as a table").click()
    balance = detail.get_by_role("table", name="Examples per label")
    assert sorted(balance.locator("tbody td:first-child").all_text_contents()) == sorted(INTENT_TEXTS)

    detail.get_by_label("Model", exact=True).select_option("intent")
    detail.get_by_role("button", name="Train").click()
    job = detail.get_by_test_id("training-job")
    job.wait_for()
    assert re.search(r"(waiting for a worker|running|took) \d+", job.get_by_test_id("training-elapsed").inner_text())
    job.locator(".chip.status-done").wait_for(timeout=60_000)
    assert "macro f1" in job.inner_text()
    link = job.get_by_role("link", name="Open the new model version")
    version_id = (link.get_attribute("href") or "").rsplit("=", 1)[-1]
    version = api_session.get(f"/api/v1/models/{version_id}/")
    assert version.status_code == 200, version.text
    assert version.json()["kind"] == "intent" and version.json()["dataset_format"] == "banking77"
    assert sorted(version.json()["labels"]) == sorted(INTENT_TEXTS)
    page.screenshot(path=str(artifacts_dir / "dashboard-datasets-trained.png"), full_page=True)

    # 3. The link opens the version's evaluation report on the Models page, where it can be promoted.
    link.click()
    page.get_by_role("heading", name="Models", level=1).wait_for()
    page.get_by_role("heading", name=re.compile(r"^Evaluation report: intent")).wait_for()
    assert page.get_by_role("table", name="Trained models").get_by_role("button", name="Promote").count() >= 1
    assert time.monotonic() - started < 90, "the Datasets flow took too long"


def test_cancel_a_running_import_from_the_datasets_page(
    logged_in_page: Any, api_session: httpx.Client, tmp_path: Path, artifacts_dir: Path
) -> None:
    """A large upload is cancelled while it runs: the worker stops and nothing of it stays."""
    page = logged_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets").click()
    page.get_by_role("heading", name="Datasets", level=1).wait_for()
    page.get_by_label("Format").locator("option[value=synthetic]").wait_for(state="attached")
    rows: list[tuple[str, ...]] = [("conversation_id", "turn", "speaker", "text", "intent")]
    for n in range(3000):
        rows += [
            (f"big-{n}", "1", "customer", f"Question {n} about my order", "order_status"),
            (f"big-{n}", "2", "agent", "On it.", ""),
        ]
    detail = _upload(page, _write_csv(tmp_path / "e2e-big.csv", rows), "synthetic")
    detail.locator(".chip.status-running").wait_for(timeout=30_000)
    detail.get_by_role("button", name="Cancel import").click()
    detail.get_by_test_id("import-cancelled").filter(has_text="nothing of it was kept").wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts_dir / "dashboard-datasets-cancelled.png"), full_page=True)
    listed = api_session.get("/api/v1/dataset-imports/", params={"page_size": 5}).json()["results"]
    record = next(r for r in listed if r["path"].endswith("e2e-big.csv"))
    assert record["status"] == "cancelled" and record["finished_at"], record
    assert record["conversations_created"] == 0 and record["error"].startswith("Cancelled by")
    table = page.get_by_role("table", name="Dataset imports")
    assert "cancelled" in table.get_by_role("row").filter(has_text="e2e-big.csv").inner_text()
    assert table.get_by_role("button", name=re.compile("Cancel the import of e2e-big.csv")).count() == 0
