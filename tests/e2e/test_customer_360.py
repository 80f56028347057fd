"""Customer 360, business hours and the models page in a real Chromium against ``parley up``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.test_dashboard_app import axe_violations, send_webchat_message, start_webchat_visitor


def test_notes_and_merging_a_duplicate_customer(
    logged_in_page: Any, api_session: httpx.Client, parley_server: Any, artifacts_dir: Path
) -> None:
    page = logged_in_page
    tag = uuid.uuid4().hex[:6]
    kept = api_session.post("/api/v1/customers/", json={"name": f"Ada Kept {tag}", "email": f"ada-{tag}@example.com"}).json()
    token = start_webchat_visitor(parley_server.url, f"Ada Duplicate {tag}")
    sent = send_webchat_message(parley_server.url, token, f"hello from the duplicate {tag}")
    duplicate = api_session.get("/api/v1/customers/", params={"q": f"Ada Duplicate {tag}"}).json()["results"][0]

    page.goto(f"/app/customers/{kept['id']}")
    page.get_by_role("heading", name=kept["name"], level=1).wait_for()
    note = f"Prefers e-mail, call after 5 pm ({tag})"
    page.get_by_label("New note").fill(note)
    page.get_by_role("button", name="Add note").click()
    page.get_by_test_id("customer-notes").get_by_text(note).wait_for()
    page.reload()
    page.get_by_test_id("customer-notes").get_by_text(note).wait_for()  # stored, not only shown

    page.get_by_label("Find the duplicate").fill(f"Duplicate {tag}")
    candidates = page.get_by_role("list", name="Possible duplicates")
    candidates.get_by_text(f"Ada Duplicate {tag}").wait_for()
    candidates.get_by_role("button", name="Merge…").click()
    dialog = page.get_by_role("alertdialog", name="Merge customers?")
    assert f"Merge Ada Duplicate {tag} into Ada Kept {tag}?" in dialog.inner_text()
    page.screenshot(path=str(artifacts_dir / "dashboard-customer-merge-confirm.png"), full_page=True)
    violations = axe_violations(page)
    assert not violations, json.dumps(violations, indent=1)
    dialog.get_by_role("button", name="Merge", exact=True).click()
    page.get_by_role("status").filter(has_text="Merged").wait_for()
    assert "1 conversation" in page.get_by_role("status").filter(has_text="Merged").inner_text()
    page.get_by_test_id("identities").get_by_text(f"Ada Duplicate {tag}").wait_for()  # its identity moved here
    page.screenshot(path=str(artifacts_dir / "dashboard-customer-merged.png"), full_page=True)

    conversation = api_session.get(f"/api/v1/conversations/{sent['message']['conversation_id']}/").json()
    assert conversation["customer"]["id"] == kept["id"]
    listed = {c["id"] for c in api_session.get("/api/v1/customers/", params={"q": tag}).json()["results"]}
    assert kept["id"] in listed and duplicate["id"] not in listed
    events = api_session.get("/api/v1/audit-events/", params={"action": "customer.merged"}).json()["results"]
    assert any(e["target_id"] == kept["id"] and e["data"]["duplicate"] == duplicate["id"] for e in events)


def test_business_hours_form_saves_what_the_api_returns(
    logged_in_page: Any, api_session: httpx.Client, artifacts_dir: Path
) -> None:
    page = logged_in_page
    page.goto("/app/settings/hours")
    form = page.get_by_role("form", name="Business hours")
    form.get_by_label("Time zone").fill("Europe/Berlin")
    form.get_by_label("Monday opening hours").fill("9:00-12:00, 13:00-17:00")
    form.get_by_label("Saturday opening hours").fill("10:00-14:00")
    form.get_by_label("Tuesday opening hours").fill("nine to five")
    form.get_by_role("button", name="Save business hours").click()
    assert "Tuesday" in form.get_by_role("alert").inner_text()  # checked before anything is sent
    form.get_by_label("Tuesday opening hours").fill("")
    form.get_by_role("button", name="Save business hours").click()
    form.get_by_role("status").filter(has_text="Business hours saved.").wait_for()
    try:
        stored = api_session.get("/api/v1/business-hours/").json()
        assert stored["configured"] is True and stored["timezone"] == "Europe/Berlin"
        assert stored["hours"] == {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "sat": [["10:00", "14:00"]]}
        page.reload()
        assert form.get_by_label("Monday opening hours").input_value() == "09:00-12:00, 13:00-17:00"
        page.screenshot(path=str(artifacts_dir / "dashboard-settings-hours.png"), full_page=True)
        violations = axe_violations(page)
        assert not violations, json.dumps(violations, indent=1)
    finally:
        page.get_by_role("button", name="Always open").click()
        form.get_by_role("status").filter(has_text="always open").wait_for()
    assert api_session.get("/api/v1/business-hours/").json()["configured"] is False
