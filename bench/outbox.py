"""Outbound messages delivered per second to the fake Graph API server by one Celery worker, and how
many were duplicated or lost when that worker is killed (``kill -9``) mid-run and restarted.

Phase 1 (rate): N queued WhatsApp messages, one worker (solo pool), time from the first to the last
``sent``; baseline: the same number of sends POSTed straight to the fake server by one loop, same run.
Phase 2 (crash): M messages, the worker is killed with SIGKILL several times while sending and
restarted; the outbox sweep (what Celery beat runs) re-enqueues lost tasks; the fake server emits
Meta's signed ``sent`` status webhooks to a Parley uvicorn server, as Meta does. At the end, every
message's sends are counted on the fake server: duplicates (accepted more than once) and lost (never
accepted). Targets: 0 and 0.
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from _common import REPO, emit, free_port, setup_django

APP_SECRET = "bench-outbox-secret"
os.environ.setdefault("PARLEY_OUTBOX_STALE_SECONDS", "20")
os.environ.setdefault("PARLEY_OUTBOX_RECONCILE_SECONDS", "5")
os.environ.setdefault("PARLEY_OUTBOX_BACKOFF_SECONDS", "0.5")


def child_env() -> dict[str, str]:
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="parley.config.settings",
        PARLEY_LOG_LEVEL="ERROR",
        PYTHONPATH=f"{REPO}:{REPO / 'bench'}",
    )


def start_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "parley.config.celery",
            "worker",
            "-Q",
            "outbound,webhooks",  # status webhooks are applied from the webhook inbox by the worker
            "-P",
            "solo",
            "-c",
            "1",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "ERROR",
        ],
        env=child_env(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )


def start_web(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "parley.config.asgi:application",
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
        env=child_env(),
        cwd=REPO,
    )
    deadline = time.time() + 300
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/webhooks/whatsapp/", timeout=5)
            return server
        except urllib.error.HTTPError:
            return server
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("web server did not start") from None
            time.sleep(0.5)


def queue_messages(conversations: list[Any], count: int, label: str) -> list[str]:
    from parley.conversations import actions

    ids = []
    for index in range(count):
        conversation = conversations[index % len(conversations)]
        message = actions.send_outbound(conversation=conversation, text=f"{label} reply {index}", sender_type="assistant")
        ids.append(str(message.id))
    return ids


def settled(ids: list[str]) -> int:
    from parley.conversations.models import Message

    return Message.objects.filter(pk__in=ids, delivery_status__in=["sent", "delivered", "read", "failed"]).count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200, help="messages in the rate phase")
    parser.add_argument("--crash-messages", type=int, default=200, help="messages in the crash phase")
    parser.add_argument("--kills", type=int, default=3, help="kill -9 the worker this many times")
    args = parser.parse_args()

    services = setup_django("bench-outbox")
    import httpx

    from parley.accounts.models import Tenant
    from parley.connectors.models import Channel, ChannelType
    from parley.connectors.testing.fake_graph import FakeGraphServer
    from parley.connectors.testing.webhooks import purge
    from parley.conversations.models import Message
    from parley.conversations.tasks import sweep_outbox
    from parley.testing import factories

    purge("outbound", "webhooks")
    port = free_port()
    web: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    graph = FakeGraphServer(webhook_url=f"http://127.0.0.1:{port}/webhooks/whatsapp/", app_secret=APP_SECRET).start()
    try:
        web = start_web(port)
        tenant = Tenant.objects.filter(slug="bench-outbox").first() or factories.make_tenant("bench-outbox")
        run = os.urandom(4).hex()
        channel = Channel.objects.create(
            tenant=tenant,
            type=ChannelType.WHATSAPP,
            name=f"bench {run}",
            config={"phone_number_id": f"out{run}", "api_base_url": graph.url, "timeout_s": 5},
            credentials={"access_token": "bench-token", "app_secret": APP_SECRET},
        )
        conversations = [factories.inbound(channel, "hi", sender=f"1555{run}{i:03d}").conversation for i in range(20)]
        # Phase 1: delivery rate with one worker.
        rate_ids = queue_messages(conversations, args.messages, "rate")
        worker = start_worker()
        deadline = time.time() + 600
        while settled(rate_ids) < len(rate_ids) and time.time() < deadline:
            time.sleep(0.2)
        stamps = sorted(Message.objects.filter(pk__in=rate_ids, sent_at__isnull=False).values_list("sent_at", flat=True))
        rate = (len(stamps) - 1) / max(1e-9, (stamps[-1] - stamps[0]).total_seconds()) if len(stamps) > 1 else 0.0

        # Baseline: the same sends straight to the fake server from one loop.
        body = graph.sends()[0].body
        started = time.perf_counter()
        with httpx.Client(timeout=10, trust_env=False) as client:
            for _ in range(args.messages):
                client.post(f"{graph.url}/v21.0/baseline/messages", content=body, headers={"Content-Type": "application/json"})
        baseline_rate = args.messages / (time.perf_counter() - started)

        # Phase 2: kill -9 mid-run, restart, sweep.
        crash_ids = queue_messages(conversations, args.crash_messages, "crash")
        kills = 0
        last_sweep = 0.0
        deadline = time.time() + 900
        while time.time() < deadline:
            done = settled(crash_ids)
            if done >= len(crash_ids):
                break
            if kills < args.kills and done >= (kills + 1) * len(crash_ids) // (args.kills + 2):
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
                kills += 1
                worker = start_worker()
            if time.time() - last_sweep > 2:
                sweep_outbox.run()
                last_sweep = time.time()
            time.sleep(0.05)
        time.sleep(1.0)  # let late status webhooks land
        per_message = collections.Counter(str(p.get("biz_opaque_callback_data")) for p in graph.accepted)
        duplicates = sum(max(0, per_message[mid] - 1) for mid in crash_ids)
        lost = sum(1 for mid in crash_ids if per_message[mid] == 0)
        statuses = collections.Counter(Message.objects.filter(pk__in=crash_ids).values_list("delivery_status", flat=True))
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        if web is not None:
            web.terminate()
            web.wait(timeout=20)
        graph.stop()
        purge("outbound", "webhooks")
        services.stop()
    emit(
        {
            "bench": "outbox",
            "figure": "outbound WhatsApp messages delivered per second to the fake Graph server, 1 worker",
            "rate_per_s": round(rate, 1),
            "baseline": "direct POSTs to the same fake server from one loop (no Parley), same run",
            "baseline_rate_per_s": round(baseline_rate, 1),
            "ratio": round(rate / baseline_rate, 3) if baseline_rate else None,
            "crash_phase": {
                "messages": len(crash_ids),
                "worker_kills": kills,
                "duplicated": duplicates,
                "lost": lost,
                "final_statuses": dict(statuses),
            },
            "targets": {"duplicated": 0, "lost": 0},
        }
    )


if __name__ == "__main__":
    main()
