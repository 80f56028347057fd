"""Bring up the backing services a command needs: the configured ones, or the embedded ones."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from parley.runtime.embedded import EmbeddedPostgres, EmbeddedRedis, export_service_env, start_postgres, start_redis


@dataclass
class Services:
    """URLs in use, and the embedded servers this process started (if any)."""

    database_url: str
    redis_url: str
    embedded_postgres: EmbeddedPostgres | None = None
    embedded_redis: EmbeddedRedis | None = None
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Stop what this process started, Redis first (the workers' broker), then PostgreSQL."""
        if self.embedded_redis is not None:
            self.embedded_redis.stop()
        if self.embedded_postgres is not None:
            self.embedded_postgres.stop()


def ensure_services(data_dir: Path, *, stop_on_exit: bool = True) -> Services:
    """Use ``DATABASE_URL`` / ``REDIS_URL`` when set, else start the embedded servers in ``data_dir``.

    The chosen URLs are exported to the environment so settings and child processes see them.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    services = Services(database_url=database_url, redis_url=redis_url)
    if not database_url:
        services.embedded_postgres = start_postgres(data_dir, stop_on_exit=stop_on_exit)
        services.database_url = services.embedded_postgres.url
        services.notes.append(f"embedded PostgreSQL 16 + pgvector in {data_dir / 'pg'}")
    if not redis_url:
        services.embedded_redis = start_redis(data_dir)
        services.redis_url = services.embedded_redis.url
        services.notes.append(f"embedded Redis at {services.embedded_redis.socket_path}")
    export_service_env(services.database_url, services.redis_url)
    return services
