"""Background analysis of stored messages (e.g. after a dataset import), on the ``analytics`` queue."""

from __future__ import annotations

from typing import Any

from parley.config.celery import ParleyTask, app


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


@app.task(base=ParleyTask, name="parley.intelligence.run_dataset_import", queue="default")
def run_dataset_import(import_id: str) -> str:
    """Import an uploaded dataset (queued through the API); a bad file ends ``failed`` with the reason."""
    from parley.intelligence.actions import run_dataset_import as run

    return run(import_id)


@app.task(base=ParleyTask, name="parley.intelligence.run_training", queue="default")
def run_training(job_id: str) -> str:
    """Train a model queued through the API and register it for the tenant."""
    from parley.intelligence.actions import run_training_job

    return run_training_job(job_id)
