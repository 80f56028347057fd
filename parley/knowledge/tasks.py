"""Background work: indexing on the ``embeddings`` queue (the model is loaded once per worker process),
source syncs on ``default``, and a nightly re-sync of web sources."""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab
from django.utils import timezone

from parley.config.celery import ParleyTask, app
from parley.knowledge import actions
from parley.knowledge.models import KnowledgeSource, SourceKind


@app.task(bind=True, base=ParleyTask, name="parley.knowledge.index_document", queue="embeddings")
def index_document_task(self: ParleyTask, document_id: str, force: bool = False) -> str:
    """Index one document. Idempotent: an already indexed checksum is skipped unless ``force``."""
    document = actions.index_document(document_id=document_id, force=force)
    return "missing" if document is None else str(document.status)


@app.task(bind=True, base=ParleyTask, name="parley.knowledge.sync_source", queue="default", max_retries=2)
def sync_source_task(self: ParleyTask, source_id: str) -> dict[str, int] | str:
    """Fetch a URL / sitemap source; unchanged pages are no-ops, so a retry is harmless."""
    source = KnowledgeSource.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return "missing"
    return actions.sync_source(source=source)


@app.task(bind=True, base=ParleyTask, name="parley.knowledge.sync_due_sources", queue="default")
def sync_due_sources_task(self: ParleyTask) -> int:
    """Queue a sync of every enabled web source not synced in the last 24 hours."""
    cutoff = timezone.now() - timedelta(hours=24)
    due = KnowledgeSource.objects.filter(enabled=True, kind__in=[SourceKind.URL, SourceKind.SITEMAP]).exclude(
        last_synced_at__gte=cutoff
    )
    ids = [str(pk) for pk in due.values_list("pk", flat=True)]
    for source_id in ids:
        sync_source_task.apply_async(args=[source_id])
    return len(ids)


app.conf.beat_schedule.update(
    {
        "knowledge-sync-web-sources": {
            "task": "parley.knowledge.sync_due_sources",
            "schedule": crontab(minute=17, hour=3),
        }
    }
)
