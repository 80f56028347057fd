"""Dashboard figures, printed as ONE JSON line:

- gzipped size of the dashboard's JS/CSS (what the inbox loads first, and everything), and of the
  widget loader (widget/dist/widget.js) when it is built;
- time to interactive of the inbox with 500 conversations in headless Chromium (navigation start →
  conversation rows rendered and the live socket connected), median of several loads; baseline: the
  same measurement with the 3 demo conversations only, in the same run (target ≤ 1.5 s);
- live-update latency: an inbound web-chat message POSTed to the REST fallback (as a webhook) until it
  is rendered in the open inbox, p50/p95 over N messages; baseline: the same messages' arrival on a
  raw /ws/inbox/ socket in the same page (network + server share), same run (target p95 ≤ 300 ms).

Starts its own embedded PostgreSQL + Redis in .parley-bench-frontend and a uvicorn web server; needs
the dashboard built (make frontend) and Debian's Chromium. Usage: python bench/frontend.py [--messages N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / ".parley-bench-frontend"
CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
DIST = REPO / "frontend" / "dist"


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def bundle_sizes() -> dict[str, Any]:
    index = (DIST / "index.html").read_text()
    initial = [DIST / ref.removeprefix("/static/app/") for ref in re.findall(r'(?:src|href)="(/static/app/[^"]+)"', index)]
    assets = list((DIST / "assets").glob("*"))
    js = [p for p in assets if p.suffix == ".js"]
    css = [p for p in assets if p.suffix == ".css"]
    sizes: dict[str, Any] = {
        "initial_js_gzip_kb": round(sum(gz(p) for p in initial if p.suffix == ".js") / 1024, 1),
        "initial_css_gzip_kb": round(sum(gz(p) for p in initial if p.suffix == ".css") / 1024, 1),
        "all_js_gzip_kb": round(sum(gz(p) for p in js) / 1024, 1),
        "all_css_gzip_kb": round(sum(gz(p) for p in css) / 1024, 1),
    }
    loader = REPO / "widget" / "dist" / "widget.js"
    sizes["widget_loader_gzip_kb"] = round(gz(loader) / 1024, 2) if loader.exists() else None
    return sizes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup() -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["PARLEY_DATA_DIR"] = str(DATA_DIR)
    os.environ.setdefault("PARLEY_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(REPO))
    from parley.runtime.services import ensure_services

    services = ensure_services(DATA_DIR)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return services


def seed_conversations(total: int) -> None:
    """Demo tenant + enough web-chat conversations to reach ``total`` (idempotent)."""
    from parley.connectors.base import InboundMessage
    from parley.connectors.models import Channel, ChannelType
    from parley.conversations import actions
    from parley.conversations.models import Conversation
    from parley.runtime.demo import seed_demo

    tenant = seed_demo()
    channel = Channel.objects.get(tenant=tenant, type=ChannelType.WEBCHAT, key="demo-widget")
    existing = Conversation.objects.filter(tenant=tenant).count()
    for index in range(existing, total):
        inbound = InboundMessage.model_validate(
            {
                "channel_type": "webchat",
                "external_id": f"bench-{index}",
                "sender_external_id": f"bench-visitor-{index}",
                "sender_name": f"Bench Customer {index}",
                "text": f"Question number {index} about my order",
            }
        )
        actions.receive_inbound(channel=channel, inbound=inbound, enqueue_turn=False)


def start_web(port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(REPO), PARLEY_PUBLIC_URL=f"http://127.0.0.1:{port}")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "parley.config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
            "--ws",
            "websockets-sansio",
        ],
        env=env,
        cwd=REPO,
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            # /healthz would say 503 (no Celery worker here); any answer means the server is up.
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/auth/csrf/", timeout=2):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("web server did not start")


def post_json(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read() or b"{}"))


def login(page: Any) -> None:
    page.goto("/app/login")
    page.get_by_label("Email").fill("demo@parley.local")
    page.get_by_label("Password").fill("parley-demo-2026")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").wait_for()


TTI_SCRIPT = """async (minRows) => {
  const start = performance.timeOrigin;
  while (true) {
    const rows = document.querySelectorAll('[data-testid="conversation-row"]').length;
    const live = document.querySelector('[data-testid="socket-state"]')?.textContent === 'Live';
    if (rows >= minRows && live) return performance.now();
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
}"""


def inbox_tti_ms(page: Any, min_rows: int, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        page.goto("about:blank")
        page.goto("/app/inbox", wait_until="commit")
        times.append(float(page.evaluate(TTI_SCRIPT, min_rows)))
    return times


def live_latency(page: Any, base: str, messages: int) -> tuple[list[float], list[float]]:
    """Per message: ms from the POST to the raw socket frame, and to the text rendered in the list."""
    page.goto("/app/inbox")
    page.get_by_test_id("socket-state").get_by_text("Live").wait_for()
    page.evaluate(
        """() => {
          window.__frames = {};
          window.__rendered = {};
          const socket = new WebSocket(`ws://${location.host}/ws/inbox/`);
          socket.onmessage = (e) => {
            const text = e.data.match(/latency-probe-[0-9a-f]+/);
            if (text && !window.__frames[text[0]]) window.__frames[text[0]] = Date.now();
          };
          window.__probe = socket;
          new MutationObserver(() => {
            const list = document.querySelector('[data-testid="conversation-list"]');
            const found = list && list.textContent.match(/latency-probe-[0-9a-f]+/g);
            for (const m of found || []) if (!window.__rendered[m]) window.__rendered[m] = Date.now();
          }).observe(document.body, { childList: true, subtree: true, characterData: true });
        }"""
    )
    page.wait_for_function("() => window.__probe.readyState === 1")
    session = post_json(f"{base}/api/v1/webchat/demo-widget/session/", {"name": "Latency Probe"})
    token = session["visitor_token"]
    to_frame, to_render = [], []
    for _ in range(messages):
        marker = f"latency-probe-{uuid.uuid4().hex[:12]}"
        sent = time.time() * 1000
        post_json(
            f"{base}/api/v1/webchat/demo-widget/messages/",
            {"client_id": uuid.uuid4().hex, "text": marker},
            {"X-Parley-Visitor-Token": token},
        )
        page.wait_for_function("(m) => window.__rendered[m] && window.__frames[m]", arg=marker, timeout=10_000)
        frame, rendered = page.evaluate("(m) => [window.__frames[m], window.__rendered[m]]", marker)
        to_frame.append(frame - sent)
        to_render.append(rendered - sent)
        time.sleep(0.1)
    return to_frame, to_render


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--conversations", type=int, default=500)
    args = parser.parse_args()
    if not (DIST / "index.html").exists():
        raise SystemExit("build the dashboard first: make frontend")
    result: dict[str, Any] = {"figure": "frontend", **bundle_sizes()}
    services = setup()
    from playwright.sync_api import sync_playwright

    seed_conversations(3)
    port = free_port()
    web = start_web(port)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
            page = context.new_page()
            login(page)
            baseline = inbox_tti_ms(page, 3, args.runs)
            # Playwright's sync API runs an event loop here; the ORM works from a plain thread.
            with ThreadPoolExecutor(1) as pool:
                pool.submit(seed_conversations, args.conversations).result()
            full = inbox_tti_ms(page, 100, args.runs)  # the list renders its first page (100) of 500
            to_frame, to_render = live_latency(page, base, args.messages)
            browser.close()
    finally:
        web.terminate()
        web.wait(timeout=20)
        services.stop()
    tti, tti_base = statistics.median(full), statistics.median(baseline)
    result.update(
        {
            "inbox_conversations": args.conversations,
            "inbox_tti_ms_p50": round(tti, 1),
            "inbox_tti_baseline_3_conversations_ms_p50": round(tti_base, 1),
            "inbox_tti_ratio": round(tti / tti_base, 2),
            "inbox_tti_target_ms": 1500,
            "live_update_messages": args.messages,
            "live_update_ms_p50": round(statistics.median(to_render), 1),
            "live_update_ms_p95": round(p95(to_render), 1),
            "live_update_baseline_raw_socket_ms_p95": round(p95(to_frame), 1),
            "live_update_ratio": round(p95(to_render) / max(p95(to_frame), 0.1), 2),
            "live_update_target_p95_ms": 300,
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
