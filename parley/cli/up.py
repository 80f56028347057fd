"""``parley up``: start PostgreSQL, Redis, the worker, beat and the web server, in that order."""

from __future__ import annotations

import os
import signal
import sys
import time
from types import FrameType

import click

from parley.config.env import data_dir

#: The live worker's threads by default (its pool: ``parley.runtime.supervisor.LIVE_POOL``).
LIVE_CONCURRENCY = 8


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web server listens on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port of the web server.")
@click.option("--no-demo", is_flag=True, help="Do not create the demo tenant and its data.")
@click.option(
    "--concurrency",
    default=LIVE_CONCURRENCY,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads of the live worker (webhooks, assistant turns, deliveries): how many of them run at once.",
)
@click.option(
    "--bulk-concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes of the bulk worker (embeddings, analytics, everything else).",
)
def up(host: str, port: int, no_demo: bool, concurrency: int, bulk_concurrency: int) -> None:
    """Start the whole platform and keep it running until Ctrl-C.

    Uses DATABASE_URL / REDIS_URL when set, otherwise embedded PostgreSQL + pgvector and Redis in
    PARLEY_DATA_DIR (default ./.parley). Two Celery workers: a live one (webhooks, assistant turns,
    deliveries) and a bulk one (embeddings, analytics, the rest). Exits non-zero if the port is taken or
    a service fails.
    """
    from parley.config.celery import BULK_QUEUES, LIVE_QUEUES
    from parley.runtime.supervisor import (
        BULK_POOL,
        LIVE_POOL,
        StartupError,
        Supervisor,
        beat_command,
        http_ok,
        port_is_free,
        reset_metrics_dir,
        web_command,
        worker_answers,
        worker_command,
        worker_node,
    )

    started = time.monotonic()
    directory = data_dir()
    os.environ["PARLEY_DATA_DIR"] = str(directory)
    os.environ.setdefault("PARLEY_PUBLIC_URL", f"http://{host if host != '0.0.0.0' else '127.0.0.1'}:{port}")
    if os.environ.get("PARLEY_ENV") == "production" and not os.environ.get("PARLEY_SECRET_KEY"):
        raise click.ClickException("PARLEY_ENV=production needs PARLEY_SECRET_KEY (and PARLEY_ENCRYPTION_KEY) set")
    if not port_is_free(host, port):
        raise click.ClickException(f"port {port} on {host} is already in use: stop what uses it or pass --port")

    def step(label: str) -> float:
        click.echo(f"  {label:<42}", nl=False)
        return time.monotonic()

    def done(since: float, detail: str = "") -> None:
        click.echo(click.style("ok", fg="green") + f" ({time.monotonic() - since:.1f}s){'  ' + detail if detail else ''}")

    click.echo(click.style("Starting Parley", bold=True) + f" (data in {directory})")
    since = step("database and Redis")
    from parley.cli.django_env import setup_django

    services = setup_django()
    done(since, "; ".join(services.notes) or "configured DATABASE_URL / REDIS_URL")
    env = dict(os.environ)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(reset_metrics_dir(directory))
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["PARLEY_LOG_FORMAT"] = os.environ.get("PARLEY_CHILD_LOG_FORMAT", "json")
    env["PARLEY_LOG_LEVEL"] = os.environ.get("PARLEY_CHILD_LOG_LEVEL", "INFO")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("PARLEY_TORCH_THREADS", "1")
    supervisor = Supervisor(data_dir=directory, env=env, echo=click.echo)
    stopping = {"signal": 0}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    exit_code = 0
    try:
        since = step("migrations")
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        done(since)
        since = step("embedding model")
        from parley.intelligence.embeddings import prepare_runtime

        done(since, prepare_runtime())  # exported once per machine, before any worker needs it
        if not no_demo:
            since = step("demo data")
            from parley.runtime.demo import seed_demo

            seed_demo()
            done(since)
        since = step("Celery workers (live and bulk)")
        # Two workers: what a customer waits on never queues behind ingestion or analytics.
        worker = supervisor.start("worker", worker_command(concurrency, role="live", queues=LIVE_QUEUES, pool=LIVE_POOL))
        bulk = supervisor.start("worker-bulk", worker_command(bulk_concurrency, role="bulk", queues=BULK_QUEUES, pool=BULK_POOL))
        supervisor.wait_until(worker, lambda: worker_answers(env, worker_node("live")), timeout=90)
        supervisor.wait_until(bulk, lambda: worker_answers(env, worker_node("bulk")), timeout=90)
        # the live worker loads the embedder and the models now, not on the first customer's message
        from parley.intelligence.tasks import warm_up

        warm_up.delay()
        done(since, f"logs: {worker.log_path}, {bulk.log_path.name}")
        since = step("Celery beat")
        beat = supervisor.start("beat", beat_command(directory))
        time.sleep(1.0)
        supervisor.wait_until(beat, lambda: True, timeout=5)
        done(since)
        since = step("web server (uvicorn, HTTP + websockets)")
        web = supervisor.start("web", web_command(host, port))
        base = f"http://{host if host != '0.0.0.0' else '127.0.0.1'}:{port}"
        supervisor.wait_until(web, lambda: http_ok(f"{base}/healthz"), timeout=90)
        done(since)
        click.echo("")
        click.echo(click.style(f"Parley is up in {time.monotonic() - started:.1f}s", fg="green", bold=True))
        click.echo(f"  Dashboard      {base}/app/")
        click.echo(f"  API docs       {base}/api/docs/")
        click.echo(f"  Health         {base}/healthz")
        click.echo(f"  Admin          {base}/admin/")
        if not no_demo:
            from parley.runtime.demo import DEMO_EMAIL, DEMO_PASSWORD

            click.echo(f"  Demo login     {DEMO_EMAIL} / {DEMO_PASSWORD}")
            click.echo(f"  Widget demo    {base}/widget/demo/")
        click.echo(f"  Logs           {directory / 'logs'}")
        click.echo("Press Ctrl-C to stop.")
        sys.stdout.flush()
        while not stopping["signal"]:
            dead = supervisor.first_exited()
            if dead is not None:
                from parley.runtime.supervisor import tail

                click.echo(
                    click.style(f"\n{dead.name} exited with code {dead.process.returncode}; stopping everything.", fg="red"),
                    err=True,
                )
                click.echo(tail(dead.log_path), err=True)
                exit_code = 1
                break
            time.sleep(0.5)
    except StartupError as exc:
        click.echo(click.style("FAILED", fg="red"), err=True)
        click.echo(str(exc), err=True)
        exit_code = 1
    finally:
        click.echo("Stopping Parley...")
        supervisor.stop_all()
        services.stop()
        click.echo("Stopped.")
    sys.exit(exit_code)
