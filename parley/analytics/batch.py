"""Batch analysis of stored conversations (imports, backfills): message analysis, facts, roll-ups."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Min

from parley.analytics import actions
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


def analyse_tenant(tenant: Any, *, source: str | None = None, analyse: bool = True, chunk: int = 512) -> BatchResult:
    """Analyse the tenant's unanalysed customer messages, then derive facts (flow, failure points,
    metrics) for its conversations and rebuild the daily roll-ups.

    Args:
        tenant: whose conversations.
        source: only conversations imported from this dataset (``sgd``, ``twcs``, ...), or ``live``.
        analyse: run the intelligence pipeline on messages without an analysis first.
        chunk: messages / conversations per batch.
    """
    result = BatchResult()
    conversations = Conversation.objects.filter(tenant=tenant)
    if source:
        conversations = conversations.filter(source=source)
    if analyse:
        from parley.intelligence.actions import analyse_stored_messages

        started = time.perf_counter()
        pending = list(
            Message.objects.filter(tenant=tenant, sender_type="customer", analysis={}, conversation__in=conversations)
            .exclude(text="")
            .order_by("conversation_id", "created_at")
            .values_list("id", flat=True)
        )
        for i in range(0, len(pending), chunk):
            result.messages_analysed += analyse_stored_messages(message_ids=pending[i : i + chunk], batch_size=chunk)
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
        result.rollup_rows = rebuild_rollups(tenant.id, bounds["lo"].date(), bounds["hi"].date())
    result.rollups_s = time.perf_counter() - started
    return result
