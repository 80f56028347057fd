"""Dataset-import and training jobs never stay stuck: final failures end ``failed`` with a reason, retries
resume without duplicates, jobs can be cancelled (their partial rows removed) and the lists are paged."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from parley.conversations.models import Conversation, Message
from parley.core import actions as core_actions
from parley.core.models import DeadLetter
from parley.customers.models import Customer
from parley.intelligence import actions, importer, tasks, training
from parley.intelligence.models import DatasetImport, ModelVersion, TrainingJob
from parley.testing import factories

FIXTURES = Path(__file__).parent / "fixtures"
FINAL = ("done", "failed", "cancelled")


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _post_import(client: Any, fixture: str, format: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/dataset-imports/",
        {"file": _upload(fixture, (FIXTURES / fixture).read_bytes()), "format": format},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    body: dict[str, Any] = response.json()
    return body


def _wait(client: Any, url: str, until: Any, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if until(body):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{url} never got there: {body}")


def _stopped(body: dict[str, Any]) -> bool:
    """Finished for good: done / failed, or cancelled and cleaned up by the worker."""
    return body["status"] in FINAL and body["finished_at"] is not None


def _imported_by_worker(client: Any, fixture: str, format: str) -> DatasetImport:
    body = _wait(client, f"/api/v1/dataset-imports/{_post_import(client, fixture, format)['id']}/", _stopped)
    assert body["status"] == "done", body
    return DatasetImport.objects.get(pk=body["id"])


def _imported_now(tenant: Any, fixture: str, format: str) -> DatasetImport:
    """An uploaded import, run in the foreground (no worker needed)."""
    record = actions.queue_dataset_import(
        tenant=tenant, format=format, upload=_upload(fixture, (FIXTURES / fixture).read_bytes()), actor="test"
    )
    assert actions.run_dataset_import(record.pk) == "done"
    record.refresh_from_db()
    return record


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """One retry (a couple of seconds of backoff) instead of five."""
    monkeypatch.setattr(tasks.run_dataset_import, "max_retries", 1)
    monkeypatch.setattr(tasks.run_training, "max_retries", 1)


@pytest.mark.django_db(transaction=True)
def test_an_import_that_keeps_failing_ends_failed_with_the_reason_and_keeps_nothing(
    celery_worker_thread: Any, quick_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = factories.make_tenant("jobs-import-dies")
    client = factories.api_client(tenant, "analyst")
    original = importer._import_chunk
    calls: list[int] = []

    def second_chunk_breaks(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(args[3]) == 1 and args[3][0].id == "c2":
            raise RuntimeError("the disk is full")
        return original(*args, **kwargs)

    monkeypatch.setattr(importer, "CHUNK", 1)
    monkeypatch.setattr(importer, "_import_chunk", second_chunk_breaks)
    queued = _post_import(client, "synthetic_support.csv", "synthetic")

    body = _wait(client, f"/api/v1/dataset-imports/{queued['id']}/", _stopped)
    assert body["status"] == "failed", body
    assert "RuntimeError: the disk is full" in body["error"] and "after 2 attempts" in body["error"]
    assert len(calls) == 4  # two attempts, each through both chunks
    # the first chunk was in; a failed import keeps nothing half-imported
    assert not Conversation.objects.filter(tenant=tenant).exists()
    assert not Customer.objects.filter(tenant=tenant).exists()
    assert (body["conversations_created"], body["messages_created"]) == (0, 0)
    letter = DeadLetter.objects.get(task_name="parley.intelligence.run_dataset_import", args=[queued["id"]])
    assert letter.attempts == 2

    # the disk has room again: replaying the dead letter runs the import again, from its uploaded file
    monkeypatch.setattr(importer, "_import_chunk", original)
    core_actions.replay_dead_letter(letter)
    body = _wait(client, f"/api/v1/dataset-imports/{queued['id']}/", _stopped)
    assert body["status"] == "done" and not body["error"], body
    assert body["conversations_created"] == Conversation.objects.filter(tenant=tenant).count() > 0
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYED


@pytest.mark.django_db(transaction=True)
def test_a_retry_resumes_the_import_without_duplicates_or_double_counting(
    celery_worker_thread: Any, quick_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = factories.make_tenant("jobs-import-retry")
    client = factories.api_client(tenant, "analyst")
    original = importer._import_chunk
    failures: list[str] = []

    notes: list[str] = []

    def fails_once_on_the_second_chunk(*args: Any, **kwargs: Any) -> Any:
        if args[3][0].id == "c2" and not failures:
            failures.append("c2")
            raise ConnectionError("the database went away")
        if args[3][0].id == "c1" and failures:  # the retry: the failed attempt is noted on the row meanwhile
            notes.append(DatasetImport.objects.get(pk=queued["id"]).error)
        return original(*args, **kwargs)

    monkeypatch.setattr(importer, "CHUNK", 1)
    monkeypatch.setattr(importer, "_import_chunk", fails_once_on_the_second_chunk)
    queued = _post_import(client, "synthetic_support.csv", "synthetic")

    body = _wait(client, f"/api/v1/dataset-imports/{queued['id']}/", _stopped)
    assert failures == ["c2"]
    assert notes == ["Attempt 1 failed (ConnectionError: the database went away); retrying…"]
    assert body["status"] == "done" and body["error"] == "", body  # the note is gone once it is done
    assert (body["conversations_created"], body["conversations_skipped"], body["messages_created"]) == (2, 0, 6)
    assert Conversation.objects.filter(tenant=tenant, source="synthetic").count() == 2
    assert Message.objects.filter(tenant=tenant).count() == 6
    assert Customer.objects.filter(tenant=tenant).count() == 2
    assert not DeadLetter.objects.filter(args=[queued["id"]]).exists()


@pytest.mark.django_db(transaction=True)
def test_a_training_error_that_a_retry_cannot_fix_fails_the_job_at_once(
    celery_worker_thread: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = factories.make_tenant("jobs-train-bug")
    client = factories.api_client(tenant, "analyst")
    record = _imported_by_worker(client, "intents_mini.csv", "banking77")
    runs: list[str] = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        runs.append("train")
        raise KeyError("label_index")

    monkeypatch.setattr(training, "train_intent", broken)
    response = client.post("/api/v1/training-jobs/", {"kind": "intent", "dataset_import": str(record.pk)}, format="json")
    assert response.status_code == 202, response.content

    job = _wait(client, f"/api/v1/training-jobs/{response.json()['id']}/", _stopped, timeout=30)
    assert job["status"] == "failed", job
    assert job["error"].startswith("Training stopped on an unexpected error after 1 attempt (KeyError")
    assert runs == ["train"]  # not retried
    assert DeadLetter.objects.get(task_name="parley.intelligence.run_training").attempts == 1
    assert not ModelVersion.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db(transaction=True)
def test_cancel_a_running_import_stops_it_and_removes_the_partial_rows(
    celery_worker_thread: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = factories.make_tenant("jobs-import-cancel")
    client = factories.api_client(tenant, "analyst")
    original = actions.note_import_progress
    first_in, proceed = threading.Event(), threading.Event()

    def pause_after_the_first_chunk(*, import_id: Any, done: int, total: int) -> None:
        original(import_id=import_id, done=done, total=total)
        if done == 1:
            first_in.set()
            proceed.wait(30)

    monkeypatch.setattr(importer, "CHUNK", 1)
    monkeypatch.setattr(actions, "note_import_progress", pause_after_the_first_chunk)
    queued = _post_import(client, "synthetic_support.csv", "synthetic")
    assert first_in.wait(60), "the worker never imported the first chunk"
    try:
        running = client.get(f"/api/v1/dataset-imports/{queued['id']}/").json()
        assert running["status"] == "running" and running["conversations_created"] == 1
        assert Conversation.objects.filter(tenant=tenant).count() == 1  # half imported, for now
        cancelled = client.post(f"/api/v1/dataset-imports/{queued['id']}/cancel/")
        assert cancelled.status_code == 200, cancelled.content
        assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finished_at"] is None
    finally:
        proceed.set()
    body = _wait(client, f"/api/v1/dataset-imports/{queued['id']}/", _stopped)
    assert body["status"] == "cancelled" and body["error"].startswith("Cancelled by")
    assert not Conversation.objects.filter(tenant=tenant).exists()
    assert not Message.objects.filter(tenant=tenant).exists()
    assert not Customer.objects.filter(tenant=tenant).exists()
    assert body["conversations_created"] == 0
    again = client.post(f"/api/v1/dataset-imports/{queued['id']}/cancel/")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_cancel_a_running_training_job_registers_no_version(celery_worker_thread: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = factories.make_tenant("jobs-train-cancel")
    client = factories.api_client(tenant, "analyst")
    record = _imported_by_worker(client, "intents_mini.csv", "banking77")
    original = training._embed
    embedding, proceed = threading.Event(), threading.Event()

    def slow_embed(*args: Any, **kwargs: Any) -> Any:
        embedding.set()
        proceed.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "_embed", slow_embed)
    response = client.post("/api/v1/training-jobs/", {"kind": "intent", "dataset_import": str(record.pk)}, format="json")
    assert embedding.wait(60), "training never started"
    try:
        cancelled = client.post(f"/api/v1/training-jobs/{response.json()['id']}/cancel/")
        assert cancelled.status_code == 200, cancelled.content
        assert cancelled.json()["status"] == "cancelled"
    finally:
        proceed.set()
    job = _wait(client, f"/api/v1/training-jobs/{response.json()['id']}/", _stopped)
    assert job["status"] == "cancelled" and job["model_version"] is None
    assert not ModelVersion.objects.filter(tenant=tenant).exists()
    assert client.post(f"/api/v1/training-jobs/{job['id']}/cancel/").status_code == 409


@pytest.mark.django_db
def test_cancel_a_queued_job_and_refuse_finished_ones(tenant: Any) -> None:
    client = factories.api_client(tenant, "analyst")
    queued = actions.queue_dataset_import(
        tenant=tenant, format="synthetic", upload=_upload("s.csv", (FIXTURES / "synthetic_support.csv").read_bytes()), actor="t"
    )
    assert factories.api_client(tenant, "agent").post(f"/api/v1/dataset-imports/{queued.pk}/cancel/").status_code == 403
    other = factories.api_client(factories.make_tenant("jobs-outsider"), "analyst")
    assert other.post(f"/api/v1/dataset-imports/{queued.pk}/cancel/").status_code == 404

    response = client.post(f"/api/v1/dataset-imports/{queued.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["finished_at"] is not None
    # the worker picks the queued task up later and does nothing
    assert actions.run_dataset_import(queued.pk) == "cancelled"
    assert not Conversation.objects.filter(tenant=tenant).exists()

    done = _imported_now(tenant, "intents_mini.csv", "banking77")
    refused = client.post(f"/api/v1/dataset-imports/{done.pk}/cancel/")
    assert refused.status_code == 409 and refused.json()["code"] == "conflict"
    assert "already done" in refused.json()["detail"]

    job = actions.queue_training(tenant=tenant, kind="intent", dataset_import=done, actor="t")
    assert client.post(f"/api/v1/training-jobs/{job.pk}/cancel/").json()["status"] == "cancelled"
    assert actions.run_training_job(job.pk) == "cancelled"
    assert not ModelVersion.objects.filter(tenant=tenant).exists()
    assert client.post(f"/api/v1/training-jobs/{job.pk}/cancel/").status_code == 409


@pytest.mark.django_db
def test_replaying_a_failed_training_job_queues_it_again_and_leaves_other_jobs_alone(tenant: Any) -> None:
    done = _imported_now(tenant, "intents_mini.csv", "banking77")
    job = actions.queue_training(tenant=tenant, kind="intent", dataset_import=done, actor="t")
    actions.fail_job_for_good(kind="training", job_id=job.pk, exc=OSError("worker disk full"), attempts=6)
    job.refresh_from_db()
    assert job.status == "failed" and "worker disk full" in job.error and job.finished_at is not None

    tasks.run_training.before_replay([str(job.pk)], {})  # what replaying its dead letter does first
    job.refresh_from_db()
    assert (job.status, job.error, job.finished_at) == ("queued", "", None)
    assert actions.run_training_job(job.pk) == "done"
    assert ModelVersion.objects.filter(tenant=tenant).count() == 1
    # a finished (or cancelled) job is not touched: a replayed task then finds nothing to do
    assert not actions.requeue_failed_job(kind="training", job_id=job.pk)
    assert not actions.requeue_failed_job(kind="dataset_import", job_id=done.pk)
    job.refresh_from_db()
    assert job.status == "done"


@pytest.mark.django_db
def test_training_on_an_unlabelled_or_single_label_import_is_refused_with_the_reason(tenant: Any) -> None:
    client = factories.api_client(tenant, "analyst")
    unlabelled = _imported_now(tenant, "twcs_mini.csv", "twcs")
    assert unlabelled.quality["labels"]["count"] == 0
    response = client.post("/api/v1/training-jobs/", {"kind": "intent", "dataset_import": str(unlabelled.pk)}, format="json")
    assert response.status_code == 400, response.content
    assert "no labels" in response.json()["detail"]
    sentiment = client.post("/api/v1/training-jobs/", {"kind": "sentiment", "dataset_import": str(unlabelled.pk)}, format="json")
    assert sentiment.status_code == 400 and "no sentiment labels" in sentiment.json()["detail"]

    single = actions.queue_dataset_import(
        tenant=tenant,
        format="banking77",
        upload=_upload("one.csv", b"text,category\nlost my card,card\nnew card,card\n"),
        actor="t",
    )
    actions.run_dataset_import(single.pk)
    response = client.post("/api/v1/training-jobs/", {"kind": "intent", "dataset_import": str(single.pk)}, format="json")
    assert response.status_code == 400 and "single label ('card')" in response.json()["detail"]
    assert not TrainingJob.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db
def test_training_that_only_the_worker_finds_unlabelled_fails_with_the_reason(tenant: Any) -> None:
    """An import without a stored label count (older rows): queued, then ``failed`` with the reason."""
    record = _imported_now(tenant, "twcs_mini.csv", "twcs")
    DatasetImport.objects.filter(pk=record.pk).update(quality={})
    record.refresh_from_db()
    job = actions.queue_training(tenant=tenant, kind="intent", dataset_import=record, actor="t")
    assert actions.run_training_job(job.pk) == "failed"
    job.refresh_from_db()
    assert "at least two labels" in job.error and job.finished_at is not None


@pytest.mark.django_db
def test_import_and_training_lists_are_paged_and_jobs_filter_by_import(tenant: Any) -> None:
    client = factories.api_client(tenant, "analyst")
    records = [DatasetImport.objects.create(tenant=tenant, format="synthetic", path=f"f{i}.csv") for i in range(3)]
    first = client.get("/api/v1/dataset-imports/?page_size=2").json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert seen == [str(r.pk) for r in reversed(records)]  # newest first, nothing twice

    jobs = [TrainingJob.objects.create(tenant=tenant, kind="intent", dataset_import=records[i % 2]) for i in range(3)]
    listed = client.get("/api/v1/training-jobs/?page_size=1").json()
    assert listed["count"] == 3 and len(listed["results"]) == 1 and listed["next"]
    mine = client.get(f"/api/v1/training-jobs/?dataset_import={records[0].pk}").json()
    assert {row["id"] for row in mine["results"]} == {str(jobs[0].pk), str(jobs[2].pk)}
    bad = client.get("/api/v1/training-jobs/?dataset_import=nope")
    assert bad.status_code == 400 and "dataset_import" in bad.json()["detail"]


@pytest.mark.django_db
def test_the_sweep_fails_jobs_whose_worker_vanished_or_that_nobody_picked_up(tenant: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from parley.config.celery import app

    long_ago = timezone.now() - timedelta(hours=7)
    stalled = DatasetImport.objects.create(tenant=tenant, format="synthetic", path="s.csv", status="running")
    fresh = DatasetImport.objects.create(tenant=tenant, format="synthetic", path="f.csv", status="running")
    finished = DatasetImport.objects.create(tenant=tenant, format="synthetic", path="d.csv", status="done")
    unclaimed = TrainingJob.objects.create(tenant=tenant, kind="intent", dataset_import=finished, status="queued")
    DatasetImport.objects.filter(pk__in=[stalled.pk, finished.pk]).update(updated_at=long_ago)
    TrainingJob.objects.filter(pk=unclaimed.pk).update(updated_at=long_ago)

    assert actions.expire_stalled_jobs() == {"stalled": 1, "unclaimed": 1}
    stalled.refresh_from_db()
    unclaimed.refresh_from_db()
    assert stalled.status == "failed" and "stopped answering" in stalled.error and stalled.finished_at
    assert unclaimed.status == "failed" and "No worker picked the job up" in unclaimed.error
    assert DatasetImport.objects.get(pk=fresh.pk).status == "running"
    assert DatasetImport.objects.get(pk=finished.pk).status == "done"
    assert actions.expire_stalled_jobs() == {"stalled": 0, "unclaimed": 0}
    assert app.conf.beat_schedule["intelligence-expire-stalled-jobs"]["task"] == "parley.intelligence.expire_stalled_jobs"
