"""Conversation analytics at batch scale.

Part 1 — batch analysis. Imports SGD dialogues (``../shared/datasets/sgd/train``) and the Twitter
customer-support threads (``twcs/twcs_first5000.csv``) into a fresh bench tenant, then runs the full
analysis: the intelligence pipeline on every customer turn (intent, out of scope, sentiment,
language, with a fast BANKING77 intent model and the sentiment head registered as defaults), then
flow, failure points and metrics per conversation (facts) and the daily roll-ups. Figure:
conversations analysed per second; baseline: raw MiniLM ``model.encode`` of the same customer turns
in the same run (conversations per second if encoding were all there was). Target ratio ≥ 0.7.

Part 2 — API at volume. Generates 1,000,000 synthetic messages (100,000 conversations) with bulk SQL
(generate_series) in the bench data dir (kept between runs), derives their facts through the product
path, then times every analytics API endpoint (in-process HTTP stack, owner API key), 15 calls each.
Figure: p95 of the slowest endpoint; baseline: one aggregate over the raw 1M messages (reply-time
average with a window function), the query the facts table replaces. Target p95 ≤ 300 ms.

    .venv/bin/python bench/analytics_batch.py [--sgd-limit 400] [--synthetic-messages 1000000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import REPO, emit, percentile, setup_django

ENDPOINTS = [
    ("summary", "/api/v1/analytics/summary/", {}),
    ("summary_business_hours", "/api/v1/analytics/summary/", {"business_hours": "true"}),
    ("summary_month", "/api/v1/analytics/summary/", {"start": "2026-03-01", "end": "2026-03-31"}),
    ("summary_intent", "/api/v1/analytics/summary/", {"intent": "card_arrival"}),
    ("breakdown_intent", "/api/v1/analytics/breakdown/", {"by": "intent"}),
    ("breakdown_channel", "/api/v1/analytics/breakdown/", {"by": "channel_type"}),
    ("breakdown_language", "/api/v1/analytics/breakdown/", {"by": "language"}),
    ("timeseries", "/api/v1/analytics/timeseries/", {}),
    ("csat", "/api/v1/analytics/csat/", {}),
    ("flow", "/api/v1/analytics/flow/", {}),
    ("failures", "/api/v1/analytics/failures/", {}),
    ("agents", "/api/v1/analytics/agents/", {}),
    ("economics", "/api/v1/analytics/economics/", {}),
    ("drilldown", "/api/v1/analytics/conversations/", {"failure_kind": "repeated_question"}),
]
INTENTS = [
    "card_arrival",
    "lost_or_stolen_card",
    "refund_not_showing_up",
    "exchange_rate",
    "top_up_failed",
    "pin_blocked",
    "transfer_timing",
    "cash_withdrawal_charge",
]


def _drop_tenant(slug: str) -> None:
    """Remove a bench tenant and its rows (bulk SQL: Django's collector is slow on a million rows)."""
    from django.db import connection

    from parley.accounts.models import Tenant

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        return
    with connection.cursor() as cursor:
        for table in (
            "analytics_conversationfact",
            "analytics_dailyrollup",
            "analytics_qascore",
            "analytics_csatsurvey",
            "conversations_attachment",
            "conversations_message",
            "conversations_conversation",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [str(tenant.id)])
    tenant.delete()


def _train_default_models(root: Path) -> None:
    """A fast BANKING77 intent model and the sentiment head, registered as shared defaults (as intent_speed does)."""
    from parley.intelligence import actions
    from parley.intelligence.registry import forget_promotions
    from parley.intelligence.training import train_intent, train_sentiment

    out = Path(tempfile.mkdtemp(prefix="analytics-", dir=REPO / ".parley-bench-analytics"))
    train_intent("banking77", root / "banking77", out / "intent", grid={"c": [30.0], "tfidf_weight": [1.0]}, progress=False)
    train_sentiment([("tweeteval", root / "tweeteval_sentiment")], out / "sentiment", grid={"c": [1.0]}, progress=False)
    for kind in ("intent", "sentiment"):
        actions.set_default_model_version(version=actions.register_model_version(directory=out / kind))
    forget_promotions()


def batch_analysis(root: Path, sgd_limit: int) -> dict[str, Any]:
    from parley.accounts import actions as account_actions
    from parley.analytics.batch import analyse_tenant
    from parley.analytics.models import ConversationFact
    from parley.conversations.models import Message
    from parley.intelligence.actions import import_dataset
    from parley.intelligence.embeddings import get_sentence_model
    from parley.intelligence.pipeline import warm_up

    _drop_tenant("bench-batch")
    tenant = account_actions.create_tenant(slug="bench-batch", name="Bench batch")
    import_dataset(tenant, "sgd", root / "sgd" / "train", limit=sgd_limit, progress=False)
    import_dataset(tenant, "twcs", root / "twcs" / "twcs_first5000.csv", progress=False)
    texts = list(Message.objects.filter(tenant=tenant, sender_type="customer").exclude(text="").values_list("text", flat=True))
    model = get_sentence_model()
    warm_up()
    model.encode(texts[:64], batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    started = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    raw_s = time.perf_counter() - started
    started = time.perf_counter()
    result = analyse_tenant(tenant)
    pipeline_s = time.perf_counter() - started
    facts = ConversationFact.objects.filter(tenant=tenant)
    conversations = result.conversations
    return {
        "conversations": conversations,
        "customer_turns": len(texts),
        "messages_analysed": result.messages_analysed,
        "figure_conversations_per_second": round(conversations / pipeline_s, 1),
        "baseline_raw_encode_conversations_per_second": round(conversations / raw_s, 1),
        "ratio": round(raw_s / pipeline_s, 4),
        "stage_seconds": {
            "analysis": round(result.analysis_s, 2),
            "facts_flow_failures": round(result.facts_s, 2),
            "rollups": round(result.rollups_s, 2),
            "raw_encode": round(raw_s, 2),
        },
        "with_failure_points": facts.filter(failure_count__gt=0).count(),
        "sgd_with_act_paths": facts.filter(source="sgd").exclude(act_path=[]).count(),
    }


def _generate_synthetic(tenant: Any, n_messages: int) -> float:
    """Bulk-insert conversations and messages with generate_series (10 messages per conversation)."""
    from django.db import connection

    from parley.analytics.batch import analyse_tenant
    from parley.connectors.models import Channel

    n_conversations = n_messages // 10
    channels = [
        Channel.objects.create(tenant=tenant, type=t, name=f"synthetic {t}")
        for t in ("webchat", "whatsapp", "email", "messenger")
    ]
    started = time.perf_counter()
    params = {
        "tenant": str(tenant.id),
        "n": n_conversations,
        "channels": [str(c.id) for c in channels],
        "intents": INTENTS,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_customer (id, created_at, updated_at, metadata, tenant_id, name, email, phone, language, external_ref, memory_summary)
            SELECT md5('cust' || g)::uuid, now(), now(), '{}', %(tenant)s, 'Customer ' || g, '', '', 'en', '', ''
            FROM generate_series(1, %(n)s / 3) g
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO conversations_conversation (id, created_at, updated_at, metadata, tenant_id, channel_id, customer_id, team, status,
                priority, labels, subject, language, source, external_id, last_message_at, first_response_at, handed_over_at,
                assigned_at, resolved_at, closed_at, unread_count, message_count)
            SELECT md5('conv' || g)::uuid, t0, t0 + interval '30 minutes', '{}', %(tenant)s, (%(channels)s::uuid[])[1 + g %% 4],
                md5('cust' || (1 + g %% (%(n)s / 3)))::uuid, CASE WHEN g %% 5 = 0 THEN 'billing' ELSE 'support' END,
                CASE WHEN g %% 10 < 7 THEN 'resolved' WHEN g %% 10 = 7 THEN 'pending_human' ELSE 'closed' END,
                'normal', '[]', '', 'en', 'synthetic', '', t0 + interval '20 minutes', t0 + (g %% 90) * interval '1 second',
                CASE WHEN g %% 10 = 7 THEN t0 + interval '10 minutes' END, NULL,
                CASE WHEN g %% 10 < 7 THEN t0 + interval '25 minutes' END, CASE WHEN g %% 10 >= 8 THEN t0 + interval '30 minutes' END, 0, 10
            FROM (SELECT g, timestamptz '2026-01-01' + (g * interval '1 minute') * (180.0 * 24 * 60 / %(n)s) AS t0
                  FROM generate_series(1, %(n)s) g) s
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO conversations_message (id, created_at, updated_at, metadata, tenant_id, conversation_id, channel_id, direction,
                sender_type, text, content_type, is_private, external_id, provider_message_id, delivery_status, delivery_error,
                delivery_attempts, buttons, analysis, sending_started_at)
            SELECT md5('msg' || g || '-' || k)::uuid, c.created_at + k * interval '2 minutes' + (g %% 60) * interval '1 second', now(), '{}',
                %(tenant)s, c.id, c.channel_id,
                CASE WHEN k %% 2 = 0 THEN 'inbound' ELSE 'outbound' END,
                CASE WHEN k %% 2 = 0 THEN 'customer' ELSE 'assistant' END,
                'synthetic message ' || k, 'text', false, '', '', 'delivered', '', 0, '[]',
                CASE WHEN k %% 2 = 0 THEN jsonb_build_object(
                    'intent', (%(intents)s::text[])[1 + ((g + k / 4) %% 8)],
                    'intent_confidence', 0.9, 'out_of_scope', (g + k) %% 23 = 0,
                    'sentiment', CASE WHEN (g * 7 + k) %% 9 = 0 THEN 'negative' WHEN (g + k) %% 3 = 0 THEN 'positive' ELSE 'neutral' END,
                    'sentiment_score', CASE WHEN (g * 7 + k) %% 9 = 0 THEN -0.7 WHEN (g + k) %% 3 = 0 THEN 0.6 ELSE 0.0 END,
                    'language', 'en', 'model_version', 'synthetic') ELSE '{}'::jsonb END,
                NULL
            FROM generate_series(1, %(n)s) g
            JOIN conversations_conversation c ON c.id = md5('conv' || g)::uuid
            CROSS JOIN generate_series(0, 9) k
            """,
            params,
        )
    connection.cursor().execute("ANALYZE conversations_message; ANALYZE conversations_conversation;")
    analyse_tenant(tenant, analyse=False, chunk=1000)
    connection.cursor().execute("ANALYZE analytics_conversationfact; ANALYZE analytics_dailyrollup;")
    return time.perf_counter() - started


def api_at_volume(n_messages: int, calls: int) -> dict[str, Any]:
    from django.db import connection
    from rest_framework.test import APIClient

    from parley.accounts import actions as account_actions
    from parley.accounts.models import Tenant
    from parley.conversations.models import Message

    tenant = Tenant.objects.filter(slug="bench-volume").first()
    if tenant is not None and Message.objects.filter(tenant=tenant).count() != n_messages:
        _drop_tenant("bench-volume")
        tenant = None
    generated_s = None
    if tenant is None:
        tenant = account_actions.create_tenant(slug="bench-volume", name="Bench volume")
        generated_s = _generate_synthetic(tenant, n_messages)
    key = account_actions.create_api_key(tenant=tenant, name="bench", role="owner")
    client = APIClient(SERVER_NAME="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.secret}")
    timings: dict[str, list[float]] = {}
    for name, path, params in ENDPOINTS:
        response = client.get(path, params)
        assert response.status_code == 200, (name, response.status_code, response.content[:300])
        for _ in range(calls):
            started = time.perf_counter()
            response = client.get(path, params)
            timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    p95 = {name: round(percentile(values, 95), 1) for name, values in timings.items()}
    slowest = max(p95, key=lambda n: p95[n])
    baseline = []
    for _ in range(3):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT avg(extract(epoch FROM created_at - prev)) FROM (
                    SELECT created_at, sender_type,
                           lag(created_at) OVER (PARTITION BY conversation_id ORDER BY created_at) AS prev,
                           lag(sender_type) OVER (PARTITION BY conversation_id ORDER BY created_at) AS prev_sender
                    FROM conversations_message WHERE tenant_id = %s) m
                WHERE sender_type <> 'customer' AND prev_sender = 'customer'
                """,
                [str(tenant.id)],
            )
            cursor.fetchone()
        baseline.append((time.perf_counter() - started) * 1000)
    return {
        "messages": Message.objects.filter(tenant=tenant).count(),
        "generated_and_derived_s": round(generated_s, 1) if generated_s is not None else "reused",
        "figure_slowest_endpoint_p95_ms": p95[slowest],
        "slowest_endpoint": slowest,
        "baseline_raw_messages_aggregate_ms": round(min(baseline), 1),
        "ratio": round(p95[slowest] / min(baseline), 4),
        "p95_ms_by_endpoint": p95,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sgd-limit", type=int, default=400, help="SGD dialogues to import (1,280 in the train sample)")
    parser.add_argument("--synthetic-messages", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--skip-volume", action="store_true")
    args = parser.parse_args()
    services = setup_django("bench-analytics")
    try:
        from parley.intelligence.datasets import datasets_dir

        root = Path(os.environ.get("PARLEY_DATASETS_DIR", datasets_dir()))
        payload: dict[str, Any] = {"bench": "analytics_batch"}
        if not args.skip_batch:
            _train_default_models(root)
            payload["batch"] = batch_analysis(root, args.sgd_limit)
        if not args.skip_volume:
            payload["api"] = api_at_volume(args.synthetic_messages, args.calls)
        payload["targets"] = {"batch_ratio": 0.7, "api_p95_ms": 300}
        emit(payload)
    finally:
        services.stop()


if __name__ == "__main__":
    main()
