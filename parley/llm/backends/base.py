"""The interface every LLM backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from parley.llm.types import BackendConfig, LLMRequest, LLMResponse, StreamChunk


class Backend(Protocol):
    """One LLM server. Methods raise :class:`parley.llm.errors.BackendError` on failure."""

    config: BackendConfig

    def chat(self, request: LLMRequest, *, timeout_s: float) -> LLMResponse:
        """One non-streamed completion."""
        ...

    def stream(self, request: LLMRequest, *, timeout_s: float) -> Iterator[StreamChunk]:
        """Text deltas as they arrive, then one chunk carrying the complete :class:`LLMResponse`."""
        ...
