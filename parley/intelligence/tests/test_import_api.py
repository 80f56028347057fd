"""Dataset imports over HTTP: upload, a real worker imports with progress, bad files fail with a reason."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from parley.conversations.models import Conversation
from parley.intelligence.models import DatasetImport
from parley.testing import factories

FIXTURES = Path(__file__).parent / "fixtures"


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _wait_finished(client: Any, url: str, timeout: float = 180.0) -> dict[str, Any]:
    """Poll an import or training job until it is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(url).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{url} did not finish: {body}")


@pytest.mark.django_db(transaction=True)
def test_upload_is_imported_by_a_worker_with_progress(celery_worker_thread: Any) -> None:
    tenant = factories.make_tenant("imports-http")
    client = factories.api_client(tenant, "analyst")
    content = (FIXTURES / "synthetic_support.csv").read_bytes()
    response = client.post(
        "/api/v1/dataset-imports/",
        {"file": _upload("support.csv", content), "format": "synthetic", "mask_pii": "true"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    queued = response.json()
    assert queued["status"] in ("queued", "running", "done") and queued["created_by"]

    body = _wait_finished(client, f"/api/v1/dataset-imports/{queued['id']}/")
    assert body["status"] == "done", body
    assert body["progress"] == 1.0 and body["progress_done"] == body["progress_total"] == 2
    assert (body["conversations_created"], body["messages_created"]) == (2, 6)
    assert body["quality"]["schema_errors"]["count"] == 2
    assert Conversation.objects.filter(tenant=tenant, source="synthetic").count() == 2
    listed = client.get("/api/v1/dataset-imports/").json()
    assert [row["id"] for row in listed["results"]] == [queued["id"]]


@pytest.mark.django_db(transaction=True)
def test_zip_of_a_dataset_folder_and_a_broken_file(celery_worker_thread: Any) -> None:
    tenant = factories.make_tenant("imports-zip")
    client = factories.api_client(tenant, "admin")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(FIXTURES / "twcs_mini.csv", "twcs/twcs.csv")
    response = client.post(
        "/api/v1/dataset-imports/", {"file": _upload("twcs.zip", archive.getvalue()), "format": "twcs"}, format="multipart"
    )
    assert response.status_code == 202, response.content
    assert _wait_finished(client, f"/api/v1/dataset-imports/{response.json()['id']}/")["conversations_created"] > 0

    broken = client.post(
        "/api/v1/dataset-imports/",
        {"file": _upload("not-sgd.json", b"{this is not json"), "format": "sgd"},
        format="multipart",
    )
    assert broken.status_code == 202
    failed = _wait_finished(client, f"/api/v1/dataset-imports/{broken.json()['id']}/")
    assert failed["status"] == "failed" and failed["error"], failed


@pytest.mark.django_db
def test_bad_requests_are_refused_with_a_reason(tenant: Any) -> None:
    client = factories.api_client(tenant, "analyst")
    unknown = client.post(
        "/api/v1/dataset-imports/", {"file": _upload("a.csv", b"x,y\n"), "format": "nonsense"}, format="multipart"
    )
    assert unknown.status_code == 400 and "format must be one of" in unknown.content.decode()
    missing = client.post("/api/v1/dataset-imports/", {"format": "synthetic"}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["errors"]
    empty = client.post("/api/v1/dataset-imports/", {"file": _upload("e.csv", b""), "format": "synthetic"}, format="multipart")
    assert empty.status_code == 400
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zipped:
        zipped.writestr("../../escape.csv", "conversation_id,turn,speaker,text\n")
    agent = factories.api_client(tenant, "agent")
    forbidden = agent.post(
        "/api/v1/dataset-imports/", {"file": _upload("e.zip", evil.getvalue()), "format": "synthetic"}, format="multipart"
    )
    assert forbidden.status_code == 403
    assert not DatasetImport.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db
def test_an_archive_that_escapes_its_folder_fails_the_import(tenant: Any) -> None:
    from parley.intelligence.actions import queue_dataset_import, run_dataset_import

    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zipped:
        zipped.writestr("../../escape.csv", "conversation_id,turn,speaker,text\n")
    record = queue_dataset_import(tenant=tenant, format="synthetic", upload=_upload("e.zip", evil.getvalue()), actor="test")
    assert run_dataset_import(record.pk) == "failed"
    record.refresh_from_db()
    assert "unsafe path" in record.error
    assert not (Path(record.upload.path).parent.parent / "escape.csv").exists()


@pytest.mark.django_db(transaction=True)
def test_train_an_intent_model_on_an_uploaded_dataset(celery_worker_thread: Any) -> None:
    tenant = factories.make_tenant("training-http")
    other = factories.make_tenant("training-other")
    client = factories.api_client(tenant, "analyst")
    upload = client.post(
        "/api/v1/dataset-imports/",
        {"file": _upload("intents.csv", (FIXTURES / "intents_mini.csv").read_bytes()), "format": "banking77"},
        format="multipart",
    )
    imported = _wait_finished(client, f"/api/v1/dataset-imports/{upload.json()['id']}/")
    assert imported["status"] == "done", imported

    response = client.post("/api/v1/training-jobs/", {"kind": "intent", "dataset_import": imported["id"]}, format="json")
    assert response.status_code == 202, response.content
    job = _wait_finished(client, f"/api/v1/training-jobs/{response.json()['id']}/")
    assert job["status"] == "done", job
    assert job["summary"]["labels"] >= 2 and "out" not in job["summary"]
    version = client.get(f"/api/v1/models/{job['model_version']}/").json()
    assert version["kind"] == "intent" and version["shared"] is False and version["promoted"] is False
    assert factories.api_client(other, "analyst").get(f"/api/v1/models/{job['model_version']}/").status_code == 404

    outsider = factories.api_client(other, "analyst").post(
        "/api/v1/training-jobs/", {"kind": "intent", "dataset_import": imported["id"]}, format="json"
    )
    assert outsider.status_code == 404
    bad_kind = client.post("/api/v1/training-jobs/", {"kind": "topics", "dataset_import": imported["id"]}, format="json")
    assert bad_kind.status_code == 400


@pytest.mark.django_db
def test_an_infected_dataset_file_is_refused_and_nothing_is_stored(tenant: Any, settings: Any) -> None:
    from parley.testing.fake_clamd import EICAR, EICAR_SIGNATURE, FakeClamd

    client = factories.api_client(tenant, "analyst")
    with FakeClamd() as clamd:
        settings.CLAMD_ADDRESS = clamd.address
        settings.CLAMD_FAIL_OPEN = False
        csv = b"conversation_id,turn,speaker,text\nc1,1,customer,hello\n"
        infected = client.post(
            "/api/v1/dataset-imports/", {"file": _upload("d.csv", csv + EICAR), "format": "synthetic"}, format="multipart"
        )
        assert infected.status_code == 422 and EICAR_SIGNATURE in infected.json()["detail"]
        assert not DatasetImport.objects.filter(tenant=tenant).exists()
        clean = client.post(
            "/api/v1/dataset-imports/", {"file": _upload("d.csv", csv), "format": "synthetic"}, format="multipart"
        )
        assert clean.status_code == 202, clean.content
        assert [scan.content for scan in clamd.scans] == [csv + EICAR, csv]
        assert DatasetImport.objects.get(tenant=tenant).upload.read() == csv
