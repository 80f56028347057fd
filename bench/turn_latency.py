"""Assistant turn latency: time from the stored inbound message to the stored reply (database timestamps),
through a real Celery worker started like `parley up`'s live worker (its own process, the threads pool, the
webhooks, assistant and outbound queues, `parley up`'s default number of threads), p50/p95 over N messages (default 120: knowledge questions and
order look-ups; a visitor's orders exist before they ask; each message is handed to the assistant on
commit, as a connector does):

- with the built-in retrieval responder;
- with an OpenAI-compatible stub (parley/testing/fake_llm.py) that answers after a fixed delay; the
  figure is the pipeline's overhead above that delay (target p95 <= 60 ms). Baseline, same run: a
  direct ``parley.llm.router.complete`` call to the same stub (delay + HTTP + router).

Then ``--burst`` customers (default 8) write at the same moment, three times, to the LLM assistant: the
latency of each reply shows how many turns the live worker carries at once (``--pool prefork`` runs the
worker with two processes, as ``parley up`` did before its threads pool, for comparison).

Own embedded services in .parley-bench-turns. Usage: python bench/turn_latency.py [--messages N] [--delay-ms D]
[--burst N] [--pool threads|prefork]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import time
from typing import Any

from _common import REPO, emit, setup_django, summary

ORDER_NUMBERS = itertools.count(5001)
QUESTIONS = [
    "How long do refunds take for {item}?",
    "Where is my order #{order}?",
    "How much does express delivery cost for {item}?",
    "Is shipping free for {item}?",
    "Where is my order #{order}?",
    "How do I return {item}?",
]
# Every message is a new text, as real messages are: none can reuse an embedding cached by an earlier turn.
ITEMS = [
    f"{colour} {thing}"
    for colour in ("a red", "a blue", "a green", "a black", "a white", "a grey", "a pink", "a yellow", "an orange")
    for thing in (
        "kettle",
        "toaster",
        "blender",
        "lamp",
        "jacket",
        "backpack",
        "phone case",
        "teapot",
        "mug",
        "scarf",
        "umbrella",
    )
]
ITEM_NUMBERS = itertools.count()


def question(index: int) -> tuple[str, str | None]:
    """The ``index``-th question of the mix, and the order number it asks about (None: no order)."""
    text = QUESTIONS[index % len(QUESTIONS)]
    if "{order}" in text:
        order_number = str(next(ORDER_NUMBERS))
        return text.format(order=order_number), order_number
    return text.format(item=ITEMS[next(ITEM_NUMBERS) % len(ITEMS)]), None


BREAKDOWN: dict[str, dict[str, list[float]]] = {}


def run(shop: dict[str, Any], n: int, label: str) -> list[float]:
    """Send n messages (one new visitor every 6), wait for each reply, return latencies in ms.

    Also records, per run label, where the time went in BREAKDOWN: the queue wait before the worker started
    the turn (the message's timestamp to its trace's), split at the moment the turn was enqueued on commit
    (``to_enqueue_ms``; then ``pickup_ms``: Celery hands the task to a pool process, which reads the message,
    takes the conversation's lock and creates the trace); ``receive_tail_ms``, all of ``receive_inbound``
    after the message's timestamp (the inbox events are built after the enqueue); and the turn's own stage
    timings from its trace (``cpu_ms``: the worker's CPU time over the whole turn).
    """
    from _assistant_shop import customer_for, make_order, replies_to, store_inbound

    import parley.conversations.actions as conversation_actions
    from parley.orchestrator.models import TurnTrace

    enqueued: list[float] = []
    original_enqueue = conversation_actions._enqueue_turn

    def timed_enqueue(*args: Any) -> None:
        enqueued.append(time.time())  # the moment the worker could start: commit done, the turn handed off
        original_enqueue(*args)

    conversation_actions._enqueue_turn = timed_enqueue
    latencies: list[float] = []
    for index in range(n):
        visitor = f"{label}-{index // len(QUESTIONS)}"
        text, order_number = question(index)
        if order_number is not None:
            make_order(customer_for(shop["channel"], visitor), order_number)  # the order exists before the question
        # stored and handed to the assistant on commit, as every connector does
        result = store_inbound(shop["channel"], visitor, text, enqueue_turn=True)
        returned = time.time()  # stored, committed, events and turn handed off
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = TurnTrace.objects.filter(message=result.message, status__in=["done", "failed"]).exists()
            if done:
                break
            # Latency comes from database timestamps, so this loop only has to notice the end; polling more
            # often would steal CPU from the worker on a small box (a real sender does not poll the database).
            time.sleep(0.05)
        replies = replies_to(result.message)
        if not replies:
            raise SystemExit(f"no reply to {text!r} ({label})")
        latencies.append((replies[0].created_at - result.message.created_at).total_seconds() * 1000)
        trace = TurnTrace.objects.get(message=result.message)
        stages = BREAKDOWN.setdefault(label, {})
        stages.setdefault("queue_wait_ms", []).append((trace.created_at - result.message.created_at).total_seconds() * 1000)
        stages.setdefault("receive_tail_ms", []).append((returned - result.message.created_at.timestamp()) * 1000)
        stages.setdefault("to_enqueue_ms", []).append((enqueued[-1] - result.message.created_at.timestamp()) * 1000)
        stages.setdefault("pickup_ms", []).append((trace.created_at.timestamp() - enqueued[-1]) * 1000)
        for stage, value in (trace.timings_ms or {}).items():
            stages.setdefault(stage, []).append(float(value))
    conversation_actions._enqueue_turn = original_enqueue
    return latencies


def warm_up(shop: dict[str, Any], n: int, label: str) -> None:
    """Send ``n`` messages at once (so every pool process takes some and loads its models), wait for all."""
    from _assistant_shop import replies_to, store_inbound

    sent = [store_inbound(shop["channel"], f"{label}-{index}", question(index)[0], enqueue_turn=True) for index in range(n)]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(replies_to(result.message) for result in sent):
        time.sleep(0.05)


def burst(shop: dict[str, Any], n: int, label: str) -> list[float]:
    """``n`` customers write at the same moment (each a new conversation); latency of each reply in ms."""
    from _assistant_shop import replies_to, store_inbound

    sent = [store_inbound(shop["channel"], f"{label}-{index}", question(index * 6)[0], enqueue_turn=True) for index in range(n)]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(replies_to(result.message) for result in sent):
        time.sleep(0.05)
    latencies = []
    for result in sent:
        replies = replies_to(result.message)
        if not replies:
            raise SystemExit(f"no reply in the burst ({label})")
        latencies.append((replies[0].created_at - result.message.created_at).total_seconds() * 1000)
    return latencies


def start_live_worker(pool: str | None = None) -> subprocess.Popen[bytes]:
    """The live worker as ``parley up`` starts it (its pool and threads; or another ``pool``), in its own process."""
    from parley.cli.up import LIVE_CONCURRENCY
    from parley.config.celery import LIVE_QUEUES
    from parley.runtime.supervisor import LIVE_POOL, worker_command

    command = [*worker_command(LIVE_CONCURRENCY, role="bench-turns", queues=LIVE_QUEUES, pool=pool or LIVE_POOL)]
    if pool == "prefork":
        command[command.index("--concurrency") + 1] = "2"  # what `parley up` ran before the threads pool
    command[command.index("INFO")] = "WARNING"
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="parley.config.settings", PYTHONPATH=str(REPO))
    env.setdefault("PARLEY_TORCH_THREADS", "1")  # as `parley up` sets it
    return subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=120, help="messages per responder (a p95 of fewer is mostly noise)")
    parser.add_argument("--delay-ms", type=int, default=200)
    parser.add_argument(
        "--burst", type=int, default=8, help="then this many customers write at once (LLM stub); 0 skips the burst"
    )
    parser.add_argument(
        "--pool",
        choices=["threads", "prefork"],
        default=None,
        help="the live worker's Celery pool (default: parley up's, threads; prefork: two processes, as before)",
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch intra-op threads for the embedder (0: torch's default). On a shared 2-core box one thread is ~10x faster.",
    )
    args = parser.parse_args()
    if args.torch_threads:
        os.environ["OMP_NUM_THREADS"] = str(args.torch_threads)
        import torch

        torch.set_num_threads(args.torch_threads)
    services = setup_django("bench-turns")
    from _assistant_shop import make_shop

    from parley.config.celery import QUEUE_NAMES, app
    from parley.llm.router import complete
    from parley.llm.types import BackendConfig, ChatMessage, LLMRequest, RoutingConfig
    from parley.testing.fake_llm import FakeLLMServer, FakeReply

    delay_s = args.delay_ms / 1000
    with FakeLLMServer() as llm:
        llm.responder = lambda body: FakeReply.text(
            "Our help centre says standard delivery takes 2-4 business days.", delay_s=delay_s
        )
        retrieval_shop = make_shop("bench-turns-rr")
        llm_shop = make_shop(
            "bench-turns-llm",
            llm={
                "backends": [{"name": "stub", "base_url": llm.url, "model": "stub", "timeout_s": 10, "max_retries": 0}],
                "timeout_s": 10,
            },
        )
        with app.connection_for_write() as connection:
            for queue in QUEUE_NAMES:
                connection.default_channel.queue_purge(queue)
        worker = start_live_worker(args.pool)
        bursts: list[float] = []
        try:
            from parley.intelligence.tasks import warm_up as load_models

            load_models.delay()  # as `parley up` does once the live worker answers
            warm_up(retrieval_shop, 8, "warm-rr")  # every pool process loads the models and warms its caches
            warm_up(llm_shop, 8, "warm-llm")
            run(retrieval_shop, 6, "warm-rr-seq")
            retrieval = run(retrieval_shop, args.messages, "rr")
            with_llm = run(llm_shop, args.messages, "llm")
            for round_ in range(3 if args.burst else 0):
                bursts += burst(llm_shop, args.burst, f"burst-{round_}")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        backend = BackendConfig(name="stub", base_url=llm.url, model="stub", timeout_s=10, max_retries=0)
        direct: list[float] = []
        for _ in range(max(10, args.messages // 2)):
            started = time.perf_counter()
            complete(
                LLMRequest(
                    messages=[ChatMessage(role="user", content="How long does delivery take?")],
                    routing=RoutingConfig(backends=[backend]),
                    purpose="bench",
                )
            )
            direct.append((time.perf_counter() - started) * 1000)
    llm_summary = summary(with_llm)
    direct_summary = summary(direct)
    overhead_p95 = round(llm_summary["p95"] - args.delay_ms, 1)
    overhead_vs_direct_p95 = round(llm_summary["p95"] - direct_summary["p95"], 1)
    emit(
        {
            "figure": "turn_latency_ms",
            "messages": args.messages,
            "retrieval_responder": summary(retrieval),
            "llm_stub_delay_ms": args.delay_ms,
            "llm_responder": llm_summary,
            "llm_overhead_p95_ms": overhead_p95,
            "baseline": {"direct_router_call_ms": direct_summary},
            "llm_overhead_vs_direct_call_p95_ms": overhead_vs_direct_p95,
            "ratio": round(llm_summary["p95"] / direct_summary["p95"], 3),
            "target_overhead_p95_ms": 60,
            "pool": args.pool or "threads",
            # three rounds of --burst customers writing at once to the LLM assistant: latency of each reply
            **({f"burst_of_{args.burst}_ms": summary(bursts) | {"max": round(max(bursts), 1)}} if bursts else {}),
            "stage_p50_ms": {
                label: {stage: round(statistics.median(values), 1) for stage, values in BREAKDOWN.get(label, {}).items()}
                for label in ("rr", "llm")
            },
            "load_average_1m": round(os.getloadavg()[0], 2),
            "cpu_count": os.cpu_count(),
            "torch_threads": args.torch_threads or "default",
        }
    )
    services.stop()


if __name__ == "__main__":
    main()
