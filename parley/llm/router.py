"""The LLM router: try each configured backend in order, with retries, backoff and a circuit breaker.

``complete()`` is what the orchestrator calls; ``LLMUnavailable`` tells it to use the retrieval
responder instead. Every attempt is recorded as an :class:`parley.llm.models.LLMCall`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

import structlog
from django.conf import settings

from parley.config.env import env_str
from parley.llm.actions import record_llm_call
from parley.llm.backends import get_backend
from parley.llm.breaker import CircuitBreaker
from parley.llm.errors import BackendError, LLMUnavailable
from parley.llm.types import BackendConfig, ChatMessage, LLMRequest, LLMResponse, RoutingConfig, StreamChunk, ToolCall

log = structlog.get_logger(__name__)

__all__ = [
    "SAFE_REPLY",
    "LLMUnavailable",
    "complete",
    "complete_with_tool_validation",
    "default_routing",
    "stream",
]

BACKOFF_BASE_S = 0.25
BACKOFF_MAX_S = 4.0
SAFE_REPLY = "Sorry, I couldn't complete that just now. Could you rephrase, or ask to talk to a person?"


def default_routing() -> RoutingConfig | None:
    """The installation-wide routing; None when no LLM is configured.

    The ``default`` backend comes from ``PARLEY_LLM_BASE_URL`` / ``_MODEL`` / ``_API_KEY``; an optional
    ``fallback`` backend from ``PARLEY_LLM_FALLBACK_BASE_URL`` / ``_MODEL`` / ``_API_KEY``.
    """
    base_url = getattr(settings, "LLM_BASE_URL", "")
    model = getattr(settings, "LLM_MODEL", "")
    if not base_url or not model:
        return None
    backends = [BackendConfig(name="default", base_url=base_url, model=model, api_key=getattr(settings, "LLM_API_KEY", ""))]
    fallback_url, fallback_model = env_str("PARLEY_LLM_FALLBACK_BASE_URL", ""), env_str("PARLEY_LLM_FALLBACK_MODEL", "")
    if fallback_url and fallback_model:
        backends.append(
            BackendConfig(
                name="fallback", base_url=fallback_url, model=fallback_model, api_key=env_str("PARLEY_LLM_FALLBACK_API_KEY", "")
            )
        )
    return RoutingConfig(backends=backends)


def _backoff_s(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(max(retry_after, 0.0), BACKOFF_MAX_S)
    return min(BACKOFF_BASE_S * (2**attempt), BACKOFF_MAX_S) * (0.5 + random.random() / 2)


class _Budget:
    """The overall time budget of one call across backends (``routing.timeout_s``)."""

    def __init__(self, total_s: float | None) -> None:
        self.deadline = time.monotonic() + total_s if total_s else None

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def timeout_for(self, backend: BackendConfig) -> float:
        remaining = self.remaining()
        return backend.timeout_s if remaining is None else max(min(backend.timeout_s, remaining), 0.05)

    def exhausted(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0.05


def _attempts(
    request: LLMRequest, run: Callable[[BackendConfig, float, int], LLMResponse], *, streamed: bool = False
) -> LLMResponse:
    budget = _Budget(request.routing.timeout_s)
    failures: list[str] = []
    for backend in request.routing.backends:
        breaker = CircuitBreaker(backend)
        if not breaker.allow():
            record_llm_call(
                request=request, backend=backend, outcome="circuit_open", error_kind="circuit_open", streamed=streamed
            )
            failures.append(f"{backend.name}: circuit open")
            continue
        last_error: BackendError | None = None
        for attempt in range(backend.max_retries + 1):
            if budget.exhausted():
                last_error = BackendError("timeout", "overall time budget spent", retryable=False, trips_breaker=False)
                break
            started = time.perf_counter()
            try:
                response = run(backend, budget.timeout_for(backend), attempt + 1)
            except BackendError as exc:
                last_error = exc
                record_llm_call(
                    request=request,
                    backend=backend,
                    outcome="error",
                    attempt=attempt + 1,
                    latency_ms=int((time.perf_counter() - started) * 1000),
                    error_kind=exc.kind,
                    error=str(exc),
                    status_code=exc.status_code,
                    streamed=streamed,
                )
                log.warning(
                    "llm_attempt_failed", backend=backend.name, attempt=attempt + 1, kind=exc.kind, status=exc.status_code
                )
                if not exc.retryable or attempt == backend.max_retries:
                    break
                pause = _backoff_s(attempt, exc.retry_after)
                remaining = budget.remaining()
                if remaining is not None:
                    pause = min(pause, max(remaining - 0.05, 0))
                time.sleep(pause)
                continue
            breaker.record_success()
            record_llm_call(
                request=request,
                backend=backend,
                outcome="ok",
                attempt=attempt + 1,
                latency_ms=response.latency_ms,
                prompt_tokens=response.prompt_tokens,
                completion_tokens=response.completion_tokens,
                tool_call_count=len(response.tool_calls),
                streamed=streamed,
            )
            return response
        if last_error is not None:
            if last_error.trips_breaker:
                breaker.record_failure()
            failures.append(f"{backend.name}: {last_error}")
    log.error("llm_unavailable", failures=failures)
    raise LLMUnavailable("every LLM backend failed: " + "; ".join(failures), failures)


def complete(request: LLMRequest) -> LLMResponse:
    """Send ``request`` to the first healthy backend; retry 429/5xx/timeouts with backoff, then fall back.

    Args:
        request: messages, tools and routing (backends in order of preference).

    Returns:
        The first successful answer; its ``backend`` names who produced it.

    Raises:
        LLMUnavailable: every backend failed, was skipped by its open circuit, or the time budget ran out.
    """
    return _attempts(request, lambda backend, timeout_s, _attempt: get_backend(backend).chat(request, timeout_s=timeout_s))


def stream(request: LLMRequest, on_delta: Callable[[str], None]) -> LLMResponse:
    """Like :func:`complete`, calling ``on_delta`` with each piece of text as it arrives.

    A backend that fails before sending text is retried or replaced like in :func:`complete`. Once
    text has been passed on, a failure is not retried elsewhere (the reader already saw part of it):
    it raises :class:`LLMUnavailable`.
    """
    sent_text = False

    def run(backend: BackendConfig, timeout_s: float, _attempt: int) -> LLMResponse:
        nonlocal sent_text
        final: LLMResponse | None = None
        chunks: Iterator[StreamChunk] = get_backend(backend).stream(request, timeout_s=timeout_s)
        try:
            for chunk in chunks:
                if chunk.delta:
                    sent_text = True
                    on_delta(chunk.delta)
                if chunk.response is not None:
                    final = chunk.response
        except BackendError as exc:
            if sent_text:
                raise LLMUnavailable(f"stream from {backend.name} broke off: {exc}") from exc
            raise
        if final is None:
            raise BackendError("garbage", "stream ended without a response", retryable=False)
        return final

    return _attempts(request, run, streamed=True)


ToolCallValidator = Callable[[ToolCall], "str | None"]


def _problems(response: LLMResponse, validate: ToolCallValidator) -> dict[str, str]:
    problems: dict[str, str] = {}
    for call in response.tool_calls:
        problem = call.parse_error or validate(call)
        if problem:
            problems[call.id] = problem
    return problems


def complete_with_tool_validation(request: LLMRequest, validate: ToolCallValidator) -> LLMResponse:
    """:func:`complete`, then check every tool call; invalid ones get one repair round, then a safe reply.

    Args:
        request: the request, with the tools on offer.
        validate: returns None for a call that may run, else a short reason (unknown tool, not allowed,
            arguments not matching the schema). ``parley.tools.service.tool_call_validator`` builds one.

    Returns:
        A response whose tool calls all passed ``validate``; or, when the repaired answer is still
        invalid, ``SAFE_REPLY`` with no tool calls and ``safe_fallback=True``. Nothing invalid is returned.

    Raises:
        LLMUnavailable: as :func:`complete`.
    """
    first = complete(request)
    problems = _problems(first, validate)
    if not problems:
        return first
    log.info("llm_tool_calls_invalid", problems=problems)
    feedback = [
        ChatMessage(
            role="tool",
            tool_call_id=call.id,
            name=call.name,
            content=(
                f"ERROR: this call was not executed: {problems[call.id]}. Fix the arguments to match the schema, or answer without it."
                if call.id in problems
                else "Not executed: another tool call in the same answer was invalid. Call it again if still needed."
            ),
        )
        for call in first.tool_calls
    ]
    repair = request.model_copy(
        update={
            "messages": [
                *request.messages,
                ChatMessage(role="assistant", content=first.content, tool_calls=first.tool_calls),
                *feedback,
            ],
            "purpose": "repair",
        }
    )
    second = complete(repair)
    usage = {
        "prompt_tokens": first.prompt_tokens + second.prompt_tokens,
        "completion_tokens": first.completion_tokens + second.completion_tokens,
        "latency_ms": first.latency_ms + second.latency_ms,
    }
    if not _problems(second, validate):
        return second.model_copy(update=usage)
    log.warning("llm_tool_calls_still_invalid_after_repair", problems=_problems(second, validate))
    return second.model_copy(update={**usage, "content": SAFE_REPLY, "tool_calls": [], "safe_fallback": True})
