"""The dashboard in a real Chromium against ``parley up``: login, live inbox, replies, analytics export,
and every main page rendered, screenshotted and checked with axe-core."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import REPO_DIR, login

AXE_JS = REPO_DIR / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def start_webchat_visitor(base_url: str, name: str) -> str:
    """A new web-chat visitor through the documented REST fallback; returns its visitor token."""
    response = httpx.post(f"{base_url}/api/v1/webchat/demo-widget/session/", json={"name": name}, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["visitor_token"])


def send_webchat_message(base_url: str, token: str, text: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base_url}/api/v1/webchat/demo-widget/messages/",
        json={"client_id": uuid.uuid4().hex, "text": text},
        headers={"X-Parley-Visitor-Token": token},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the current page."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def test_login_rejects_a_wrong_password(page: Any) -> None:
    page.goto("/app/inbox")
    page.get_by_label("Email").wait_for()  # redirected to the login form
    assert page.url.endswith("/app/login")
    page.get_by_label("Email").fill("demo@parley.local")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert "Wrong e-mail or password" in page.get_by_role("alert").inner_text()


def test_inbox_receives_a_live_message_without_reload(logged_in_page: Any, parley_server: Any, artifacts_dir: Path) -> None:
    page = logged_in_page
    rows = page.get_by_test_id("conversation-row")
    rows.first.wait_for()
    assert rows.count() >= 3  # the demo conversations
    page.get_by_test_id("socket-state").get_by_text("Live").wait_for()
    page.evaluate("() => { window.__noReload = 'still here'; }")

    token = start_webchat_visitor(parley_server.url, "Live Tester")
    marker = f"live message {uuid.uuid4().hex[:8]}"
    send_webchat_message(parley_server.url, token, marker)

    page.get_by_test_id("conversation-list").get_by_text(marker).wait_for(timeout=10_000)
    assert page.evaluate("() => window.__noReload") == "still here"
    # the row's preview soon shows the assistant's answer instead: open it by the visitor's name
    rows.filter(has_text="Live Tester").first.click()
    page.get_by_test_id("messages").get_by_text(marker, exact=True).wait_for()

    second = f"second message {uuid.uuid4().hex[:8]}"
    send_webchat_message(parley_server.url, token, second)
    page.get_by_test_id("messages").get_by_text(second, exact=True).wait_for(timeout=10_000)
    assert page.evaluate("() => window.__noReload") == "still here"
    page.screenshot(path=str(artifacts_dir / "dashboard-live-conversation.png"), full_page=True)


def test_keyboard_reply_private_note_and_resolve(logged_in_page: Any, api_session: httpx.Client) -> None:
    page = logged_in_page
    page.get_by_test_id("conversation-row").first.wait_for()
    page.keyboard.press("j")
    page.wait_for_url("**/app/inbox/*")
    conversation_id = page.url.rstrip("/").split("/")[-1]
    page.locator("#composer").wait_for()

    page.keyboard.press("r")
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "composer"
    reply = f"agent reply {uuid.uuid4().hex[:8]}"
    page.keyboard.type(reply)
    page.keyboard.press("Control+Enter")
    page.get_by_test_id("messages").get_by_text(reply, exact=True).wait_for()

    page.locator("#composer").blur()
    page.keyboard.press("n")
    note = f"private note {uuid.uuid4().hex[:8]}"
    page.keyboard.type(note)
    page.get_by_role("button", name="Add note").click()
    page.get_by_test_id("messages").get_by_text(note, exact=True).wait_for()
    # Each send empties the composer at once: the note never carries the reply's text along.
    assert page.locator("#composer").input_value() == ""

    stored = api_session.get(f"/api/v1/conversations/{conversation_id}/messages/?page_size=500").json()["results"]
    by_text = {m["text"]: m for m in stored}
    assert by_text[reply]["is_private"] is False and by_text[reply]["sender_type"] == "agent"
    assert by_text[note]["is_private"] is True

    page.locator("#composer").blur()
    page.keyboard.press("e")
    page.locator(".conversation-header .chip.status-resolved").wait_for()
    assert api_session.get(f"/api/v1/conversations/{conversation_id}/").json()["status"] == "resolved"


def test_analytics_exports_csv(logged_in_page: Any, api_session: httpx.Client, artifacts_dir: Path) -> None:
    page = logged_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    page.get_by_role("heading", name="Analytics", level=1).wait_for()
    export = page.get_by_role("region", name="Conversations").get_by_role("button", name="Export CSV")
    page.wait_for_function("() => !document.querySelector('#rows-title + button')?.disabled")
    with page.expect_download() as info:
        export.click()
    download = info.value
    assert download.suggested_filename.startswith("parley-conversations-") and download.suggested_filename.endswith(".csv")
    target = artifacts_dir / download.suggested_filename
    download.save_as(str(target))
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0][:4] == ["id", "created_at", "channel", "status"]
    total = page.get_by_test_id("metrics").locator("dd").first.inner_text()
    listed = api_session.get("/api/v1/conversations/?page_size=1").json()["count"]
    assert len(rows) - 1 == min(int(total), 500)
    assert int(total) <= listed
    ids = {row[0] for row in rows[1:]}
    first_page = api_session.get("/api/v1/conversations/?page_size=500").json()["results"]
    assert ids <= {c["id"] for c in first_page}
    page.screenshot(path=str(artifacts_dir / "dashboard-analytics.png"), full_page=True)


PAGES = [
    ("inbox", "/app/inbox", "Inbox"),
    ("customers", "/app/customers", "Customers"),
    ("assistants", "/app/assistants", "Assistants"),
    ("knowledge", "/app/knowledge/sources", "Knowledge"),
    ("analytics", "/app/analytics", "Analytics"),
    ("models", "/app/models", "Models"),
    ("datasets", "/app/datasets", "Datasets"),
    ("settings-channels", "/app/settings/channels", "Settings"),
    ("settings-team", "/app/settings/team", "Settings"),
    ("settings-api-keys", "/app/settings/api-keys", "Settings"),
    ("settings-hours", "/app/settings/hours", "Settings"),
    ("settings-audit", "/app/settings/audit", "Settings"),
]


def test_every_page_renders_and_passes_axe(logged_in_page: Any, api_session: httpx.Client, artifacts_dir: Path) -> None:
    page = logged_in_page
    conversation = api_session.get("/api/v1/conversations/?page_size=1").json()["results"][0]
    pages = [
        *PAGES,
        ("conversation", f"/app/inbox/{conversation['id']}", "Inbox"),
        ("customer", f"/app/customers/{conversation['customer']['id']}", conversation["customer"]["name"] or "(no name)"),
    ]
    problems: dict[str, Any] = {}
    for name, path, heading in pages:
        page.goto(path)
        page.get_by_role("heading", name=heading, level=1).wait_for()
        page.wait_for_load_state("networkidle")
        assert page.get_by_role("alert").count() == 0 or name == "settings-audit", (
            f"{name}: {page.get_by_role('alert').all_inner_texts()}"
        )
        page.screenshot(path=str(artifacts_dir / f"dashboard-{name}.png"), full_page=True)
        violations = axe_violations(page)
        if violations:
            problems[name] = violations
    assert not problems, json.dumps(problems, indent=1)


def test_tablet_layout_shows_the_conversation(browser: Any, parley_server: Any, artifacts_dir: Path) -> None:
    context = browser.new_context(base_url=parley_server.url, viewport={"width": 768, "height": 1024})
    try:
        page = context.new_page()
        login(page)
        page.get_by_test_id("conversation-row").first.click()
        page.get_by_test_id("messages").wait_for()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 768, f"horizontal scroll at tablet width: {width}px"
        page.screenshot(path=str(artifacts_dir / "dashboard-tablet-conversation.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture(autouse=True)
def _fail_on_page_errors(request: pytest.FixtureRequest) -> Any:
    """Uncaught exceptions in the page fail the test (failed optional-API requests are expected)."""
    yield
    page = request.node.funcargs.get("logged_in_page") or request.node.funcargs.get("page")
    if page is not None:
        errors = [e for e in getattr(page, "console_errors", []) if "Failed to load resource" not in e]
        assert not errors, errors


def test_api_key_created_in_settings_shows_in_the_audit_log(logged_in_page: Any, api_session: httpx.Client) -> None:
    page = logged_in_page
    page.goto("/app/settings/api-keys")
    name = f"e2e-key-{uuid.uuid4().hex[:6]}"
    form = page.get_by_role("form", name="Create an API key")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Role").select_option("analyst")
    form.get_by_role("button", name="Create key").click()
    secret = page.get_by_test_id("new-api-key").inner_text()
    assert (
        httpx.get(f"{page.base_url}/api/v1/auth/me/", headers={"Authorization": f"Bearer {secret}"}).json()["role"] == "analyst"
    )
    page.get_by_role("table", name="API keys").get_by_text(name).wait_for()

    page.get_by_role("navigation", name="Settings sections").get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").fill("apikey.created")
    row = page.get_by_role("row").filter(has_text=name)
    row.wait_for()
    assert "demo@parley.local" in row.inner_text()
