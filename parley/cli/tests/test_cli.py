"""The `parley` command: help everywhere, API keys, and `parley up` as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from parley.cli.main import cli

REPO = Path(__file__).resolve().parents[3]
PARLEY = [sys.executable, "-m", "parley.cli.main"]


def _all_commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in getattr(group, "commands", {}).items():
        found.extend(_all_commands(command, (*prefix, name)))
    return found


def _env_with_test_db() -> dict[str, str]:
    """The subprocess must see the test database, not the default one."""
    from urllib.parse import urlparse, urlunparse

    from django.db import connection

    url = urlparse(os.environ["DATABASE_URL"])
    return dict(os.environ, DATABASE_URL=urlunparse(url._replace(path="/" + connection.settings_dict["NAME"])))


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for path in _all_commands(cli):
        if path and path[0] == "manage":
            continue  # passes everything through to Django, including --help
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        assert len(result.output.splitlines()) >= 3


@pytest.mark.django_db(transaction=True)
def test_apikey_create_prints_a_working_key(tenant: Any) -> None:
    from rest_framework.test import APIClient

    result = subprocess.run(
        [*PARLEY, "apikey", "create", "--tenant", tenant.slug, "--role", "analyst"],
        capture_output=True,
        text=True,
        env=_env_with_test_db(),
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("pk_")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/conversations/").status_code == 200
    assert client.post("/api/v1/tickets/", {}, format="json").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_apikey_create_for_an_unknown_tenant_fails_clearly() -> None:
    result = subprocess.run(
        [*PARLEY, "apikey", "create", "--tenant", "nope"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode != 0
    assert "no tenant 'nope'" in result.stderr


def _env_for_up(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, PARLEY_DATA_DIR=str(data_dir))
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return env


def test_up_refuses_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*PARLEY, "up", "--port", str(port), "--no-demo"],
            capture_output=True,
            text=True,
            env=_env_for_up(tmp_path),
            cwd=REPO,
            timeout=120,
        )
    assert result.returncode != 0
    assert f"port {port}" in result.stderr and "already in use" in result.stderr


def test_up_becomes_healthy_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [*PARLEY, "up", "--port", str(port), "--concurrency", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env_for_up(tmp_path),
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 240
        body: dict[str, Any] = {}
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.5)
        assert body.get("checks") == {"database": "ok", "redis": "ok", "worker": "ok"}, body
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Demo login" in output and "demo@parley.local" in output
    assert "Stopped." in output
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", f"processes left running: {leftovers.stdout}"


@pytest.mark.django_db(transaction=True)
def test_doctor_reports_each_check_and_exits_by_health() -> None:
    result = subprocess.run(
        [*PARLEY, "doctor", "--json", "--skip-worker"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=REPO,
        timeout=180,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report["checks"]) >= {"python", "packages", "model", "embedder", "database", "redis"}
    assert report["checks"]["embedder"]["ok"] and report["checks"]["embedder"]["detail"].startswith("onnx ("), report
    assert report["checks"]["database"]["ok"], report["checks"]["database"]
    assert "pgvector" in report["checks"]["database"]["detail"]
    assert report["healthy"] is True and result.returncode == 0
    unhealthy = subprocess.run(
        [*PARLEY, "doctor", "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PARLEY_WORKER_PING_TIMEOUT="0.3", PARLEY_EMBEDDER_RUNTIME="torch"),
        cwd=REPO,
        timeout=180,
    )
    report = json.loads(unhealthy.stdout.strip().splitlines()[-1])
    assert report["checks"]["worker"]["ok"] is False
    assert report["checks"]["embedder"]["detail"] == "torch (PARLEY_EMBEDDER_RUNTIME=torch)"
    assert unhealthy.returncode == 1
