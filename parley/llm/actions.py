"""State changes of the LLM app: recording each call for usage, cost and error reporting."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import structlog

from parley.core.deferred import defer
from parley.llm.models import LLMCall
from parley.llm.types import BackendConfig, LLMRequest

log = structlog.get_logger(__name__)


def call_cost(backend: BackendConfig, prompt_tokens: int, completion_tokens: int) -> Decimal | None:
    """Price of one call from the backend's per-1k-token prices; None when the backend is not priced."""
    if backend.price_prompt_per_1k is None and backend.price_completion_per_1k is None:
        return None
    prompt = Decimal(str(backend.price_prompt_per_1k or 0)) * prompt_tokens / 1000
    completion = Decimal(str(backend.price_completion_per_1k or 0)) * completion_tokens / 1000
    return (prompt + completion).quantize(Decimal("0.000001"))


def _existing_tenant_id(tenant_id: str) -> uuid.UUID | None:
    from parley.accounts.models import Tenant

    try:
        parsed = uuid.UUID(str(tenant_id))
    except ValueError:
        return None
    return parsed if Tenant.objects.filter(pk=parsed).exists() else None


def record_llm_call(
    *,
    request: LLMRequest,
    backend: BackendConfig,
    outcome: str,
    attempt: int = 1,
    latency_ms: int = 0,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    tool_call_count: int = 0,
    error_kind: str = "",
    error: str = "",
    status_code: int | None = None,
    streamed: bool = False,
) -> None:
    """Store one attempt against one backend (after the reply when inside an assistant turn).

    Args:
        request: the request (tenant, assistant, conversation and purpose are taken from it).
        backend: the backend tried.
        outcome: ``ok``, ``error`` or ``circuit_open``.
        attempt: 1 for the first try on this backend, 2 for the first retry, ...
        error_kind: the :class:`BackendError` kind on failure.
    """

    def write() -> None:
        tenant_id = _existing_tenant_id(request.tenant_id) if request.tenant_id else None
        LLMCall.objects.create(tenant_id=tenant_id, **fields)

    fields: dict[str, Any] = dict(
        assistant_id=(request.assistant_id or "")[:64],
        conversation_id=(request.conversation_id or "")[:64],
        purpose=request.purpose[:40],
        backend=backend.name[:100],
        model=backend.model[:200],
        attempt=attempt,
        streamed=streamed,
        outcome=outcome,
        error_kind=error_kind,
        error=error[:4000],
        status_code=status_code,
        latency_ms=max(latency_ms, 0),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=call_cost(backend, prompt_tokens, completion_tokens) if outcome == "ok" else None,
        tool_call_count=tool_call_count,
    )
    defer("llm_call", write)
