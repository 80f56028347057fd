"""Analytics API latency over a 1,000,000-message tenant.

Generates 1,000,000 synthetic messages (100,000 conversations over 180 days, 10 messages each) with
bulk SQL (``generate_series``) in the bench data dir ``.parley-bench-analytics`` (kept between runs, so
re-runs reuse it), derives their facts through the product path (``analyse_tenant``) and makes sure the
daily roll-ups exist, then times every analytics endpoint through the in-process HTTP stack (owner API
key), ``--calls`` times each after one warm-up call.

PDF reports are rendered by a worker: the timed endpoints are the job creation (``POST
/api/v1/analytics/reports/``, a month's report) and its status (``GET …/reports/<id>/``); the jobs they
queue are discarded unrendered. Then a real Celery worker (in a thread, consuming the ``analytics``
queue) is started and one report is asked for through the API and polled until done:
``report_end_to_end_s`` (POST → done, as a user waits for it) and ``report_render_s`` (the worker's
started → finished) are reported beside the figure, not as part of it.

Figure: p95 of the slowest endpoint (and p95 per endpoint). Baselines, measured in the same run: a plain
``SELECT count(*)`` over the tenant's messages, and the raw aggregate the facts replace (reply-time
average with a window function over the 1M messages). Target: p95 <= 300 ms for every endpoint.

    nice -n 10 .venv/bin/python bench/analytics_api.py [--synthetic-messages 1000000] [--calls 15]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from _common import emit, percentile, setup_django

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
    ("summary_two_filters", "/api/v1/analytics/summary/", {"intent": "card_arrival", "channel_type": "whatsapp"}),
    ("breakdown_outcome", "/api/v1/analytics/breakdown/", {"by": "outcome"}),
    ("breakdown_month_agent", "/api/v1/analytics/breakdown/", {"by": "agent", "start": "2026-03-01", "end": "2026-03-31"}),
    ("ab_test", "/api/v1/analytics/ab-test/", {"a": "v1", "b": "v2"}),
    ("drilldown", "/api/v1/analytics/conversations/", {"failure_kind": "repeated_question"}),
    ("drilldown_outcome", "/api/v1/analytics/conversations/", {"outcome": "handed_over"}),
    ("export_summary_csv", "/api/v1/analytics/export/summary/", {}),
    ("export_breakdown_csv", "/api/v1/analytics/export/breakdown/", {"by": "intent"}),
]
REPORT_FILTERS = {"start": "2026-03-01", "end": "2026-03-31"}
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


def drop_tenant(slug: str) -> None:
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


def _ensure_rollups(tenant: Any) -> float | None:
    """Roll up every day of the tenant's facts that has no roll-up yet; returns seconds spent (None: none missing)."""
    from datetime import timedelta

    from django.db.models import Max, Min

    from parley.analytics.metrics.cube import local_day, rolled_up_days
    from parley.analytics.models import ConversationFact, DailyRollup
    from parley.analytics.rollups import rebuild_rollups

    span = ConversationFact.objects.filter(tenant=tenant).aggregate(lo=Min("started_at"), hi=Max("started_at"))
    first, last = local_day(span["lo"]), local_day(span["hi"])
    if len(rolled_up_days(tenant.id, first, last)) == (last - first).days + 1:
        return None
    started = time.perf_counter()
    rebuild_rollups(tenant.id, first, last)
    elapsed = time.perf_counter() - started
    assert DailyRollup.objects.filter(tenant=tenant, dimension="all", day__gte=first, day__lte=last + timedelta(days=1)).exists()
    return elapsed


