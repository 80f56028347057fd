"""A circuit breaker per backend, kept in Redis so every worker and web process shares it.

After ``threshold`` consecutive failed calls (each after its own retries) the circuit opens for
``cooldown_s`` seconds: calls skip the backend and go straight to the next one. When the cooldown
ends, one caller gets a probe slot (half-open); its success closes the circuit, its failure opens it
again. If Redis itself is unreachable the breaker lets calls through (fail-open) and logs it.
"""

from __future__ import annotations

import hashlib
import time

import redis
import structlog

from parley.config.env import env_int
from parley.core.redis import get_redis
from parley.llm.types import BackendConfig

log = structlog.get_logger(__name__)

KEY_PREFIX = "parley:llm:breaker:"


def breaker_threshold() -> int:
    return env_int("PARLEY_LLM_BREAKER_THRESHOLD", 5)


def breaker_cooldown_s() -> int:
    return env_int("PARLEY_LLM_BREAKER_COOLDOWN_S", 30)


class CircuitBreaker:
    """The shared breaker of one backend (identified by base URL and model)."""

    def __init__(self, backend: BackendConfig, *, threshold: int | None = None, cooldown_s: int | None = None) -> None:
        identity = f"{backend.base_url.rstrip('/')}|{backend.model}".encode()
        self.key = KEY_PREFIX + hashlib.sha256(identity).hexdigest()[:20]
        self.threshold = threshold if threshold is not None else breaker_threshold()
        self.cooldown_s = cooldown_s if cooldown_s is not None else breaker_cooldown_s()
        self._clean = False

    def allow(self) -> bool:
        """Whether a call may go to this backend now (closed, or the one half-open probe)."""
        try:
            client = get_redis()
            opened_until, failures = client.mget([self.key + ":open_until", self.key + ":failures"])
            self._clean = opened_until is None and failures is None
            if opened_until is None:
                return True
            if time.time() < float(opened_until):
                return False
            return bool(client.set(self.key + ":probe", "1", nx=True, ex=max(self.cooldown_s, 5)))
        except redis.RedisError as exc:
            log.warning("llm_breaker_unavailable", error=str(exc))
            return True

    def state(self) -> str:
        """``closed``, ``open`` or ``half_open`` (for health pages and tests)."""
        try:
            opened_until = get_redis().get(self.key + ":open_until")
        except redis.RedisError:
            return "closed"
        if opened_until is None:
            return "closed"
        return "open" if time.time() < float(opened_until) else "half_open"

    def record_success(self) -> None:
        if self._clean:  # nothing to reset: saves a Redis round trip on the common path
            return
        try:
            get_redis().delete(self.key + ":failures", self.key + ":open_until", self.key + ":probe")
        except redis.RedisError as exc:
            log.warning("llm_breaker_unavailable", error=str(exc))

    def record_failure(self) -> None:
        try:
            client = get_redis()
            pipe = client.pipeline()
            pipe.incr(self.key + ":failures")
            pipe.expire(self.key + ":failures", max(self.cooldown_s * 4, 60))
            pipe.get(self.key + ":open_until")
            failures, _, opened_until = pipe.execute()
            half_open = opened_until is not None
            if half_open or int(failures) >= self.threshold:
                client.set(self.key + ":open_until", str(time.time() + self.cooldown_s), ex=self.cooldown_s * 10)
                client.delete(self.key + ":probe")
                log.warning("llm_circuit_opened", breaker=self.key, failures=int(failures), cooldown_s=self.cooldown_s)
        except redis.RedisError as exc:
            log.warning("llm_breaker_unavailable", error=str(exc))

    def reset(self) -> None:
        self._clean = False
        self.record_success()
