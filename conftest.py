"""Shared fixtures: real PostgreSQL and Redis (started by parley.testing.plugin), tenants, API clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from parley.testing import factories


@pytest.fixture
def tenant(db: Any) -> Any:
    return factories.make_tenant("acme", "Acme Inc")


@pytest.fixture
def other_tenant(db: Any) -> Any:
    return factories.make_tenant("globex", "Globex Corp")


@pytest.fixture
def api(tenant: Any) -> Any:
    """An owner's API client for ``tenant``."""
    return factories.api_client(tenant, "owner")


@pytest.fixture
def channel(tenant: Any) -> Any:
    return factories.make_channel(tenant)


@pytest.fixture
def celery_app_real() -> Any:
    from parley.config.celery import app

    return app


@pytest.fixture
def celery_worker_thread(transactional_db: Any, celery_app_real: Any) -> Iterator[Any]:
    """A real Celery worker (in a thread) consuming every queue of the embedded Redis."""
    from celery.contrib.testing.worker import start_worker

    from parley.config.celery import QUEUE_NAMES

    client = celery_app_real.connection_for_write()
    with client as connection:  # drop work left over from earlier tests
        for queue in QUEUE_NAMES:
            connection.default_channel.queue_purge(queue)
    with start_worker(
        celery_app_real,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        queues=list(QUEUE_NAMES),
        shutdown_timeout=10,
        loglevel="WARNING",
    ) as worker:
        yield worker


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Threads and async consumers may leave connections open; end them so the test database can be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
