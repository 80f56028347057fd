"""Errors raised by the LLM layer."""

from __future__ import annotations


class LLMUnavailable(Exception):
    """Every backend failed (or was skipped by its circuit breaker); the caller should fall back."""

    def __init__(self, message: str, failures: list[str] | None = None) -> None:
        super().__init__(message)
        self.failures = failures or []


class BackendError(Exception):
    """One attempt against one backend failed.

    Attributes:
        kind: rate_limited, server_error, timeout, connection, garbage, bad_request, auth.
        retryable: whether the same backend may be tried again after a pause.
        status_code: the HTTP status, when the server answered.
        retry_after: seconds the server asked us to wait (429), if any.
        trips_breaker: whether this failure says something about the backend's health.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
        trips_breaker: bool = True,
    ) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after
        self.trips_breaker = trips_breaker
