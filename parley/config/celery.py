"""The Celery app: named queues, late acks, retries with backoff, dead letters for exhausted tasks."""

from __future__ import annotations

import os
import time
from typing import Any

from celery import Celery, Task, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")

QUEUE_NAMES = ("webhooks", "assistant", "outbound", "embeddings", "analytics", "default")
# A customer waits on these: `parley up` gives them their own worker, so a long ingestion or analytics
# job never delays a webhook, an assistant turn or a delivery.
LIVE_QUEUES = ("webhooks", "assistant", "outbound")
BULK_QUEUES = tuple(name for name in QUEUE_NAMES if name not in LIVE_QUEUES)

app = Celery("parley")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=[Queue(name) for name in QUEUE_NAMES],
    task_default_queue="default",
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    # Nothing waits on a task's return value (tasks write their outcome to the database), so results are
    # not stored: otherwise every apply_async subscribes to the result's Redis channel (a round trip on
    # the path of every webhook and assistant turn) and every task ends with a SETEX and a PUBLISH.
    # A task that reports back (``parley.core.ping``, the periodic sweeps) opts in with ignore_result=False.
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": 3600},
    worker_hijack_root_logger=False,
    beat_schedule={},
)
app.autodiscover_tasks(lambda: __import__("django.conf", fromlist=["settings"]).settings.INSTALLED_APPS)


class ParleyTask(Task):  # type: ignore[misc]
    """Base task: retried with exponential backoff, then written to a DeadLetter row.

    Tasks take ids, not objects, and must be idempotent: a retry may run after a partial success.
    """

    autoretry_for: tuple[type[BaseException], ...] = (Exception,)
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 5
    acks_late = True

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        from parley.core.tasks import record_dead_letter

        record_dead_letter(self, exc, task_id, args, kwargs)

    def before_replay(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        """Called in the replay's transaction before a dead letter of this task is sent again: a task whose
        failure left state behind (a job row marked ``failed``) puts it back here. Nothing by default."""


# Database connections between tasks in a prefork child (how `parley up` runs workers). Celery's Django
# fix-up closes each connection before and after every task (with a pool: hands it back) and, in a
# prefork child only, also closes the whole connection pool: every task then opened a new PostgreSQL
# connection (~15 ms, its prepared statements lost) before its first query. A child closes what it
# inherited from the parent once, when it starts, and from then on the fix-up treats it like the solo
# and thread pools do: connections go back to the child's pool between tasks, the pool stays open.
_worker_main_pid: int | None = None


@signals.worker_init.connect
def _worker_starting(**_: Any) -> None:
    global _worker_main_pid
    _worker_main_pid = os.getpid()


@signals.worker_process_init.connect
def _prefork_child_started(**_: Any) -> None:
    if _worker_main_pid is None or os.getpid() == _worker_main_pid:
        return  # the solo pool sends this signal in the worker's own process
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()  # the parent's pool: never shared with a child
    for fixup in app._fixups or []:
        worker_fixup = getattr(fixup, "_worker_fixup", None)
        if worker_fixup is not None and hasattr(worker_fixup, "_is_prefork"):
            worker_fixup._is_prefork = lambda: False  # per task: hand connections back, keep the pool


@signals.task_prerun.connect
def _task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task is not None:
        task.request._parley_started = time.perf_counter()


@signals.task_postrun.connect
def _task_finished(task: Any = None, state: str | None = None, **_: Any) -> None:
    from parley.core import metrics

    if task is None:
        return
    started = getattr(task.request, "_parley_started", None)
    if started is not None:
        metrics.TASK_LATENCY.labels(task.name).observe(time.perf_counter() - started)
    metrics.TASKS_TOTAL.labels(task.name, (state or "unknown").lower()).inc()
