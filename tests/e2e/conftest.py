"""Browser tests: one ``parley up`` per session (own data dir, free port) and a Playwright ``page``.

Shared by the dashboard and widget suites. Fixtures:

- ``parley_server`` (session): a running ``parley up`` with demo data; ``.url`` is its base URL.
- ``browser`` (session): Debian's Chromium (``/usr/bin/chromium`` or ``PARLEY_CHROMIUM``), headless.
- ``page`` (function): a fresh browser context + page; console errors are collected in ``page.console_errors``.
- ``logged_in_page`` (function): ``page`` already logged in to the dashboard as the demo owner.
- ``api_session`` (function): a ``requests``-like helper (``httpx.Client``) logged in as the demo owner.
- ``artifacts_dir``: ``test-artifacts/`` (gitignored) where screenshots go.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEMO_EMAIL = "demo@parley.local"
DEMO_PASSWORD = "parley-demo-2026"
STARTUP_TIMEOUT_S = float(os.environ.get("PARLEY_E2E_STARTUP_TIMEOUT", "240"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything in tests/e2e is a browser test; skip them all (clearly) when Chromium is missing."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if not Path(CHROMIUM).exists():
                item.add_marker(pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (run `make system-deps`)"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ParleyServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = REPO_DIR / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def parley_server() -> Iterator[ParleyServer]:
    """Start ``parley up --port <free>`` on its own embedded services (a fresh data dir) and wait for /healthz."""
    if not (REPO_DIR / "frontend" / "dist" / "index.html").exists():
        pytest.fail("the dashboard is not built: run `make frontend` first")
    # A fresh data dir per session (unless one is named): leftovers of earlier runs must not leak into
    # assertions, and two concurrent runs must not share (and stop) each other's embedded services.
    named = os.environ.get("PARLEY_E2E_DATA_DIR")
    data_dir = Path(named).resolve() if named else Path(tempfile.mkdtemp(prefix=".parley-test-e2e-", dir=REPO_DIR))
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = dict(os.environ)
    # The pytest plugin exported the *test* services' URLs; the server gets its own embedded ones.
    for name in ("DATABASE_URL", "REDIS_URL", "PARLEY_MEDIA_ROOT"):
        env.pop(name, None)
    env.update(
        {
            "PARLEY_DATA_DIR": str(data_dir),
            "PARLEY_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PARLEY_CHILD_LOG_LEVEL": "WARNING",
        }
    )
    log_path = data_dir / "parley-up.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - closed at teardown
    parley = shutil.which("parley", path=str(Path(sys.executable).parent)) or "parley"
    process = subprocess.Popen(
        [parley, "up", "--port", str(port), "--concurrency", "1"],
        cwd=REPO_DIR,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = ParleyServer(url=f"http://127.0.0.1:{port}", data_dir=data_dir, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"parley up exited with code {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"parley up did not become healthy in {STARTUP_TIMEOUT_S:.0f}s:\n{server.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        yield server
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log_file.close()
        if not named:
            shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any, parley_server: ParleyServer) -> Iterator[Any]:
    """A fresh context (own cookies) and page; ``page.base_url`` is the server's URL."""
    context = browser.new_context(base_url=parley_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    page.base_url = parley_server.url  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


def login(page: Any, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    """Log in through the dashboard's login form and wait for the app shell."""
    page.goto("/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").wait_for()


@pytest.fixture
def logged_in_page(page: Any) -> Any:
    login(page)
    return page


@pytest.fixture
def api_session(parley_server: ParleyServer) -> Iterator[httpx.Client]:
    """An HTTP client with the demo owner's session and CSRF header set."""
    with httpx.Client(base_url=parley_server.url, timeout=15) as client:
        client.get("/api/v1/auth/csrf/").raise_for_status()
        token = client.cookies.get("csrftoken", "")
        client.headers["X-CSRFToken"] = token
        client.headers["Referer"] = parley_server.url + "/"
        client.post("/api/v1/auth/login/", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}).raise_for_status()
        client.headers["X-CSRFToken"] = client.cookies.get("csrftoken", token)
        yield client
