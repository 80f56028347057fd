"""pytest plugin: start the embedded PostgreSQL and Redis once per run, before Django is configured.

Enabled from ``pyproject.toml`` (``-p parley.testing.plugin``). With ``DATABASE_URL`` / ``REDIS_URL``
set, those servers are used instead. Data lives in ``PARLEY_TEST_DATA_DIR`` (default ``.parley-test``).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

_services: Any = None


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: Any, args: list[str]) -> Generator[None, None, None]:
    """Runs before pytest-django sets Django up, so settings see the embedded services' URLs."""
    global _services
    from parley.runtime.services import ensure_services

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("PARLEY_LOG_FORMAT", "console")
    os.environ.setdefault("PARLEY_LOG_LEVEL", "WARNING")
    data_dir = Path(os.environ.get("PARLEY_TEST_DATA_DIR", ".parley-test")).resolve()
    os.environ.setdefault("PARLEY_DATA_DIR", str(data_dir))
    os.environ.setdefault("PARLEY_MEDIA_ROOT", str(data_dir / "media"))
    _services = ensure_services(data_dir)
    return (yield)


def pytest_unconfigure(config: pytest.Config) -> None:
    _close_celery_result_consumer()
    if _services is not None:
        _services.stop()


def _close_celery_result_consumer() -> None:
    """Stop Celery's result listener first, or it spends 20 s reconnecting to the Redis we stop."""
    import contextlib
    import gc

    # Finalise forgotten AsyncResults now: their __del__ unsubscribes from Redis, which must still be up.
    gc.collect()
    with contextlib.suppress(Exception):
        from parley.config.celery import app

        consumer = getattr(app.backend, "result_consumer", None)
        if consumer is not None and getattr(consumer, "_pubsub", None) is not None:
            consumer.stop()
        app.close()
