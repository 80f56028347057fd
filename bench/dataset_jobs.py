"""Dataset-import jobs: what job tracking costs, and how fast a cancel takes effect.

Generates a synthetic support CSV (``--conversations`` conversations of 4 turns, seeded) and imports it
three times into fresh bench tenants, in this process (the code a worker runs, without the broker):

1. baseline: the command-line import (``parley datasets import``: no job row, no checkpoints);
2. job: an uploaded import run as the worker runs it (progress, per-chunk counts, a cancellation
   checkpoint and heartbeat per chunk, the final status under a row lock);
3. cancel: the same job in a thread, cancelled once its first chunk is in; timed from the cancel to the
   worker having stopped and removed the partial rows (``finished_at`` set), which must leave nothing.

Figures: the job's overhead (job seconds / baseline seconds; both after a warm-up import) and the cancel
latency beside the full import time. One JSON line.

    nice -n 10 .venv/bin/python bench/dataset_jobs.py [--conversations 3000]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _common import emit, setup_django


def _write_dataset(path: Path, conversations: int) -> Path:
    intents = ["delivery", "refund", "card_lost", "cancel", "balance"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["conversation_id", "turn", "speaker", "text", "customer_id", "intent"])
        for n in range(conversations):
            intent = intents[n % len(intents)]
            writer.writerow(
                [f"b{n}", 1, "customer", f"Hello, question {n} about my {intent.replace('_', ' ')}", f"cust-{n}", intent]
            )
            writer.writerow([f"b{n}", 2, "agent", "Thanks for reaching out, let me check that for you.", "", ""])
            writer.writerow([f"b{n}", 3, "customer", f"The reference is {n * 7919 % 100000}", f"cust-{n}", ""])
            writer.writerow([f"b{n}", 4, "agent", "Done, anything else I can help with?", "", ""])
    return path


def _tenant(label: str) -> Any:
    from parley.accounts import actions as account_actions

    return account_actions.create_tenant(slug=f"bench-jobs-{label}-{uuid.uuid4().hex[:6]}", name=f"Bench jobs {label}")


def _drop(tenant: Any) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("conversations_message", "conversations_conversation"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [str(tenant.id)])
    tenant.delete()


def _queued(tenant: Any, path: Path) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from parley.intelligence.actions import queue_dataset_import

    upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
    return queue_dataset_import(tenant=tenant, format="synthetic", upload=upload, actor="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=3000)
    args = parser.parse_args()
    setup_django("bench-jobs")
    from django.db import connection

    from parley.conversations.models import Conversation
    from parley.intelligence import actions, importer
    from parley.intelligence.models import DatasetImport

    tenants: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as folder:
        dataset = _write_dataset(Path(folder) / "support.csv", args.conversations)
        warm = _write_dataset(Path(folder) / "warm.csv", 50)
        try:
            tenants.append(_tenant("warm"))  # load the language detector and friends before timing anything
            actions.import_dataset(tenants[-1], "synthetic", warm, progress=False)
            tenants.append(_tenant("cli"))
            started = time.perf_counter()
            report = actions.import_dataset(tenants[-1], "synthetic", dataset, progress=False)
            baseline = time.perf_counter() - started
            assert report.conversations_created == args.conversations, report

            tenants.append(_tenant("job"))
            record = _queued(tenants[-1], dataset)
            started = time.perf_counter()
            assert actions.run_dataset_import(record.pk) == "done"
            job_seconds = time.perf_counter() - started
            record.refresh_from_db()
            assert record.conversations_created == args.conversations, record.conversations_created

            tenants.append(_tenant("cancel"))
            record = _queued(tenants[-1], dataset)
            outcome: list[str] = []

            def worker() -> None:
                try:
                    outcome.append(actions.run_dataset_import(record.pk))
                finally:
                    connection.close()

            thread = threading.Thread(target=worker)
            thread.start()
            deadline = time.monotonic() + 600
            while DatasetImport.objects.get(pk=record.pk).progress_done < importer.CHUNK and time.monotonic() < deadline:
                time.sleep(0.01)
            partial = Conversation.objects.filter(tenant=tenants[-1]).count()
            cancelled_at = time.perf_counter()
            actions.cancel_dataset_import(record=record, actor="bench")
            while DatasetImport.objects.get(pk=record.pk).finished_at is None and time.monotonic() < deadline:
                time.sleep(0.005)
            cancel_seconds = time.perf_counter() - cancelled_at
            thread.join()
            left = Conversation.objects.filter(tenant=tenants[-1]).count()
            assert outcome == ["cancelled"] and left == 0, (outcome, left)
        finally:
            for tenant in tenants:
                _drop(tenant)
    emit(
        {
            "bench": "dataset_jobs",
            "conversations": args.conversations,
            "messages": args.conversations * 4,
            "job_import_s": round(job_seconds, 2),
            "baseline_cli_import_s": round(baseline, 2),
            "job_overhead_ratio": round(job_seconds / baseline, 3),
            "cancel_to_clean_s": round(cancel_seconds, 3),
            "partial_conversations_when_cancelled": partial,
            "cancel_vs_full_import_ratio": round(cancel_seconds / job_seconds, 3),
            "left_after_cancel": left,
        }
    )


if __name__ == "__main__":
    main()
