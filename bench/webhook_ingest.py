"""Signed WhatsApp text webhooks accepted end-to-end per second by one ASGI process (uvicorn), against
a bare ASGI endpoint returning 200 (another uvicorn process, same client, same run).

"Accepted" = what the endpoint does before its 200: signature verified, payload shape checked,
the raw payload stored durably in the webhook inbox (one idempotent INSERT per channel) and its
processing task enqueued on the ``webhooks`` queue. Messages are stored by the worker afterwards.

After the timed run the script starts a real Celery worker on the ``webhooks`` queue, waits until
every inbox row is processed, and verifies that every message of the run was stored exactly once
and that exactly one assistant turn per message is waiting on the ``assistant`` queue (reported as
``stored``, ``turns_enqueued`` and ``verified``; a failed check exits non-zero). The drain time is
reported too (``worker_drain_s``) but not timed against the baseline.
Ack latency is reported twice: at saturation (the closed loop above: with 8 requests always in flight
it is mostly the client's own queue) and under a steady open-loop load at half the rate the endpoint
just sustained (latencies counted from each request's scheduled time), for both endpoints.
Targets: ratio ≥ 0.4, p95 ack latency ≤ 25 ms (steady load).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from typing import Any

from _common import REPO, emit, free_port, setup_django, summary

APP_SECRET = "bench-app-secret"


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The baseline: read the body, answer 200 ``{"status": "ok"}``."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"status": "ok"}'})


def payload(phone_number_id: str, index: int, run: str) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
                                "contacts": [
                                    {"profile": {"name": f"Customer {index % 50}"}, "wa_id": f"1650555{index % 50:04d}"}
                                ],
                                "messages": [
                                    {
                                        "from": f"1650555{index % 50:04d}",
                                        "id": f"wamid.bench.{run}.{index}",
                                        "timestamp": str(int(time.time())),
                                        "type": "text",
                                        "text": {"body": f"Where is my order #{1000 + index}?"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


async def hammer(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[float]]:
    import httpx

    latencies: list[float] = []
    queue = list(reversed(bodies))
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
                started = time.perf_counter()
                response = await client.post(
                    url, content=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature}
                )
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies


async def steady(url: str, bodies: list[bytes], rate: float) -> list[float]:
    """Open-loop load: one webhook every ``1/rate`` s whatever the answers do; each latency is counted from
    the request's scheduled time, so a server falling behind cannot hide its queue (no coordinated omission)."""
    import httpx

    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64)) as client:

        async def one(body: bytes, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            response = await client.post(
                url, content=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature}
            )
            latencies.append((time.perf_counter() - due) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}: {response.text[:200]}")

        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(body, start + index / rate) for index, body in enumerate(bodies)))
    return latencies


def start_server(app: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="parley.config.settings",
        PARLEY_LOG_LEVEL="WARNING",
        PYTHONPATH=f"{REPO}:{REPO / 'bench'}",
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--lifespan",
            "off",
        ],
        env=env,
        cwd=REPO,
    )


def wait_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 300
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit(f"server for {url} did not start") from None
            time.sleep(0.2)


