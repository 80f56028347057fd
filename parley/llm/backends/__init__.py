"""LLM backends, one module per kind; :func:`get_backend` picks one for a :class:`BackendConfig`."""

from __future__ import annotations

from parley.llm.backends.base import Backend
from parley.llm.types import BackendConfig


def get_backend(config: BackendConfig) -> Backend:
    """The backend implementation for ``config.kind``."""
    from parley.llm.backends.openai_compatible import OpenAICompatibleBackend

    if config.kind == "openai_compatible":
        return OpenAICompatibleBackend(config)
    raise ValueError(f"unknown LLM backend kind {config.kind!r}")
