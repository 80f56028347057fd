"""/healthz against the real database, Redis and a real Celery worker; dead letters and replay."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from parley.config.celery import ParleyTask, app
from parley.core.models import DeadLetter

ATTEMPTS: dict[str, int] = {}


@app.task(
    bind=True,
    base=ParleyTask,
    name="parley.tests.always_fails",
    max_retries=2,
    retry_backoff=False,
    default_retry_delay=0,
    retry_jitter=False,
)
def always_fails(self: ParleyTask, key: str) -> None:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    raise ConnectionError(f"provider down ({key})")


@app.task(name="parley.tests.records", queue="default")
def records(key: str) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    return key


def _wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_healthz_is_ok_with_a_running_worker(celery_worker_thread: Any) -> None:
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_naming_the_worker_when_none_runs(settings: Any) -> None:
    settings.CELERY_HEALTH_TIMEOUT = 0.3
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ok"
    assert body["checks"]["worker"] != "ok"


def test_exhausted_task_is_dead_lettered_and_can_be_replayed(celery_worker_thread: Any) -> None:
    always_fails.apply_async(args=["k1"], queue="default")
    _wait_for(lambda: DeadLetter.objects.filter(task_name="parley.tests.always_fails").exists())
    letter = DeadLetter.objects.get(task_name="parley.tests.always_fails")
    assert ATTEMPTS["k1"] == 3  # the first run and two retries
    assert "provider down (k1)" in letter.error
    assert letter.args == ["k1"]
    assert letter.status == DeadLetter.Status.PENDING

    output = io.StringIO()
    call_command("replay_dead_letters", stdout=output)
    assert "1 dead letter(s) replayed" in output.getvalue()
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYED
    _wait_for(lambda: ATTEMPTS["k1"] == 6)  # replayed: three more attempts


def test_dead_letters_are_listed_and_replayed_through_the_api(celery_worker_thread: Any) -> None:
    from parley.testing import factories

    tenant = factories.make_tenant()
    letter = DeadLetter.objects.create(
        tenant=tenant, task_name="parley.tests.records", args=["api-replay"], queue="default", error="x"
    )
    client = factories.api_client(tenant, "supervisor")
    listed = client.get("/api/v1/dead-letters/").json()
    assert [row["id"] for row in listed["results"]] == [str(letter.id)]
    assert client.post(f"/api/v1/dead-letters/{letter.id}/replay/").status_code == 202
    _wait_for(lambda: ATTEMPTS.get("api-replay") == 1)
    assert client.post(f"/api/v1/dead-letters/{letter.id}/replay/").status_code == 409


@pytest.mark.django_db
def test_metrics_endpoint_exposes_request_latency(api: Any) -> None:
    api.get("/api/v1/customers/")
    text = Client().get("/metrics").content.decode()
    assert "parley_http_request_duration_seconds" in text
    assert "parley_queue_depth" in text
