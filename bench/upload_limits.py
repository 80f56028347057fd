"""How fast an oversized web-chat upload is refused, and how much of it the server takes in, with the
upload gate (``parley.core.uploads.UploadLimitMiddleware``, as ``parley up`` serves) against the
same Django application without it (the baseline: Django spools the whole body, then the view's
size check answers 413), both served by uvicorn in this process, same client, same run.

The client announces a body of ``--mib`` MiB (``Content-Length``) and streams it in 64 KiB pieces
until the server answers. Figures: median time to the answer and the bytes the client had pushed
when it came (with the gate, what the kernel's socket buffers took: the server read none of a
declared body, and about the limit of a chunked one), for a declared length and for a chunked
body (no length). Ratio = baseline / gate.
"""

from __future__ import annotations

import argparse
import select
import socket
import statistics
import threading
import time
from typing import Any

from _common import emit, setup_django

PIECE = b"\0" * 65536


def serve(app: Any) -> tuple[Any, threading.Thread, int]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread, int(server.servers[0].sockets[0].getsockname()[1])


def upload(port: int, path: str, token: str, total: int, chunked: bool) -> tuple[float, int, int]:
    """Send an upload of ``total`` bytes until the server answers; returns (seconds, bytes sent, status)."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Parley-Visitor-Token: {token}\r\n"
        f"Content-Type: multipart/form-data; boundary=bench\r\n{framing}\r\n\r\n"
    ).encode()
    sent = 0
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(head)
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break
            piece = PIECE[: min(len(PIECE), total - sent)]
            try:
                sock.sendall((f"{len(piece):x}\r\n".encode() + piece + b"\r\n") if chunked else piece)
            except OSError:
                break
            sent += len(piece)
        if chunked and sent >= total:
            sock.sendall(b"0\r\n\r\n")
        answer = b""
        while b"\r\n" not in answer:
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    elapsed = time.perf_counter() - started
    status = int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return elapsed, sent, status


def measure(port: int, path: str, token: str, total: int, chunked: bool, repeats: int) -> dict[str, Any]:
    runs = [upload(port, path, token, total, chunked) for _ in range(repeats)]
    return {
        "ms_to_answer_p50": round(statistics.median(r[0] for r in runs) * 1000, 1),
        "mib_client_sent_p50": round(statistics.median(r[1] for r in runs) / 1024 / 1024, 2),
        "statuses": sorted({r[2] for r in runs}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=100, help="size of the oversized upload (MiB)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    services = setup_django("bench-uploads")
    try:
        run(args.mib, args.repeats)
    finally:
        services.stop()


def run(mib: int, repeats: int) -> None:

    from django.conf import settings
    from django.core.asgi import get_asgi_application

    from parley.accounts import actions as accounts
    from parley.config.asgi import application
    from parley.connectors.asgi import with_webhook_fast_path
    from parley.connectors.models import Channel
    from parley.connectors.webchat import service

    slug = f"bench-uploads-{int(time.time())}"
    tenant = accounts.create_tenant(slug=slug, name="Bench uploads")
    channel = Channel.objects.create(tenant=tenant, type="webchat", name="Chat", key=f"{slug}-widget")
    token = service.start_session(channel, token=None, name="Bench", email="", locale="en").visitor_token
    path = f"/api/v1/webchat/{channel.key}/uploads/"
    total = mib * 1024 * 1024

    gated_server, gated_thread, gated_port = serve(application)
    baseline_server, baseline_thread, baseline_port = serve(with_webhook_fast_path(get_asgi_application()))
    try:
        gate = {
            "declared": measure(gated_port, path, token, total, False, repeats),
            "chunked": measure(gated_port, path, token, total, True, repeats),
        }
        baseline = {
            "declared": measure(baseline_port, path, token, total, False, repeats),
            "chunked": measure(baseline_port, path, token, total, True, repeats),
        }
    finally:
        gated_server.should_exit = True
        baseline_server.should_exit = True
        gated_thread.join(timeout=10)
        baseline_thread.join(timeout=10)

    emit(
        {
            "bench": "upload_limits",
            "figure": "ms to refuse an oversized web-chat upload (413) and MiB the client pushed meanwhile, with the upload gate",
            "upload_mib": mib,
            "limit_mib": round(settings.MAX_UPLOAD_BYTES / 1024 / 1024, 2),
            "gate": gate,
            "baseline_without_gate": baseline,
            "ratio_time_declared": round(
                baseline["declared"]["ms_to_answer_p50"] / max(gate["declared"]["ms_to_answer_p50"], 0.1), 1
            ),
            "ratio_time_chunked": round(
                baseline["chunked"]["ms_to_answer_p50"] / max(gate["chunked"]["ms_to_answer_p50"], 0.1), 1
            ),
        }
    )


if __name__ == "__main__":
    main()
