"""Requests per second of `GET /api/v1/conversations/` (API key, 50 per page, tenant with 500 conversations)
against a bare Django view on the same uvicorn server (one process), in the same run. Target ≥ 50%."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import urllib.request

from _common import REPO, emit, free_port, setup_django, summary


def seed(conversations: int) -> str:
    from parley.accounts.actions import create_api_key
    from parley.accounts.models import Tenant
    from parley.testing import factories

    tenant = Tenant.objects.filter(slug="bench-api").first()
    if tenant is None:
        tenant = factories.make_tenant("bench-api")
        channel = factories.make_channel(tenant)
        for index in range(conversations):
            factories.inbound(channel, f"Question number {index} about my order", sender=f"c{index}")
    return create_api_key(tenant=tenant, name="bench", role="agent").secret


async def hammer(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> tuple[int, list[float]]:
    import httpx

    latencies: list[float] = []
    count = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(headers=headers, timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:

        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}: {response.text[:200]}")
                latencies.append((time.perf_counter() - started) * 1000)
                count += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement time per endpoint")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--conversations", type=int, default=500, help="conversations in the bench tenant")
    args = parser.parse_args()

    services = setup_django("bench-api")
    key = seed(args.conversations)
    port = free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="parley.config.settings",
        PARLEY_LOG_LEVEL="WARNING",
        PYTHONPATH=f"{REPO}:{REPO / 'bench'}",
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE']='parley.config.settings';"
            "from django.conf import settings; import django;"
            "django.setup(); settings.ROOT_URLCONF='_bench_urls';"
            "import uvicorn; from parley.config.asgi import application;"
            f"uvicorn.run(application, host='127.0.0.1', port={port}, log_level='warning', access_log=False, lifespan='off')",
        ],
        env=env,
        cwd=REPO,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare/", timeout=2)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start") from None
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {key}"}
        api_url = f"http://127.0.0.1:{port}/api/v1/conversations/"
        bare_url = f"http://127.0.0.1:{port}/bench/bare/"
        asyncio.run(hammer(api_url, headers, 2, args.concurrency))  # warm-up
        asyncio.run(hammer(bare_url, headers, 2, args.concurrency))
        api_count, api_lat = asyncio.run(hammer(api_url, headers, args.seconds, args.concurrency))
        bare_count, bare_lat = asyncio.run(hammer(bare_url, headers, args.seconds, args.concurrency))
    finally:
        server.terminate()
        server.wait(timeout=20)
        services.stop()
    api_rps = api_count / args.seconds
    bare_rps = bare_count / args.seconds
    emit(
        {
            "bench": "api_throughput",
            "endpoint": "GET /api/v1/conversations/ (page of 50)",
            "rps": round(api_rps, 1),
            "latency_ms": summary(api_lat),
            "baseline": "bare Django view, same server",
            "baseline_rps": round(bare_rps, 1),
            "baseline_latency_ms": summary(bare_lat),
            "ratio": round(api_rps / bare_rps, 3),
            "target_ratio": 0.5,
        }
    )


if __name__ == "__main__":
    main()