def _timed_sql(sql: str, params: list[Any], repeats: int = 3) -> float:
    from django.db import connection

    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def api_at_volume(n_messages: int, calls: int) -> dict[str, Any]:
    from django.db import connection
    from rest_framework.test import APIClient

    from parley.accounts import actions as account_actions
    from parley.accounts.models import Tenant
    from parley.conversations.models import Conversation, Message

    tenant = Tenant.objects.filter(slug="bench-volume").first()
    if tenant is not None and Message.objects.filter(tenant=tenant).count() != n_messages:
        drop_tenant("bench-volume")
        tenant = None
    generated_s = None
    if tenant is None:
        tenant = account_actions.create_tenant(slug="bench-volume", name="Bench volume")
        generated_s = _generate_synthetic(tenant, n_messages)
    rollup_s = _ensure_rollups(tenant)
    connection.cursor().execute("ANALYZE analytics_conversationfact; ANALYZE analytics_dailyrollup;")
    key = account_actions.create_api_key(tenant=tenant, name="bench", role="owner")
    client = APIClient(SERVER_NAME="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.secret}")
    endpoints = list(ENDPOINTS)
    some = Conversation.objects.filter(tenant=tenant).order_by("created_at").values_list("id", flat=True).first()
    endpoints.append(("conversation_detail", f"/api/v1/analytics/conversations/{some}/", {}))
    timings: dict[str, list[float]] = {}
    for name, path, params in endpoints:
        response = client.get(path, params)
        assert response.status_code == 200, (name, response.status_code, response.content[:300])
        for _ in range(calls):
            started = time.perf_counter()
            response = client.get(path, params)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
            timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    timings.update(_time_report_jobs(client, tenant, calls))
    p95 = {name: round(percentile(values, 95), 1) for name, values in timings.items()}
    slowest = max(p95, key=lambda n: p95[n])
    count_ms = _timed_sql("SELECT count(*) FROM conversations_message WHERE tenant_id = %s", [str(tenant.id)])
    raw_ms = _timed_sql(
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
    return {
        "messages": Message.objects.filter(tenant=tenant).count(),
        "conversations": Conversation.objects.filter(tenant=tenant).count(),
        "generated_and_derived_s": round(generated_s, 1) if generated_s is not None else "reused",
        "rollup_rebuild_s": round(rollup_s, 1) if rollup_s is not None else "reused",
        "calls_per_endpoint": calls,
        "figure_slowest_endpoint_p95_ms": p95[slowest],
        "slowest_endpoint": slowest,
        "baseline_count_messages_ms": round(count_ms, 1),
        "ratio_slowest_p95_to_count": round(p95[slowest] / count_ms, 3),
        "baseline_raw_reply_time_aggregate_ms": round(raw_ms, 1),
        "endpoints_over_300ms": sorted(name for name, value in p95.items() if value > 300),
        "p95_ms_by_endpoint": p95,
        **_report_by_a_worker(client),
    }


def _time_report_jobs(client: Any, tenant: Any, calls: int) -> dict[str, list[float]]:
    """Time asking for a report (POST, 202) and reading its status; the queued jobs are then discarded."""
    from parley.analytics.models import ReportJob
    from parley.config.celery import app

    timings: dict[str, list[float]] = {"report_job_create": [], "report_job_status": []}
    created: list[str] = []
    for attempt in range(calls + 1):
        started = time.perf_counter()
        response = client.post("/api/v1/analytics/reports/", REPORT_FILTERS, format="json")
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 202, (response.status_code, response.content[:300])
        created.append(response.json()["id"])
        if attempt:  # the first call warms up
            timings["report_job_create"].append(elapsed)
    for attempt in range(calls + 1):
        started = time.perf_counter()
        response = client.get(f"/api/v1/analytics/reports/{created[0]}/")
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200 and response.json()["status"] == "queued"
        if attempt:
            timings["report_job_status"].append(elapsed)
    with app.connection_for_write() as connection:  # no worker ran: drop the queued render tasks with their jobs
        connection.default_channel.queue_purge("analytics")
    ReportJob.objects.filter(tenant=tenant, id__in=created).delete()
    return timings


def _report_by_a_worker(client: Any, timeout_s: float = 600.0) -> dict[str, Any]:
    """A month's report asked for through the API and rendered by a real worker, twice (the first in a
    fresh worker process imports matplotlib): POST → done as the user waits, and the worker's render time."""
    from datetime import datetime

    from celery.contrib.testing.worker import start_worker

    from parley.config.celery import app

    runs: list[tuple[float, float, int]] = []
    with start_worker(app, pool="solo", concurrency=1, queues=["analytics"], perform_ping_check=False, loglevel="WARNING"):
        for _ in range(2):
            started = time.perf_counter()
            job = client.post("/api/v1/analytics/reports/", REPORT_FILTERS, format="json").json()
            while job["status"] not in ("done", "failed") and time.perf_counter() < started + timeout_s:
                time.sleep(0.05)
                job = client.get(f"/api/v1/analytics/reports/{job['id']}/").json()
            end_to_end = time.perf_counter() - started
            assert job["status"] == "done", job
            pdf = client.get(job["download_url"])
            content = b"".join(pdf.streaming_content)
            assert pdf.status_code == 200 and content.startswith(b"%PDF")
            render = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])
            runs.append((end_to_end, render.total_seconds(), len(content)))
    (cold_e2e, cold_render, _), (warm_e2e, warm_render, size) = runs
    return {
        "report_end_to_end_s": round(warm_e2e, 2),
        "report_render_s": round(warm_render, 2),
        "report_end_to_end_first_in_new_worker_s": round(cold_e2e, 2),
        "report_render_first_in_new_worker_s": round(cold_render, 2),
        "report_pdf_bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic-messages", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=15)
    args = parser.parse_args()
    services = setup_django("bench-analytics")
    try:
        emit({"bench": "analytics_api", **api_at_volume(args.synthetic_messages, args.calls), "target_p95_ms": 300})
    finally:
        services.stop()


if __name__ == "__main__":
    main()
