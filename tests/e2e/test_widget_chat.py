"""The web-chat widget in a real Chromium against ``parley up``: a visitor on the demo shop page talks to
the assistant and to an agent working in the dashboard's live inbox, reloads the page and keeps the
conversation; the loader stays small and the open widget passes axe-core."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import DEMO_EMAIL, DEMO_PASSWORD, REPO_DIR, login

WIDGET_JS = REPO_DIR / "widget" / "dist" / "widget.js"
AXE_JS = REPO_DIR / "widget" / "node_modules" / "axe-core" / "axe.min.js"
TOKEN_KEY = "parley:demo-widget:visitor_token"
LOADER_BUDGET_GZIP_BYTES = 15 * 1024


@pytest.fixture(scope="session")
def widget_server(parley_server: Any) -> Iterator[Any]:
    """``parley_server`` with the widget built and the demo widget allowing this server's origin."""
    if not WIDGET_JS.exists():
        pytest.fail("the widget is not built: run `make frontend` (or `cd widget && npm ci && npm run build`)")
    with httpx.Client(base_url=parley_server.url, timeout=15) as client:
        client.get("/api/v1/auth/csrf/").raise_for_status()
        client.headers["X-CSRFToken"] = client.cookies.get("csrftoken", "")
        client.headers["Referer"] = parley_server.url + "/"
        client.post("/api/v1/auth/login/", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}).raise_for_status()
        client.headers["X-CSRFToken"] = client.cookies.get("csrftoken", "")
        channels = client.get("/api/v1/channels/").json()
        channels = channels["results"] if isinstance(channels, dict) else channels
        demo = next(c for c in channels if c["key"] == "demo-widget")
        config = dict(demo["config"])
        config["allowed_origins"] = sorted({*config.get("allowed_origins", []), parley_server.url})
        config.setdefault("greeting", "Hi! How can we help?")
        client.patch(f"/api/v1/channels/{demo['id']}/", json={"config": config}).raise_for_status()
    yield parley_server


def widget(page: Any) -> Any:
    """The widget's root inside its shadow DOM (Playwright's CSS locators pierce open shadow roots)."""
    return page.locator("#parley-chat-widget .root")


def open_chat(page: Any) -> None:
    page.goto("/widget/demo/")
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("dialog").wait_for()
    widget(page).and_(page.locator("[data-state=open]")).wait_for()


def send(page: Any, text: str) -> None:
    box = page.get_by_role("dialog").get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def visitor_message(page: Any, text: str) -> Any:
    return page.locator(".msg.in", has_text=text)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "async () => (await window.axe.run(document.querySelector('#parley-chat-widget'),"
        " {resultTypes: ['violations']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def test_visitor_talks_to_the_assistant_and_an_agent_and_keeps_the_session(
    page: Any, browser: Any, widget_server: Any, artifacts_dir: Path
) -> None:
    # An agent has the live inbox open before the visitor writes.
    agent_context = browser.new_context(base_url=widget_server.url, viewport={"width": 1280, "height": 800})
    agent_context.set_default_timeout(15_000)
    try:
        agent = agent_context.new_page()
        login(agent)
        agent.get_by_test_id("socket-state").get_by_text("Live").wait_for()
        agent.evaluate("() => { window.__noReload = 'still here'; }")

        open_chat(page)
        page.get_by_role("dialog").get_by_text("Hi! How can we help?").wait_for()
        assert page.evaluate(f"() => localStorage.getItem('{TOKEN_KEY}')"), "the server's visitor token is stored"
        visitor_id = page.evaluate("() => window.__parleyWidget.client.visitorId")

        marker = f"Where is my order? ref {uuid.uuid4().hex[:8]}"
        send(page, marker)
        visitor_message(page, marker).wait_for()
        # Shown at once, then confirmed by the server's ack.
        page.wait_for_function(
            "() => [...document.querySelector('#parley-chat-widget').shadowRoot.querySelectorAll('.msg.in')]"
            ".some(m => ['sent', 'delivered', 'read'].includes(m.dataset.status))"
        )

        # It appears live in the inbox, without a reload.
        agent.get_by_test_id("conversation-list").get_by_text(marker).wait_for(timeout=20_000)
        assert agent.evaluate("() => window.__noReload") == "still here"

        # The assistant answers in the widget (the orchestrator runs on the real Celery worker; its first
        # turn loads the language models, which takes a minute on a small machine).
        page.locator(".msg.out[data-sender=assistant]").first.wait_for(timeout=180_000)
        page.screenshot(path=str(artifacts_dir / "widget-assistant-reply.png"))

        # The agent opens that conversation (its preview now shows the assistant's reply), takes over, replies.
        conversation_id = page.evaluate("() => window.__parleyWidget.client.conversationId")
        assert conversation_id
        agent.get_by_test_id("conversation-list").locator(f"a[href*='{conversation_id}']").first.click()
        agent.get_by_test_id("messages").get_by_text(marker, exact=True).wait_for()
        agent.get_by_role("button", name="Take over").click()
        agent.get_by_role("button", name="Hand back to assistant").wait_for()
        reply = f"Hi, this is Dana from the team ({uuid.uuid4().hex[:6]})."
        agent.locator("#composer").fill(reply)
        agent.locator("#composer").press("Control+Enter")
        agent.get_by_test_id("messages").get_by_text(reply, exact=True).wait_for()
        agent.screenshot(path=str(artifacts_dir / "widget-agent-inbox.png"), full_page=True)
    finally:
        agent_context.close()

    agent_reply = page.locator(".msg.out[data-sender=agent]", has_text=reply)
    agent_reply.wait_for()
    assert "Dana Demo" in agent_reply.locator(".meta").inner_text()
    page.get_by_role("dialog").get_by_text("You are chatting with our team").wait_for()
    page.screenshot(path=str(artifacts_dir / "widget-agent-reply.png"))

    # Reload: same visitor token, the chat reopens with the whole conversation.
    page.reload()
    widget(page).and_(page.locator("[data-state=open]")).wait_for()
    page.get_by_role("dialog").wait_for()
    visitor_message(page, marker).wait_for()
    page.locator(".msg.out[data-sender=agent]", has_text=reply).wait_for()
    # The stored token brought the same visitor back (the server may re-sign the token itself).
    assert page.evaluate("() => [window.__parleyWidget.client.visitorId, window.__parleyWidget.client.resumed]") == [
        visitor_id,
        True,
    ]
    page.screenshot(path=str(artifacts_dir / "widget-after-reload.png"))

    follow_up = f"Thanks! one more thing {uuid.uuid4().hex[:6]}"
    send(page, follow_up)
    visitor_message(page, follow_up).wait_for()
    assert not [e for e in page.console_errors if "Failed to load resource" not in e]


