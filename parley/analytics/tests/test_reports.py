"""PDF report jobs: asked for over the API, rendered by a real worker, downloaded when done; failures end
``failed`` with the reason; bad filters, roles and other tenants are refused."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from parley.analytics import actions
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.models import ReportJob, ReportStatus
from parley.analytics.rollups import rebuild_rollups
from parley.analytics.tests.helpers import analysis, build
from parley.audit.models import AuditEvent
from parley.core.models import DeadLetter
from parley.realtime.events import inbox_group
from parley.testing import factories

START = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
REPORTS = "/api/v1/analytics/reports/"


def _history(tenant: Any) -> None:
    channel = factories.make_channel(tenant)
    conversation = build(
        channel,
        [("customer", "Where is my order?", analysis("order_status"), 0), ("assistant", "It ships tomorrow.", None, 1)],
        start=START,
        resolved_at_min=5,
    )
    actions.refresh_facts([str(conversation.id)])
    rebuild_rollups(tenant.id, START.date(), START.date())


def _wait_finished(client: Any, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(f"{REPORTS}{job_id}/").json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"report {job_id} did not finish: {body}")


def _listen(group: str) -> tuple[Any, str]:
    layer = get_channel_layer()
    assert layer is not None
    channel = asyncio.run(layer.new_channel())
    asyncio.run(layer.group_add(group, channel))
    return layer, channel


def _next_event(layer: Any, channel: str, event_type: str, timeout: float = 10.0) -> dict[str, Any]:
    async def receive() -> dict[str, Any]:
        while True:
            frame = await layer.receive(channel)
            if frame.get("event", {}).get("type") == event_type:
                return dict(frame["event"])

    return asyncio.run(asyncio.wait_for(receive(), timeout))


@pytest.mark.django_db(transaction=True)
def test_a_worker_renders_the_report_and_it_downloads_as_a_pdf(celery_worker_thread: Any) -> None:
    tenant = factories.make_tenant("reports-render", "Reports Inc")
    _history(tenant)
    analyst = factories.api_client(tenant, "analyst")
    layer, channel = _listen(inbox_group(tenant.id))

    response = analyst.post(REPORTS, {"start": "2026-10-01", "end": "2026-10-31", "channel_type": "webchat"}, format="json")
    assert response.status_code == 202, response.content
    queued = response.json()
    assert queued["status"] in ("queued", "running", "done")
    assert queued["filters"] == {"start": "2026-10-01", "end": "2026-10-31", "channel_type": "webchat"}
    assert queued["requested_by_label"].startswith("api-key:")

    body = _wait_finished(analyst, queued["id"])
    assert body["status"] == "done", body
    assert body["progress"] == 100 and body["attempts"] == 1 and body["error"] == ""
    assert body["download_url"] == f"{REPORTS}{queued['id']}/file/"
    assert body["started_at"] and body["finished_at"] and body["finished_at"] >= body["started_at"]

    event = _next_event(layer, channel, "analytics.report.finished")
    assert event["report"]["id"] == queued["id"] and event["report"]["status"] == "done"

    download = analyst.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert 'filename="parley-report-2026-10-01-2026-10-31.pdf"' in download["Content-Disposition"]
    content = b"".join(download.streaming_content)
    assert content.startswith(b"%PDF")
    assert len(content) == body["size_bytes"]
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 4
    assert "Parley support report — Reports Inc" in reader.pages[0].extract_text()
    assert reader.metadata is not None and "2026-10-01" in str(reader.metadata.title)

    job = ReportJob.objects.get(pk=queued["id"])
    assert job.file.name.startswith(f"analytics-reports/{tenant.id}/{job.id}/")
    assert Path(settings.MEDIA_ROOT, job.file.name).is_file()
    assert AuditEvent.objects.filter(action="analytics_report.requested", target_id=str(job.id)).exists()

    second = analyst.post(REPORTS, {}, format="json").json()
    assert second["filters"] == {}
    listed = analyst.get(REPORTS).json()
    assert [row["id"] for row in listed["results"]] == [second["id"], queued["id"]]
    assert listed["count"] == 2
    _wait_finished(analyst, second["id"])


@pytest.mark.django_db(transaction=True)
def test_a_report_that_cannot_render_ends_failed_with_the_reason(
    celery_worker_thread: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.analytics import exports

    tenant = factories.make_tenant("reports-broken")
    analyst = factories.api_client(tenant, "analyst")
    attempts: list[str] = []

    def broken(tenant: Any, flt: AnalyticsFilter, on_progress: Any = None) -> bytes:
        attempts.append(str(flt.start))
        if on_progress is not None:
            on_progress(40, "drawing trends")
        raise RuntimeError("the chart library ran out of fonts")

    monkeypatch.setattr(exports, "build_pdf_report", broken)
    queued = analyst.post(REPORTS, {"start": "2026-10-01"}, format="json").json()

    body = _wait_finished(analyst, queued["id"])
    assert body["status"] == "failed"
    assert body["error"] == "rendering failed after 3 attempts: RuntimeError: the chart library ran out of fonts"
    assert body["attempts"] == 3 and attempts == ["2026-10-01"] * 3
    assert body["download_url"] is None and body["finished_at"]

    download = analyst.get(f"{REPORTS}{queued['id']}/file/")
    assert download.status_code == 409
    assert download.json()["code"] == "conflict"
    assert "the report failed" in download.json()["detail"] and "ran out of fonts" in download.json()["detail"]

    dead = DeadLetter.objects.get(task_name="parley.analytics.render_report")
    assert dead.args == [queued["id"]] and "ran out of fonts" in dead.error


@pytest.mark.django_db
def test_the_file_is_a_409_with_the_reason_until_the_report_is_done(tenant: Any) -> None:
    analyst = factories.api_client(tenant, "analyst")
    queued = analyst.post(REPORTS, {"end": "2026-10-31"}, format="json")
    assert queued.status_code == 202
    job_id = queued.json()["id"]
    response = analyst.get(f"{REPORTS}{job_id}/file/")
    assert response.status_code == 409
    assert response.json()["detail"] == "the report is not ready yet (queued); download it when its status is done"

    ReportJob.objects.filter(pk=job_id).update(status=ReportStatus.RUNNING)
    actions.note_report_progress(job_id, 45, "drawing trends")
    status = analyst.get(f"{REPORTS}{job_id}/").json()
    assert (status["status"], status["progress"], status["stage"]) == ("running", 45, "drawing trends")
    response = analyst.get(f"{REPORTS}{job_id}/file/")
    assert response.status_code == 409 and "rendering, 45%" in response.json()["detail"]


@pytest.mark.django_db
def test_bad_filters_roles_and_other_tenants_are_refused(tenant: Any, other_tenant: Any) -> None:
    analyst = factories.api_client(tenant, "analyst")
    response = analyst.post(REPORTS, {"start": "2026-10-31", "end": "2026-10-01"}, format="json")
    assert response.status_code == 400 and response.json()["errors"]["end"] == ["end is before start"]
    response = analyst.post(REPORTS, {"start": "last week", "colour": "red"}, format="json")
    assert response.status_code == 400 and {"start", "colour"} <= set(response.json()["errors"])
    assert analyst.post(REPORTS, {"channel": "not-a-uuid"}, format="json").status_code == 400
    assert analyst.post(REPORTS, ["2026-10-01"], format="json").status_code == 400
    assert not ReportJob.objects.exists()

    agent = factories.api_client(tenant, "agent")
    assert agent.post(REPORTS, {}, format="json").status_code == 403
    assert agent.get(REPORTS).status_code == 403

    foreign = factories.api_client(other_tenant, "owner").post(REPORTS, {}, format="json").json()
    assert analyst.get(f"{REPORTS}{foreign['id']}/").status_code == 404
    assert analyst.get(f"{REPORTS}{foreign['id']}/file/").status_code == 404
    assert analyst.get(REPORTS).json()["count"] == 0
    # The synchronous endpoint is gone: reports are rendered by a worker.
    assert analyst.get("/api/v1/analytics/report/").status_code == 404


@pytest.mark.django_db
def test_stalled_and_unclaimed_jobs_fail_and_old_reports_expire(tenant: Any) -> None:
    now = timezone.now()
    flt = AnalyticsFilter()
    stalled = actions.request_report(tenant=tenant, flt=flt, user=None, actor="test")
    unclaimed = actions.request_report(tenant=tenant, flt=flt, user=None, actor="test")
    fresh = actions.request_report(tenant=tenant, flt=flt, user=None, actor="test")
    old = actions.request_report(tenant=tenant, flt=flt, user=None, actor="test")
    ReportJob.objects.filter(pk=stalled.pk).update(status=ReportStatus.RUNNING, updated_at=now - timedelta(minutes=20))
    ReportJob.objects.filter(pk=unclaimed.pk).update(updated_at=now - timedelta(hours=7))
    ReportJob.objects.filter(pk=old.pk).update(status=ReportStatus.DONE, created_at=now - timedelta(days=31))

    assert actions.expire_report_jobs(now=now) == {"stalled": 1, "unclaimed": 1, "deleted": 1}
    stalled.refresh_from_db()
    assert stalled.status == ReportStatus.FAILED and "no progress for 15 minutes" in stalled.error
    unclaimed.refresh_from_db()
    assert unclaimed.status == ReportStatus.FAILED and "no worker picked the report up" in unclaimed.error
    fresh.refresh_from_db()
    assert fresh.status == ReportStatus.QUEUED
    assert not ReportJob.objects.filter(pk=old.pk).exists()
    # A failed job is not failed again, and a done job stays done.
    assert actions.expire_report_jobs(now=now) == {"stalled": 0, "unclaimed": 0, "deleted": 0}


def test_filters_round_trip_through_json() -> None:
    flt = AnalyticsFilter(
        start=datetime(2026, 10, 1).date(), end=datetime(2026, 10, 31).date(), channel_type="email", business_hours=True
    )
    stored = flt.to_json()
    assert stored == {"start": "2026-10-01", "end": "2026-10-31", "channel_type": "email", "business_hours": True}
    assert AnalyticsFilter.from_json(stored) == flt
    assert AnalyticsFilter.from_json({"start": "2026-10-01", "retired_filter": "x"}) == AnalyticsFilter(
        start=datetime(2026, 10, 1).date()
    )


@pytest.mark.django_db(transaction=True)
def test_the_cli_renders_a_report_synchronously(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from parley.analytics.cli import analytics

    tenant = factories.make_tenant("reports-cli", "Reports CLI")
    _history(tenant)
    out = tmp_path / "october.pdf"
    result = CliRunner().invoke(
        analytics, ["report", "--tenant", "reports-cli", "--start", "2026-10-01", "--end", "2026-10-31", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert "2026-10-01" in str(PdfReader(out).metadata.title)  # type: ignore[union-attr]
    assert not ReportJob.objects.exists()  # scripts get the file directly, no job
    refused = CliRunner().invoke(
        analytics, ["report", "--tenant", "reports-cli", "--start", "2026-10-31", "--end", "2026-10-01", "--out", str(out)]
    )
    assert refused.exit_code != 0 and "end is before start" in refused.output


@pytest.mark.django_db
def test_reports_list_newest_first_and_by_requester(tenant: Any) -> None:
    analyst = factories.make_user(tenant, "analyst")
    colleague = factories.make_user(tenant, "supervisor")
    mine = [actions.request_report(tenant=tenant, flt=AnalyticsFilter(), user=analyst, actor=analyst.email) for _ in range(2)]
    actions.request_report(tenant=tenant, flt=AnalyticsFilter(), user=colleague, actor=colleague.email)
    client = factories.api_client(tenant, "analyst")
    listed = client.get(REPORTS, {"requested_by": str(analyst.id), "page_size": 1}).json()
    assert listed["count"] == 2 and [row["id"] for row in listed["results"]] == [str(mine[1].id)]
    assert listed["results"][0]["requested_by"] == str(analyst.id)
    assert client.get(REPORTS, {"status": "queued"}).json()["count"] == 3
    assert client.get(REPORTS, {"status": "done"}).json()["count"] == 0
    assert client.get(REPORTS, {"status": "exploded"}).status_code == 400
