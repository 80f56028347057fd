"""LLM backends, one module per kind; :func:`get_backend` picks one for a :class:`BackendConfig`."""

from __future__ import annotations

from functools import lru_cache

from parley.llm.backends.base import Backend
from parley.llm.types import BackendConfig


def get_backend(config: BackendConfig) -> Backend:
    """The backend for ``config``, reused per process (building an SDK client costs far more than a call)."""
    return _cached_backend(config.model_dump_json())


@lru_cache(maxsize=64)
def _cached_backend(config_json: str) -> Backend:
    from parley.llm.backends.openai_compatible import OpenAICompatibleBackend

    config = BackendConfig.model_validate_json(config_json)
    if config.kind == "openai_compatible":
        return OpenAICompatibleBackend(config)
    raise ValueError(f"unknown LLM backend kind {config.kind!r}")