def test_widget_reconnects_and_delivers_what_was_typed_meanwhile(page: Any, widget_server: Any) -> None:
    open_chat(page)
    # Drop the socket the way a network blip would; the widget must come back by itself.
    page.evaluate("() => window.__parleyWidget.client.socket.close(4000, 'test drop')")
    text = f"typed while reconnecting {uuid.uuid4().hex[:6]}"
    send(page, text)
    visitor_message(page, text).wait_for()
    page.wait_for_function(
        "t => [...document.querySelector('#parley-chat-widget').shadowRoot.querySelectorAll('.msg.in')]"
        ".some(m => m.textContent.includes(t) && ['sent', 'delivered', 'read'].includes(m.dataset.status))",
        arg=text,
    )
    token = page.evaluate(f"() => localStorage.getItem('{TOKEN_KEY}')")
    history = httpx.get(
        f"{widget_server.url}/api/v1/webchat/demo-widget/messages/",
        headers={"X-Parley-Visitor-Token": token},
        timeout=10,
    ).json()["messages"]
    assert [m["text"] for m in history].count(text) == 1, "sent exactly once"


def test_widget_falls_back_to_rest_when_websockets_are_blocked(page: Any, widget_server: Any, api_session: httpx.Client) -> None:
    # A proxy that refuses every websocket: the widget must still work, over the REST fallback.
    page.route_web_socket("**/ws/webchat/**", lambda ws: ws.close())
    open_chat(page)
    page.wait_for_function("() => window.__parleyWidget.client.transport === 'rest'", timeout=20_000)
    text = f"sent without websockets {uuid.uuid4().hex[:6]}"
    send(page, text)
    page.wait_for_function(
        "t => [...document.querySelector('#parley-chat-widget').shadowRoot.querySelectorAll('.msg.in')]"
        ".some(m => m.textContent.includes(t) && ['sent', 'delivered', 'read'].includes(m.dataset.status))",
        arg=text,
    )
    conversation_id = page.evaluate("() => window.__parleyWidget.client.conversationId")
    reply = f"agent reply by polling {uuid.uuid4().hex[:6]}"
    response = api_session.post(f"/api/v1/conversations/{conversation_id}/messages/", json={"text": reply})
    assert response.status_code == 201, response.text
    page.locator(".msg.out[data-sender=agent]", has_text=reply).wait_for(timeout=15_000)


