"""Typed access to environment variables (12-factor settings)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


def env_str(name: str, default: str = "") -> str:
    """Return the variable ``name`` or ``default`` when unset or empty."""
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name: str, default: bool = False) -> bool:
    """Parse a boolean variable: 1/true/yes/on are true, 0/false/no/off false."""
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    """Parse an integer variable."""
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    """Parse a comma-separated list variable."""
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def data_dir() -> Path:
    """The directory holding embedded services' data (``PARLEY_DATA_DIR``)."""
    return Path(env_str("PARLEY_DATA_DIR", ".parley")).resolve()


def parse_database_url(url: str) -> dict[str, object]:
    """Turn ``postgresql://user:pass@host:port/name?host=/socket`` into Django DATABASES entry.

    Args:
        url: a PostgreSQL URL; a ``host`` query parameter names a unix-socket directory.

    Returns:
        The dict Django expects for one database.
    """
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parsed.scheme!r}")
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or ""])[0]
    options: dict[str, object] = {}
    if "sslmode" in query:
        options["sslmode"] = query["sslmode"][0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or ""),
        # A connection pool, not persistent connections: under ASGI every request runs in its own thread, and a
        # thread-bound persistent connection would mean a new PostgreSQL connection per request.
        "OPTIONS": {
            **options,
            "pool": {"min_size": 1, "max_size": 20, "timeout": 10},
            # Server-side parameters let PostgreSQL keep a query's plan: a statement run twice on a
            # connection is prepared (planning a join is often most of a short query's time). Turn it
            # off behind PgBouncer in transaction mode, which cannot keep prepared statements.
            **(
                {"server_side_binding": True, "prepare_threshold": 2}
                if env_bool("PARLEY_DB_PREPARED_STATEMENTS", default=True)
                else {}
            ),
        },
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
    }


def celery_url(redis_url: str) -> str:
    """Celery (kombu) spells a unix-socket Redis ``redis+socket:///path``; TCP URLs pass through."""
    parsed = urlparse(redis_url)
    if parsed.scheme == "unix":
        return f"redis+socket://{parsed.path}"
    return redis_url
