"""Batch analysis of stored conversations (imports, backfills): message analysis, facts, roll-ups."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Min

from parley.analytics import actions
from parley.analytics.metrics.cube import local_day
from parley.analytics.rollups import rebuild_rollups
from parley.conversations.models import Conversation, Message


@dataclass
class BatchResult:
    """What a batch run did, and how long each stage took (seconds)."""

    conversations: int = 0
    messages_analysed: int = 0
    facts_written: int = 0
    rollup_rows: int = 0
    analysis_s: float = 0.0
    facts_s: float = 0.0
    rollups_s: float = 0.0


def analyse_tenant(
    tenant: Any, *, source: str | None = None, analyse: bool = True, chunk: int = 512, analysis_chunk: int = 4096
) -> BatchResult:
    """Analyse the tenant's unanalysed customer messages, then derive facts (flow, failure points,
    metrics) for its conversations and rebuild the daily roll-ups.

    Args:
        tenant: whose conversations.
        source: only conversations imported from this dataset (``sgd``, ``twcs``, ...), or ``live``.
        analyse: run the intelligence pipeline on messages without an analysis first.
        chunk: conversations per fact batch.
        analysis_chunk: distinct texts per call of the intelligence pipeline (``analyse_batch``).
    """
    result = BatchResult()
    conversations = Conversation.objects.filter(tenant=tenant)
    if source:
        conversations = conversations.filter(source=source)
    if analyse:
        started = time.perf_counter()
        result.messages_analysed = _analyse_messages(tenant, conversations, analysis_chunk)
        result.analysis_s = time.perf_counter() - started
    started = time.perf_counter()
    ids = [str(i) for i in conversations.order_by("created_at").values_list("id", flat=True)]
    result.conversations = len(ids)
    for i in range(0, len(ids), chunk):
        result.facts_written += actions.refresh_facts(ids[i : i + chunk])
    result.facts_s = time.perf_counter() - started
    started = time.perf_counter()
    bounds = conversations.aggregate(lo=Min("created_at"), hi=Max("created_at"))
    if bounds["lo"] is not None and bounds["hi"] is not None:
        result.rollup_rows = rebuild_rollups(tenant.id, local_day(bounds["lo"]), local_day(bounds["hi"]))
    result.rollups_s = time.perf_counter() - started
    return result


def _analyse_messages(tenant: Any, conversations: Any, chunk: int) -> int:
    """Run the intelligence pipeline once per distinct text (a text's analysis depends only on the text and
    the tenant's models), in large batches so the embedder sorts and pads well, and store the results."""
    from parley.intelligence.pipeline import analyse_batch

    by_text: dict[str, list[Any]] = {}
    pending = (
        Message.objects.filter(tenant=tenant, sender_type="customer", analysis={}, conversation__in=conversations)
        .exclude(text="")
        .values_list("id", "text")
    )
    for message_id, text in pending.iterator(chunk_size=5000):
        by_text.setdefault(text, []).append(message_id)
    texts = list(by_text)
    written = 0
    for i in range(0, len(texts), chunk):
        batch = texts[i : i + chunk]
        analyses = analyse_batch(batch, tenant_id=str(tenant.id))
        dumped = {
            message_id: analysis.model_dump()
            for text, analysis in zip(batch, analyses, strict=True)
            for message_id in by_text[text]
        }
        written += actions.save_message_analyses(tenant=tenant, analyses=dumped)
    return written
