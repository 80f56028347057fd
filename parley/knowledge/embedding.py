"""Embedders: the built-in MiniLM (default) or a tenant's OpenAI-compatible ``/v1/embeddings`` server.

Both return L2-normalised float32 vectors so cosine similarity is a dot product and the same
pgvector operator works for either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import numpy as np

from parley.intelligence.embeddings import EMBEDDING_DIM
from parley.intelligence.embeddings import encode as minilm_encode


class EmbedderError(RuntimeError):
    """The embedder could not produce vectors (server down, bad answer, wrong dimension)."""


class Embedder(Protocol):
    """Turns texts into unit vectors of a fixed ``dimension``."""

    dimension: int

    @property
    def signature(self) -> str:
        """Identifies the model, stored with each chunk; vectors of different signatures never mix."""
        ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` into an ``(n, dimension)`` float32 array of unit vectors.

        Args:
            texts: the strings to embed (any number; batching is the embedder's job).
        Returns:
            One row per text, in order.
        """
        ...


@dataclass
class LocalEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded once per process."""

    batch_size: int = 64
    dimension: int = EMBEDDING_DIM

    @property
    def signature(self) -> str:
        return "local:all-MiniLM-L6-v2"

    def embed(self, texts: list[str]) -> np.ndarray:
        return minilm_encode(texts, batch_size=self.batch_size, normalize=True)


@dataclass
class OpenAICompatibleEmbedder:
    """Any server speaking OpenAI's ``POST /v1/embeddings`` (vLLM, Ollama, llama.cpp, OpenAI, ...)."""

    base_url: str
    model: str
    dimension: int
    api_key: str = ""
    batch_size: int = 64
    timeout_s: float = 30.0

    @property
    def signature(self) -> str:
        return f"openai:{self.base_url.rstrip('/')}:{self.model}:{self.dimension}"

    def _endpoint(self) -> str:
        base = self.base_url.rstrip("/")
        return f"{base}/embeddings" if base.endswith("/v1") else f"{base}/v1/embeddings"

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        rows: list[np.ndarray] = []
        with httpx.Client(timeout=self.timeout_s) as client:
            for start in range(0, len(texts), self.batch_size):
                batch = texts[start : start + self.batch_size]
                rows.append(self._embed_batch(client, headers, batch))
        return np.vstack(rows)

    def _embed_batch(self, client: httpx.Client, headers: dict[str, str], batch: list[str]) -> np.ndarray:
        try:
            response = client.post(self._endpoint(), json={"model": self.model, "input": batch}, headers=headers)
        except httpx.HTTPError as exc:
            raise EmbedderError(f"embedding server unreachable: {exc}") from exc
        if response.status_code != 200:
            raise EmbedderError(f"embedding server answered {response.status_code}: {response.text[:200]}")
        try:
            items: list[dict[str, Any]] = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = np.asarray([item["embedding"] for item in items], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbedderError(f"embedding server sent an unexpected body: {exc}") from exc
        if vectors.shape != (len(batch), self.dimension):
            raise EmbedderError(f"expected {len(batch)} vectors of dimension {self.dimension}, got shape {vectors.shape}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


def embedder_for_tenant(tenant: Any) -> Embedder:
    """The embedder configured in the tenant's :class:`KnowledgeSettings` (MiniLM when none)."""
    from parley.knowledge.models import EmbedderKind, KnowledgeSettings

    config = KnowledgeSettings.objects.filter(tenant_id=getattr(tenant, "pk", tenant)).first()
    if config is None or config.embedder_kind == EmbedderKind.LOCAL:
        return LocalEmbedder(batch_size=config.batch_size if config else 64)
    return OpenAICompatibleEmbedder(
        base_url=config.base_url,
        model=config.model,
        dimension=config.dimension,
        api_key=config.api_key,
        batch_size=config.batch_size,
    )
