"""Derive one ``ConversationFact`` per conversation from stored messages, timestamps and events.

Idempotent: refreshing a conversation twice gives the same row. Celery refreshes conversations
that changed since their fact was computed (see :mod:`parley.analytics.tasks`).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from parley.accounts.models import Tenant
from parley.analytics import adapters
from parley.analytics.business_hours import BusinessHours, InvalidBusinessHours, business_seconds
from parley.analytics.failures import FailureSettings, detect_failures
from parley.analytics.flow import TURN_COLUMNS, act_sequence, state_path, turn_from_row
from parley.analytics.interface import Turn
from parley.analytics.models import ConversationFact, CsatSurvey, Outcome, QAScore
from parley.conversations.models import Conversation, ConversationStatus, Message

PAYMENT_INTENT = re.compile(r"pay|purchase|checkout|buy", re.IGNORECASE)
RESOLVED_STATUSES = (ConversationStatus.RESOLVED, ConversationStatus.CLOSED)


@dataclass(frozen=True)
class AnalyticsSettings:
    """Per-tenant analytics settings (``Tenant.settings["analytics"]``)."""

    reopen_days: int = 7
    abandon_minutes: int = 30
    failed_turns_before_handover: int = 2
    business_hours: BusinessHours | None = None

    @classmethod
    def for_tenant(cls, tenant: Tenant) -> AnalyticsSettings:
        raw = (tenant.settings or {}).get("analytics", {}) if isinstance(tenant.settings, dict) else {}
        try:
            hours = BusinessHours.from_settings(tenant.settings if isinstance(tenant.settings, dict) else {})
        except InvalidBusinessHours:
            hours = None
        return cls(
            reopen_days=int(raw.get("reopen_days", 7)),
            abandon_minutes=int(raw.get("abandon_minutes", 30)),
            failed_turns_before_handover=int(raw.get("failed_turns_before_handover", 2)),
            business_hours=hours,
        )


def load_turns(conversation_ids: Sequence[Any]) -> dict[str, list[Turn]]:
    """Non-private messages of each conversation as :class:`Turn` lists, oldest first."""
    turns: dict[str, list[Turn]] = defaultdict(list)
    rows = (
        Message.objects.filter(conversation_id__in=list(conversation_ids), is_private=False)
        .order_by("conversation_id", "created_at", "id")
        .values_list("conversation_id", *TURN_COLUMNS)
    )
    for row in rows.iterator(chunk_size=5000):
        bucket = turns[str(row[0])]
        bucket.append(turn_from_row(len(bucket), row[1:]))
    return turns


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _reopened_conversations(conversations: Sequence[Conversation], turns: dict[str, list[Turn]], days: int) -> set[str]:
    """Resolved conversations the customer came back to within ``days`` (same thread or a new one)."""
    reopened: set[str] = set()
    resolved = [c for c in conversations if c.resolved_at is not None]
    if not resolved:
        return reopened
    for conversation in resolved:
        assert conversation.resolved_at is not None
        if any(t.from_customer and t.created_at > conversation.resolved_at for t in turns.get(str(conversation.id), [])):
            reopened.add(str(conversation.id))
    customers = {c.customer_id for c in resolved}
    earliest = min(c.resolved_at for c in resolved if c.resolved_at)
    csat_only = set(
        CsatSurvey.objects.filter(customer_id__in=customers, answer_message__isnull=False).values_list(
            "answer_message__conversation_id", flat=True
        )
    )
    later: dict[Any, list[tuple[datetime, Any]]] = defaultdict(list)
    for conversation_id, customer_id, created_at, message_count in Conversation.objects.filter(
        customer_id__in=customers, created_at__gt=earliest
    ).values_list("id", "customer_id", "created_at", "message_count"):
        if conversation_id in csat_only and message_count <= 2:
            continue
        later[customer_id].append((created_at, conversation_id))
    for conversation in resolved:
        assert conversation.resolved_at is not None
        limit = conversation.resolved_at + timedelta(days=days)
        for created_at, other_id in later.get(conversation.customer_id, []):
            if other_id != conversation.id and conversation.resolved_at < created_at <= limit:
                reopened.add(str(conversation.id))
                break
    return reopened


def build_fact(
    conversation: Conversation,
    turns: list[Turn],
    *,
    now: datetime,
    settings: AnalyticsSettings,
    reopened: bool,
    csat: int | None = None,
    qa: float | None = None,
    usage: adapters.LLMUsage | None = None,
    tools: Sequence[Any] = (),
    handover_reason: str = "",
    prompt_version: str = "",
    converted: bool = False,
) -> ConversationFact:
    """The fact row of one conversation (not saved)."""
    hours = settings.business_hours
    customer_turns = [t for t in turns if t.from_customer]
    replies = [t for t in turns if t.is_reply]
    agent_turns = [t for t in replies if t.sender_type == "agent"]
    started_at = conversation.created_at
    first_customer = customer_turns[0].created_at if customer_turns else started_at
    first_reply = next((t.created_at for t in replies if t.created_at >= first_customer), None)
    if first_reply is None and conversation.first_response_at is not None:
        first_reply = conversation.first_response_at
    reply_times: list[float] = []
    reply_bh = 0.0
    waiting_since: datetime | None = None
    for turn in turns:
        if turn.from_customer:
            waiting_since = waiting_since or turn.created_at
        elif turn.is_reply and waiting_since is not None:
            reply_times.append(max(0.0, (turn.created_at - waiting_since).total_seconds()))
            reply_bh += business_seconds(hours, waiting_since, turn.created_at) or 0.0
            waiting_since = None
    resolved = conversation.resolved_at is not None and conversation.status in RESOLVED_STATUSES
    handed_over = (
        conversation.handed_over_at is not None
        or bool(agent_turns)
        or conversation.status in (ConversationStatus.PENDING_HUMAN, ConversationStatus.ASSIGNED)
    )
    last_turn = turns[-1] if turns else None
    last_at = last_turn.created_at if last_turn else conversation.last_message_at
    idle = last_at is not None and (now - last_at) > timedelta(minutes=settings.abandon_minutes)
    abandoned = (
        not resolved
        and last_turn is not None
        and last_turn.is_reply
        and last_turn.sender_type == "assistant"
        and (
            conversation.status == ConversationStatus.CLOSED or (idle and conversation.status != ConversationStatus.PENDING_HUMAN)
        )
    )
    if resolved:
        outcome = Outcome.RESOLVED_BY_AGENT if handed_over else Outcome.RESOLVED_BY_AI
    elif abandoned:
        outcome = Outcome.ABANDONED
    elif handed_over:
        outcome = Outcome.HANDED_OVER
    else:
        outcome = Outcome.OPEN
    human_start = conversation.assigned_at or conversation.handed_over_at or (agent_turns[0].created_at if agent_turns else None)
    end = conversation.resolved_at if resolved else (agent_turns[-1].created_at if agent_turns else last_at)
    handle_s = (
        _seconds(human_start, end) if handed_over else _seconds(started_at, conversation.resolved_at if resolved else last_at)
    )
    queue_end = conversation.assigned_at or next(
        (t.created_at for t in agent_turns if conversation.handed_over_at and t.created_at >= conversation.handed_over_at), None
    )
    queue_wait = _seconds(conversation.handed_over_at, queue_end) if conversation.handed_over_at else None
    scores = [t.sentiment_score for t in customer_turns if t.sentiment_score is not None]
    intents = [t.intent for t in customer_turns if t.intent and not t.out_of_scope]
    topic = next((t.topic for t in turns if t.topic), "") or (str(conversation.labels[0]) if conversation.labels else "")
    languages = Counter(t.language for t in customer_turns if t.language)
    agent_id = conversation.assignee_id or next((t.sender_user_id for t in reversed(agent_turns) if t.sender_user_id), None)
    failures = detect_failures(
        turns,
        abandoned=abandoned,
        handed_over_at=conversation.handed_over_at,
        tool_calls=tools,
        settings=FailureSettings(failed_turns_before_handover=settings.failed_turns_before_handover),
    )
    durable: bool | None = None
    if resolved and conversation.resolved_at is not None:
        if reopened:
            durable = False
        elif now - conversation.resolved_at >= timedelta(days=settings.reopen_days):
            durable = True
    usage = usage or adapters.LLMUsage()
    path = state_path(turns, "", conversation.handed_over_at)[1:-1]
    return ConversationFact(
        tenant_id=conversation.tenant_id,
        conversation_id=conversation.id,
        started_at=started_at,
        channel_id=conversation.channel_id,
        channel_type=getattr(conversation.channel, "type", ""),
        assistant_id=conversation.assistant_id,
        agent_id=agent_id,
        team=conversation.team or "",
        intent=(intents[0] if intents else "")[:120],
        topic=topic[:120],
        language=(conversation.language or (languages.most_common(1)[0][0] if languages else ""))[:10],
        source=conversation.source or "",
        customer_id=conversation.customer_id,
        prompt_version=prompt_version[:100],
        status=conversation.status,
        outcome=outcome,
        first_response_s=_seconds(first_customer, first_reply),
        first_response_bh_s=business_seconds(hours, first_customer, first_reply),
        reply_count=len(reply_times),
        reply_total_s=float(sum(reply_times)),
        reply_total_bh_s=reply_bh,
        reply_median_s=statistics.median(reply_times) if reply_times else None,
        reply_times=reply_times,
        handle_s=handle_s,
        resolution_s=_seconds(started_at, conversation.resolved_at) if resolved else None,
        resolution_bh_s=business_seconds(hours, started_at, conversation.resolved_at) if resolved else None,
        queue_wait_s=queue_wait,
        resolved=resolved,
        ai_resolved=resolved and not handed_over,
        handed_over=handed_over,
        handover_reason=handover_reason[:200],
        reopened=reopened,
        durable=durable,
        abandoned=abandoned,
        customer_messages=len(customer_turns),
        assistant_messages=sum(1 for t in replies if t.sender_type == "assistant"),
        agent_messages=len(agent_turns),
        sentiment_first=scores[0] if scores else None,
        sentiment_last=scores[-1] if scores else None,
        negative_messages=sum(1 for t in customer_turns if t.sentiment == "negative"),
        analysed_messages=sum(1 for t in customer_turns if t.analysed),
        failure_count=len(failures),
        failure_kinds=sorted({f.kind for f in failures}),
        failure_points=[f.as_dict() for f in failures[:20]],
        intent_path=path[:50],
        act_path=act_sequence(turns)[:200],
        csat_score=csat,
        qa_score=qa,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        llm_cost=usage.cost,
        tool_calls=len(tools),
        tool_errors=sum(1 for t in tools if not t.ok),
        payment_intent=any(PAYMENT_INTENT.search(i) for i in intents),
        payment_converted=converted,
        last_message_at=last_at,
        computed_at=now,
    )


_UPDATE_FIELDS = [
    f.name
    for f in ConversationFact._meta.concrete_fields
    if f.name not in ("id", "conversation", "tenant", "created_at", "metadata")
]


def refresh_conversation_facts(conversation_ids: Sequence[Any], *, now: datetime | None = None) -> int:
    """Recompute and upsert the facts of ``conversation_ids``; returns how many rows were written."""
    now = now or timezone.now()
    conversations = list(Conversation.objects.filter(id__in=list(conversation_ids)).select_related("channel", "tenant"))
    if not conversations:
        return 0
    ids = [c.id for c in conversations]
    turns = load_turns(ids)
    settings_by_tenant = {c.tenant_id: AnalyticsSettings.for_tenant(c.tenant) for c in conversations}
    reopened: set[str] = set()
    by_tenant: dict[Any, list[Conversation]] = defaultdict(list)
    for conversation in conversations:
        by_tenant[conversation.tenant_id].append(conversation)
    for tenant_id, group in by_tenant.items():
        reopened |= _reopened_conversations(group, turns, settings_by_tenant[tenant_id].reopen_days)
    csat = {
        str(c): s
        for c, s in CsatSurvey.objects.filter(conversation_id__in=ids, score__isnull=False).values_list(
            "conversation_id", "score"
        )
    }
    qa = {str(q.conversation_id): q.effective_score for q in QAScore.objects.filter(conversation_id__in=ids)}
    usage = adapters.llm_usage(ids)
    tools = adapters.tool_calls(ids)
    reasons = adapters.handover_reasons(ids)
    versions = adapters.prompt_versions(ids)
    converted = adapters.payment_conversions(ids)
    fallbacks = adapters.fallback_replies(ids)
    for conversation_turns in turns.values():
        for turn in conversation_turns:
            if turn.message_id in fallbacks:
                turn.fallback = True
    facts = []
    for conversation in conversations:
        key = str(conversation.id)
        facts.append(
            build_fact(
                conversation,
                turns.get(key, []),
                now=now,
                settings=settings_by_tenant[conversation.tenant_id],
                reopened=key in reopened,
                csat=csat.get(key),
                qa=qa.get(key),
                usage=usage.get(key),
                tools=tools.get(key, []),
                handover_reason=reasons.get(key, "") or str((conversation.metadata or {}).get("handover_reason", "")),
                prompt_version=versions.get(key, "") or str((conversation.metadata or {}).get("prompt_version", "")),
                converted=key in converted,
            )
        )
    for fact in facts:
        fact.updated_at = now
        fact.created_at = now
    ConversationFact.objects.bulk_create(
        facts, batch_size=500, update_conflicts=True, unique_fields=["conversation"], update_fields=_UPDATE_FIELDS
    )
    return len(facts)


def stale_conversation_ids(*, limit: int = 2000, now: datetime | None = None) -> list[str]:
    """Conversations whose fact is missing or older than their latest change (or whose time-based
    measures — abandonment, durable resolution — may have changed)."""
    now = now or timezone.now()
    sql = """
        SELECT c.id FROM conversations_conversation c
        LEFT JOIN analytics_conversationfact f ON f.conversation_id = c.id
        WHERE f.id IS NULL OR c.updated_at > f.computed_at
           OR (f.outcome = 'open' AND f.last_message_at < %(abandon_before)s AND f.computed_at < %(recent)s)
           OR (f.resolved AND f.durable IS NULL AND f.computed_at < %(half_day)s)
        UNION
        SELECT m.conversation_id FROM conversations_message m
        JOIN analytics_conversationfact f ON f.conversation_id = m.conversation_id
        WHERE m.created_at >= %(since)s AND m.updated_at > f.computed_at
        LIMIT %(limit)s
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "abandon_before": now - timedelta(minutes=30),
                "recent": now - timedelta(minutes=30),
                "half_day": now - timedelta(hours=12),
                "since": now - timedelta(days=2),
                "limit": limit,
            },
        )
        return [str(row[0]) for row in cursor.fetchall()]
