"""Knowledge settings: Django settings ``KNOWLEDGE_*`` when set, else ``PARLEY_KNOWLEDGE_*`` environment variables."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

_DEFAULTS: dict[str, Any] = {
    # Uploads and fetched pages larger than this are refused (413 for uploads).
    "MAX_UPLOAD_BYTES": 20 * 1024 * 1024,
    "MAX_FETCH_BYTES": 10 * 1024 * 1024,
    "FETCH_TIMEOUT_S": 15.0,
    "MAX_REDIRECTS": 5,
    # Self-hosted intranets may index private addresses; off by default (SSRF guard).
    "ALLOW_PRIVATE_URLS": False,
    # Host names allowed even when they resolve to private addresses (comma-separated in the env var).
    "PRIVATE_HOST_ALLOWLIST": (),
    "USER_AGENT": "ParleyBot/1.0 (+knowledge ingestion)",
    "CHUNK_MAX_TOKENS": 180,
    "CHUNK_OVERLAP_TOKENS": 30,
}


def knowledge_setting(name: str) -> Any:
    """``settings.KNOWLEDGE_<name>``, else env ``PARLEY_KNOWLEDGE_<name>`` (typed like the default), else the default."""
    default = _DEFAULTS[name]
    if hasattr(settings, f"KNOWLEDGE_{name}"):
        return getattr(settings, f"KNOWLEDGE_{name}")
    raw = os.environ.get(f"PARLEY_KNOWLEDGE_{name}")
    if raw is None:
        return default
    if isinstance(default, tuple):
        return tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw
