"""Background work of the intelligence app: analysis of stored messages, dataset imports, training jobs."""

from __future__ import annotations

import zipfile
from typing import Any

from parley.config.celery import ParleyTask, app

#: Errors a retry of the same job cannot fix (a bug or bad data meets the same code again): the job ends
#: ``failed`` at once instead of after minutes of backoff. Lost connections and the like are still retried.
NON_RETRYABLE: tuple[type[BaseException], ...] = (
    ArithmeticError,
    AssertionError,
    AttributeError,
    LookupError,
    MemoryError,
    NotImplementedError,
    TypeError,
    ValueError,  # includes UnicodeError and JSON decode errors
    zipfile.BadZipFile,
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


class JobTask(ParleyTask):
    """A task that runs one DatasetImport or TrainingJob row (its id is the first argument).

    Retried like every ParleyTask (the job's actions resume without redoing finished work); when it
    fails for good, it is dead-lettered as usual and its row ends ``failed`` with a readable reason, so
    no job stays ``running`` forever. Replaying the dead letter queues the job again. ``job_kind`` is ``dataset_import`` or ``training``.
    """

    job_kind = ""
    dont_autoretry_for = NON_RETRYABLE

    def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        from parley.intelligence.actions import note_job_retry

        job_id = _job_id(args, kwargs)
        if job_id is not None:
            attempts = int(getattr(self.request, "retries", 0) or 0) + 1
            note_job_retry(kind=self.job_kind, job_id=job_id, exc=exc, attempts=attempts)

    def before_replay(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        """A replayed dead letter runs the job again: its ``failed`` row goes back to ``queued``."""
        from parley.intelligence.actions import requeue_failed_job

        job_id = _job_id(args, kwargs)
        if job_id is not None:
            requeue_failed_job(kind=self.job_kind, job_id=job_id)

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        try:
            super().on_failure(exc, task_id, args, kwargs, einfo)
        finally:
            from parley.intelligence.actions import fail_job_for_good

            job_id = _job_id(args, kwargs)
            if job_id is not None:
                attempts = int(getattr(self.request, "retries", 0) or 0) + 1
                fail_job_for_good(kind=self.job_kind, job_id=job_id, exc=exc, attempts=attempts)


def _job_id(args: Any, kwargs: Any) -> Any:
    """The job's id: the task's first argument."""
    return (list(args or []) or [None])[0] or next(iter((kwargs or {}).values()), None)


@app.task(base=ParleyTask, name="parley.intelligence.analyse_messages", queue="analytics")
def analyse_messages(message_ids: list[str], force: bool = False) -> int:
    """Analyse these messages and store the result (idempotent: analysed ones are skipped unless ``force``)."""
    from parley.intelligence.actions import analyse_stored_messages

    return analyse_stored_messages(message_ids=message_ids, force=force)


@app.task(base=ParleyTask, name="parley.intelligence.warm_up", queue="assistant")
def warm_up(tenant_id: str | None = None) -> bool:
    """Load the embedder and the promoted models in this worker now, so the first message is not slow."""
    from parley.intelligence.pipeline import warm_up as load

    load(tenant_id)
    return True


def enqueue_analysis(message_ids: list[Any], *, chunk: int = 500) -> None:
    """Queue analysis of ``message_ids`` in chunks (call inside ``transaction.on_commit``)."""
    ids = [str(message_id) for message_id in message_ids]
    for start in range(0, len(ids), chunk):
        analyse_messages.delay(ids[start : start + chunk])


@app.task(base=JobTask, job_kind="dataset_import", name="parley.intelligence.run_dataset_import", queue="default")
def run_dataset_import(import_id: str) -> str:
    """Import an uploaded dataset (queued through the API); a bad file, or an error that outlives the
    retries, ends ``failed`` with the reason; a cancelled import stops and its partial rows are removed."""
    from parley.intelligence.actions import run_dataset_import as run

    return run(import_id)


@app.task(base=JobTask, job_kind="training", name="parley.intelligence.run_training", queue="default")
def run_training(job_id: str) -> str:
    """Train a model queued through the API and register it for the tenant (failed / cancelled like imports)."""
    from parley.intelligence.actions import run_training_job

    return run_training_job(job_id)


@app.task(base=ParleyTask, name="parley.intelligence.expire_stalled_jobs", queue="default")
def expire_stalled_jobs() -> dict[str, int]:
    """Fail dataset imports and training jobs whose worker vanished or that no worker picked up."""
    from parley.intelligence.actions import expire_stalled_jobs as expire

    return expire()


app.conf.beat_schedule.update(
    {
        "intelligence-expire-stalled-jobs": {
            "task": "parley.intelligence.expire_stalled_jobs",
            "schedule": 600.0,
            "options": {"queue": "default"},
        }
    }
)
