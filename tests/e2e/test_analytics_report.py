"""The PDF report in a real Chromium against ``parley up``: the button queues a job, the bulk worker renders
it, the page shows its progress and then the download, which is a real PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx


def test_pdf_report_is_rendered_by_the_worker_and_downloaded(
    logged_in_page: Any, api_session: httpx.Client, artifacts_dir: Path
) -> None:
    page = logged_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    page.get_by_role("heading", name="Analytics", level=1).wait_for()
    report = page.get_by_test_id("pdf-report")
    report.get_by_role("button", name="PDF report").click()
    # The worker may still be analysing the demo data: give it time, but the job must finish.
    download_link = report.get_by_role("link", name="Download PDF")
    download_link.wait_for(timeout=180_000)
    assert not report.get_by_role("alert").count()

    jobs = api_session.get("/api/v1/analytics/reports/").json()["results"]
    job = jobs[0]
    assert job["status"] == "done" and job["progress"] == 100 and job["download_url"]
    assert download_link.get_attribute("href") == job["download_url"]
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == job["filename"]
    target = artifacts_dir / download.suggested_filename
    download.save_as(str(target))
    content = target.read_bytes()
    assert content.startswith(b"%PDF") and len(content) == job["size_bytes"]
    page.screenshot(path=str(artifacts_dir / "dashboard-analytics-report.png"), full_page=True)
