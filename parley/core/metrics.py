"""Prometheus metrics shared by the web server and the Celery workers.

When ``PROMETHEUS_MULTIPROC_DIR`` is set (``parley up`` sets it), every process writes its samples
there and ``/metrics`` aggregates them, so task metrics recorded by workers show on the web server.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUEST_LATENCY = Histogram(
    "parley_http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route", "status"],
)
TASKS_TOTAL = Counter("parley_tasks_total", "Celery tasks finished, by name and outcome", ["task", "outcome"])
TASK_LATENCY = Histogram("parley_task_duration_seconds", "Celery task run time", ["task"])
QUEUE_DEPTH = Gauge("parley_queue_depth", "Messages waiting in each Celery queue", ["queue"], multiprocess_mode="livemax")


def render_latest() -> bytes:
    """Render every metric in the Prometheus text format (aggregating processes when configured)."""
    _refresh_queue_depth()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


def _refresh_queue_depth() -> None:
    from parley.config.celery import QUEUE_NAMES
    from parley.core.redis import get_redis

    try:
        client = get_redis()
        for queue in QUEUE_NAMES:
            QUEUE_DEPTH.labels(queue).set(client.llen(queue))
    except Exception:  # noqa: BLE001 - metrics must render even when Redis is down
        return
