"""Overhead of the LLM router (retry/fallback logic, Redis circuit breaker, one LLMCall row per attempt)
over a bare `openai` SDK call, both against the same local fake OpenAI-compatible server, in the same run.
Also reports the latency of a failover (primary answers 500, fallback answers) against a direct call."""

from __future__ import annotations

import argparse
import time

from _common import emit, setup_django, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200, help="calls per measurement")
    args = parser.parse_args()
    setup_django("bench-llm")

    import openai

    from parley.llm.breaker import CircuitBreaker
    from parley.llm.router import complete
    from parley.llm.types import BackendConfig, ChatMessage, LLMRequest, RoutingConfig
    from parley.testing.fake_llm import FakeLLMServer, FakeReply

    messages = [
        ChatMessage(role="system", content="You are a support bot."),
        ChatMessage(role="user", content="Where is order 1001?"),
    ]
    with FakeLLMServer() as primary, FakeLLMServer() as fallback:
        good = BackendConfig(name="primary", base_url=primary.url, model="m", max_retries=0, timeout_s=5)
        spare = BackendConfig(name="fallback", base_url=fallback.url, model="m", max_retries=0, timeout_s=5)
        for config in (good, spare):
            CircuitBreaker(config).reset()
        raw_client = openai.OpenAI(base_url=primary.url, api_key="x", max_retries=0, timeout=5)
        wire = [{"role": m.role, "content": m.content} for m in messages]

        def raw_call() -> None:
            raw_client.chat.completions.create(model="m", messages=wire, temperature=0.2, max_tokens=512)  # type: ignore[arg-type]

        request = LLMRequest(messages=messages, routing=RoutingConfig(backends=[good]), tenant_id=None, purpose="bench")

        def measure(call: object, n: int) -> list[float]:
            samples = []
            for _ in range(n):
                started = time.perf_counter()
                call()  # type: ignore[operator]
                samples.append((time.perf_counter() - started) * 1000)
            return samples

        measure(raw_call, 10)
        measure(lambda: complete(request), 10)
        raw, routed = [], []
        for _ in range(4):  # interleave to share any machine noise fairly
            raw += measure(raw_call, args.calls // 4)
            routed += measure(lambda: complete(request), args.calls // 4)

        # failover: the primary always fails with 500; threshold high enough that the breaker stays closed
        import os

        os.environ["PARLEY_LLM_BREAKER_THRESHOLD"] = str(10 * args.calls)
        primary.responder = lambda body: FakeReply.error(500)
        failover_request = LLMRequest(messages=messages, routing=RoutingConfig(backends=[good, spare]), purpose="bench")
        failover = measure(lambda: complete(failover_request), max(args.calls // 4, 10))
        # with the breaker open (default threshold), the dead primary is skipped without a request
        os.environ["PARLEY_LLM_BREAKER_THRESHOLD"] = "1"
        complete(failover_request)
        skipped = measure(lambda: complete(failover_request), max(args.calls // 4, 10))
        CircuitBreaker(good).reset()

    raw_s, routed_s = summary(raw), summary(routed)
    emit(
        {
            "bench": "llm_router",
            "figure": "router p50 latency per completion (ms)",
            "value": routed_s["p50"],
            "baseline": "bare openai SDK call to the same fake server (ms, p50)",
            "baseline_value": raw_s["p50"],
            "ratio": round(routed_s["p50"] / raw_s["p50"], 3),
            "overhead_ms_p50": round(routed_s["p50"] - raw_s["p50"], 3),
            "router": routed_s,
            "raw": raw_s,
            "failover_500_then_fallback_ms": summary(failover),
            "failover_with_open_circuit_ms": summary(skipped),
            "calls": len(routed),
        }
    )


if __name__ == "__main__":
    main()