def test_visitor_typing_reaches_the_agents_inbox_socket(page: Any, browser: Any, widget_server: Any) -> None:
    open_chat(page)
    send(page, f"first message {uuid.uuid4().hex[:6]}")
    page.wait_for_function("() => window.__parleyWidget.client.conversationId")
    conversation_id = page.evaluate("() => window.__parleyWidget.client.conversationId")

    agent_context = browser.new_context(base_url=widget_server.url)
    agent_context.set_default_timeout(15_000)
    try:
        agent = agent_context.new_page()
        login(agent)
        # Listen on the live-inbox socket the way the dashboard does (same session cookie).
        agent.evaluate(
            """() => new Promise(resolve => {
                window.__typing = [];
                const ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws/inbox/');
                ws.onmessage = e => {
                    const event = JSON.parse(e.data);
                    if (event.type === 'hello') resolve(true);
                    if (event.type === 'typing') window.__typing.push(event);
                };
            })"""
        )
        box = page.get_by_role("dialog").get_by_role("textbox", name="Message")
        box.press_sequentially("Where is", delay=30)
        agent.wait_for_function(
            "id => window.__typing.some(e => e.conversation_id === id && e.sender_type === 'customer' && e.is_typing)",
            arg=conversation_id,
        )
        box.press("Enter")
        agent.wait_for_function("id => window.__typing.some(e => e.conversation_id === id && !e.is_typing)", arg=conversation_id)
        # Throttled: a burst of keystrokes is one "typing" event, not one per key.
        started = agent.evaluate(
            "id => window.__typing.filter(e => e.conversation_id === id && e.is_typing).length", conversation_id
        )
        assert started == 1
    finally:
        agent_context.close()


def test_open_widget_has_no_serious_accessibility_violations(page: Any, widget_server: Any, artifacts_dir: Path) -> None:
    open_chat(page)
    send(page, "Hello, accessibility check")
    visitor_message(page, "Hello, accessibility check").wait_for()
    page.screenshot(path=str(artifacts_dir / "widget-open.png"))
    violations = axe_violations(page)
    assert not violations, json.dumps(violations, indent=1)
    # Keyboard: Escape closes the dialog and gives focus back to the launcher.
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="hidden")
    assert page.evaluate("() => document.querySelector('#parley-chat-widget').shadowRoot.activeElement.className") == "launcher"


