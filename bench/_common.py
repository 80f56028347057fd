"""Helpers shared by the bench scripts: embedded services in a bench data dir, free ports, JSON output."""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def bench_data_dir(name: str = "bench") -> Path:
    """A data dir for benchmarks, separate from the dev data (``.parley``) and tests."""
    path = Path(os.environ.get("PARLEY_BENCH_DATA_DIR", REPO / f".parley-{name}")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def setup_django(name: str = "bench") -> Any:
    """Start/join the embedded services in the bench data dir, configure Django, migrate."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PARLEY_LOG_LEVEL", "WARNING")
    os.environ.setdefault("PARLEY_LOG_FORMAT", "console")
    data_dir = bench_data_dir(name)
    os.environ["PARLEY_DATA_DIR"] = str(data_dir)
    from parley.runtime.services import ensure_services

    services = ensure_services(data_dir)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return services


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 3),
        "p95": round(percentile(values, 95), 3),
        "p99": round(percentile(values, 99), 3),
        "mean": round(statistics.fmean(values), 3) if values else float("nan"),
    }


def emit(payload: dict[str, Any]) -> None:
    """Print the one JSON line a bench script produces."""
    print(json.dumps(payload, sort_keys=False), flush=True)
