"""The process supervisor behind ``parley up``: services first, each waited for, nothing restarted silently."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from parley.config.celery import QUEUE_NAMES


class StartupError(RuntimeError):
    """A service failed to start or become healthy; the message says which and why."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path


@dataclass
class Supervisor:
    """Starts child processes in order and stops them in reverse."""

    data_dir: Path
    env: dict[str, str]
    echo: Callable[[str], None] = print
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, command: list[str]) -> Child:
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{name}.log"
        log_file = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        process = subprocess.Popen(command, env=self.env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def wait_until(self, child: Child, ready: Callable[[], bool], timeout: float) -> float:
        """Poll ``ready`` until it is true; fail fast if the child dies. Returns the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if child.process.poll() is not None:
                raise StartupError(f"{child.name} exited with code {child.process.returncode}:\n{tail(child.log_path)}")
            if ready():
                return time.monotonic() - started
            time.sleep(0.2)
        raise StartupError(f"{child.name} was not ready after {timeout:.0f}s:\n{tail(child.log_path)}")

    def first_exited(self) -> Child | None:
        for child in self.children:
            if child.process.poll() is not None:
                return child
        return None

    def stop_all(self, timeout: float = 15.0) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in reversed(self.children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait(timeout=5)


def tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log file, indented."""
    if not path.exists():
        return "    (no log)"
    content = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in content)


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def worker_answers(env: dict[str, str], node: str | None = None) -> bool:
    """Ask the Celery control bus whether a worker (``node``, or any) is up, in a subprocess-free way."""
    from parley.config.celery import app

    try:
        replies = app.control.ping(timeout=0.5, destination=[node] if node else None)
    except Exception:  # noqa: BLE001
        return False
    return any(node is None or node in reply for reply in replies)


def worker_node(role: str) -> str:
    """The Celery node name of this supervisor's ``role`` worker ("live" or "bulk")."""
    return f"parley-{role}-{os.getpid()}@{socket.gethostname()}"


def worker_command(
    concurrency: int, *, role: str = "live", queues: tuple[str, ...] | None = None, pool: str = "prefork"
) -> list[str]:
    """The command of one Celery worker: ``role`` names it, ``queues`` (default: all) are what it consumes,
    ``pool`` is Celery's execution pool (``prefork``: processes; ``threads``: threads of one process)."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "parley.config.celery",
        "worker",
        "-Q",
        ",".join(queues or QUEUE_NAMES),
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "-n",
        worker_node(role),
        "--without-gossip",
        "--without-mingle",
    ]


#: The live worker's pool. Its tasks mostly wait on the network (the LLM server, a provider's API) or
#: the database, so threads of one process serve many conversations at once: with processes, each
#: slot would hold its own copy of the models and one customer's LLM wait per slot. Threads also skip
#: the hand-over of every task from the worker's main process to a child.
LIVE_POOL = "threads"
#: CPU-heavy work (ingestion, training, analytics) keeps processes, one per core.
BULK_POOL = "prefork"


def beat_command(data_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "parley.config.celery",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(data_dir / "celerybeat-schedule"),
        "--pidfile",
        "",
    ]


def web_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "parley.config.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--lifespan",
        "off",
        "--no-access-log",
        "--ws",
        "websockets-sansio",
    ]


def reset_metrics_dir(data_dir: Path) -> Path:
    """A clean Prometheus multiprocess directory for this run."""
    path = data_dir / "metrics"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