def drain_inbox(channel_id: str, expected: int, timeout: float = 900) -> float:
    """Run a real worker on the ``webhooks`` queue until ``expected`` inbox rows are processed."""
    from parley.connectors.models import WebhookEvent, WebhookEventStatus

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="parley.config.settings", PARLEY_LOG_LEVEL="WARNING", PYTHONPATH=str(REPO))
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "parley.config.celery",
            "worker",
            "-Q",
            "webhooks",
            "-c",
            "2",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        cwd=REPO,
    )
    started = time.perf_counter()
    try:
        while True:
            done = WebhookEvent.objects.filter(channel_id=channel_id).exclude(status=WebhookEventStatus.RECEIVED).count()
            if done >= expected:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout or worker.poll() is not None:
                raise SystemExit(f"the worker processed {done} of {expected} inbox rows")
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1500, help="webhooks per endpoint")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--steady-requests", type=int, default=600, help="webhooks of the steady-rate latency phase")
    args = parser.parse_args()

    services = setup_django("bench-webhooks")
    from parley.accounts.models import Tenant
    from parley.connectors.models import Channel, ChannelType, WebhookEvent, WebhookEventStatus
    from parley.connectors.testing.webhooks import purge, queued_tasks
    from parley.conversations.models import Message
    from parley.testing import factories

    tenant = Tenant.objects.filter(slug="bench-webhooks").first() or factories.make_tenant("bench-webhooks")
    run = uuid.uuid4().hex[:8]
    phone_number_id = f"bench{run}"
    channel = Channel.objects.create(
        tenant=tenant,
        type=ChannelType.WHATSAPP,
        name=f"bench {run}",
        config={"phone_number_id": phone_number_id},
        credentials={"app_secret": APP_SECRET},
    )
    purge("assistant", "webhooks")
    parley_port, bare_port = free_port(), free_port()
    parley = start_server("parley.config.asgi:application", parley_port)
    bare = start_server("webhook_ingest:bare_app", bare_port)
    try:  # servers are stopped in ``finally`` whatever happens
        wait_up(f"http://127.0.0.1:{parley_port}/webhooks/whatsapp/", parley)
        wait_up(f"http://127.0.0.1:{bare_port}/", bare)
        parley_url = f"http://127.0.0.1:{parley_port}/webhooks/whatsapp/"
        bare_url = f"http://127.0.0.1:{bare_port}/webhooks/whatsapp/"
        warm = [payload(phone_number_id, -i - 1, run) for i in range(50)]
        asyncio.run(hammer(parley_url, warm, args.concurrency))
        asyncio.run(hammer(bare_url, warm, args.concurrency))
        bodies = [payload(phone_number_id, i, run) for i in range(args.requests)]
        bare_elapsed, bare_lat = asyncio.run(hammer(bare_url, bodies, args.concurrency))
        elapsed, latencies = asyncio.run(hammer(parley_url, bodies, args.concurrency))
        # ack latency under a steady load below saturation: half the rate this endpoint just sustained
        steady_rate = round(args.requests / elapsed / 2, 1)
        steady_bodies = [payload(phone_number_id, args.requests + i, run) for i in range(args.steady_requests)]
        bare_steady = asyncio.run(steady(bare_url, steady_bodies, steady_rate))
        parley_steady = asyncio.run(steady(parley_url, steady_bodies, steady_rate))
    finally:
        for server in (parley, bare):
            server.terminate()
            server.wait(timeout=20)
    try:
        inbox = WebhookEvent.objects.filter(channel=channel).count()
        drain_s = drain_inbox(str(channel.id), inbox)
        failed = WebhookEvent.objects.filter(channel=channel, status=WebhookEventStatus.FAILED).count()
        ids = dict(
            Message.objects.filter(channel=channel, external_id__startswith=f"wamid.bench.{run}.")
            .exclude(external_id__startswith=f"wamid.bench.{run}.-")
            .values_list("external_id", "id")
        )
        per_message = Counter(args[0] for name, args in queued_tasks("assistant") if name == "parley.orchestrator.run_turn")
        turns = sum(per_message[str(message_id)] for message_id in ids.values())
        once = all(per_message[str(message_id)] == 1 for message_id in ids.values())
        expected = {f"wamid.bench.{run}.{index}" for index in range(args.requests + args.steady_requests)}
    finally:
        purge("assistant", "webhooks")
        services.stop()
    verified = inbox == args.requests + args.steady_requests + len(warm) and not failed and set(ids) == expected and once
    rate = args.requests / elapsed
    bare_rate = args.requests / bare_elapsed
    emit(
        {
            "bench": "webhook_ingest",
            "figure": "signed WhatsApp text webhooks accepted end-to-end per second (1 uvicorn process)",
            "rate_per_s": round(rate, 1),
            "ack_latency_ms": summary(latencies),
            "ack_latency_note": "closed loop at saturation: mostly the client's own queue of concurrent requests",
            "steady_rate_per_s": steady_rate,
            "steady_ack_latency_ms": summary(parley_steady),
            "steady_baseline_latency_ms": summary(bare_steady),
            "baseline": "bare ASGI endpoint returning 200 (1 uvicorn process), same client",
            "baseline_rate_per_s": round(bare_rate, 1),
            "baseline_latency_ms": summary(bare_lat),
            "ratio": round(rate / bare_rate, 3),
            "requests": args.requests,
            "concurrency": args.concurrency,
            "inbox_rows": inbox,
            "stored": len(ids),
            "turns_enqueued": turns,
            "verified": verified,
            "worker_drain_s": round(drain_s, 1),
            "targets": {"ratio": 0.4, "p95_ms": 25},
            "meets_targets": {"ratio": rate / bare_rate >= 0.4, "steady_p95": summary(parley_steady)["p95"] <= 25},
        }
    )
    if not verified:
        raise SystemExit("verification failed: not every webhook ended up as exactly one stored message and one turn")


if __name__ == "__main__":
    main()