def test_loader_is_served_small_with_theming_from_the_channel(page: Any, widget_server: Any) -> None:
    response = httpx.get(f"{widget_server.url}/widget.js", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert len(gzip.compress(response.content, compresslevel=9)) < LOADER_BUDGET_GZIP_BYTES
    settings = httpx.get(f"{widget_server.url}/widget/demo-widget/settings.json", timeout=10).json()
    assert "allowed_origins" not in settings
    page.goto("/widget/demo/")
    launcher = page.get_by_role("button", name="Open chat")
    launcher.wait_for()
    position = page.evaluate(
        "() => { const r = document.querySelector('#parley-chat-widget').shadowRoot"
        ".querySelector('.launcher').getBoundingClientRect(); return [r.right, innerWidth]; }"
    )
    assert position[1] - position[0] < 40, "the launcher sits in the bottom-right corner by default"


def test_widget_takes_its_theme_from_the_channel_settings(
    page: Any, widget_server: Any, api_session: httpx.Client, artifacts_dir: Path
) -> None:
    channels = api_session.get("/api/v1/channels/").json()
    channels = channels["results"] if isinstance(channels, dict) else channels
    demo = next(c for c in channels if c["key"] == "demo-widget")
    original = dict(demo["config"])
    themed = {**original, "theme": {"primary_color": "#0f766e", "position": "left", "title": "Demo Shop help"}}
    api_session.patch(f"/api/v1/channels/{demo['id']}/", json={"config": themed}).raise_for_status()
    try:
        page.goto("/widget/demo/")
        launcher = page.get_by_role("button", name="Open chat")
        page.wait_for_function(
            "() => document.querySelector('#parley-chat-widget')?.shadowRoot.querySelector('.root.left') !== null"
        )
        assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(15, 118, 110)"
        assert launcher.evaluate("b => b.getBoundingClientRect().left") < 40
        launcher.click()
        page.get_by_role("dialog", name="Demo Shop help").get_by_role("heading", name="Demo Shop help").wait_for()
        page.screenshot(path=str(artifacts_dir / "widget-themed.png"))
    finally:
        api_session.patch(f"/api/v1/channels/{demo['id']}/", json={"config": original}).raise_for_status()


def test_typing_indicators_between_the_widget_and_the_inbox(
    page: Any, browser: Any, widget_server: Any, artifacts_dir: Path
) -> None:
    open_chat(page)
    # Record every text the widget's typing line shows (the assistant's may be brief on a warm server).
    page.evaluate(
        """() => {
            const line = document.querySelector('#parley-chat-widget').shadowRoot.querySelector('.typing');
            window.__typingSeen = [];
            new MutationObserver(() => window.__typingSeen.push(line.textContent))
                .observe(line, {childList: true, characterData: true, subtree: true});
        }"""
    )
    send(page, f"Do you ship to Norway? {uuid.uuid4().hex[:6]}")
    page.wait_for_function("() => window.__typingSeen.includes('The assistant is typing…')", timeout=180_000)
    page.locator(".msg.out[data-sender=assistant]").first.wait_for(timeout=180_000)
    page.wait_for_function("() => window.__typingSeen.at(-1) === ''")  # stopped once the turn ended
    conversation_id = page.evaluate("() => window.__parleyWidget.client.conversationId")

    agent_context = browser.new_context(base_url=widget_server.url, viewport={"width": 1280, "height": 800})
    agent_context.set_default_timeout(15_000)
    try:
        agent = agent_context.new_page()
        login(agent)
        agent.goto(f"/app/inbox/{conversation_id}")
        agent.get_by_test_id("socket-state").get_by_text("Live").wait_for()
        take_over, hand_back = (
            agent.get_by_role("button", name="Take over"),
            agent.get_by_role("button", name="Hand back to assistant"),
        )
        take_over.or_(hand_back).wait_for()
        if take_over.is_visible():  # a person owns it from here on, so no assistant turn interferes
            take_over.click()
        hand_back.wait_for()

        # The visitor types: the agent sees it under the messages.
        page.get_by_role("dialog").get_by_role("textbox", name="Message").press_sequentially("Also, do you", delay=30)
        agent.get_by_test_id("typing-indicator").get_by_text("is typing…").wait_for()

        # The agent types a reply: the visitor sees "An agent is typing…"; emptying the composer stops it.
        agent.locator("#composer").press_sequentially("Yes, we ship", delay=30)
        page.locator("#parley-chat-widget .typing", has_text="An agent is typing…").wait_for()
        page.screenshot(path=str(artifacts_dir / "widget-agent-typing.png"))
        agent.screenshot(path=str(artifacts_dir / "dashboard-customer-typing.png"), full_page=True)
        agent.locator("#composer").fill("")
        page.wait_for_function("() => window.__typingSeen.at(-1) === ''")
    finally:
        agent_context.close()


def _tiny_png() -> bytes:
    """A valid 1x1 PNG (the upload endpoint sniffs the content, so it must be a real image)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x66\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_visitor_sends_a_photo_that_the_inbox_shows_inline(
    page: Any, widget_server: Any, api_session: httpx.Client, tmp_path: Path
) -> None:
    photo = tmp_path / "broken-mug.png"
    photo.write_bytes(_tiny_png())
    open_chat(page)
    attach = page.get_by_role("dialog").get_by_role("button", name="Attach a file")
    attach.wait_for()  # shown because the server advertises its upload endpoint
    with page.expect_file_chooser() as chooser:
        attach.click()
    chooser.value.set_files(str(photo))

    # The visitor sees the photo in the chat, served from a signed URL that loads.
    image = page.locator(".msg.in img").first
    image.wait_for()
    page.wait_for_function(
        "() => { const i = document.querySelector('#parley-chat-widget').shadowRoot.querySelector('.msg.in img');"
        " return i && i.complete && i.naturalWidth === 1; }"
    )
    # The assistant cannot read files: it says so and hands over.
    page.locator(".msg.out[data-sender=assistant]", has_text="can't open files").wait_for(timeout=180_000)

    conversation_id = page.evaluate("() => window.__parleyWidget.client.conversationId")
    stored = api_session.get(f"/api/v1/conversations/{conversation_id}/messages/?page_size=50").json()["results"]
    with_file = [m for m in stored if m["attachments"]]
    assert len(with_file) == 1 and with_file[0]["sender_type"] == "customer"
    attachment = with_file[0]["attachments"][0]
    assert attachment["kind"] == "image" and attachment["mime_type"] == "image/png"
    assert api_session.get(f"/api/v1/conversations/{conversation_id}/").json()["status"] in ("pending_human", "assigned")

    # An agent sees the photo inline in the conversation view.
    login(page)
    page.goto(f"/app/inbox/{conversation_id}")
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=messages] .attachments img');"
        " return i && i.complete && i.naturalWidth === 1; }"
    )
