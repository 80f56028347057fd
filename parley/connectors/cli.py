"""``parley channels …``: a local fake Graph API for trying WhatsApp/Messenger without Meta, and a
signer for hand-made webhook requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import click


@click.group(name="channels")
def channels() -> None:
    """Channel tools: a fake Graph API server and webhook signing."""


@channels.command(name="fake-graph")
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--webhook-url", default="", help="Also send Meta's signed 'sent' status webhooks here.")
@click.option("--app-secret", default="", help="App secret that signs those status webhooks.")
def fake_graph(port: int, webhook_url: str, app_secret: str) -> None:
    """Run a fake Graph API (WhatsApp Cloud API + Messenger Send API) and print every request it gets.

    Point a channel's config.api_base_url at it, e.g. http://127.0.0.1:8765 .
    """
    from parley.connectors.testing.fake_graph import FakeGraphServer, _handler_for

    fake = FakeGraphServer(webhook_url=webhook_url, app_secret=app_secret)
    fake._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(fake))
    fake._server.daemon_threads = True
    threading.Thread(target=fake._server.serve_forever, daemon=True).start()
    click.echo(f"fake Graph API on {fake.url} (Ctrl-C to stop)")
    seen = 0
    try:
        while True:
            while seen < len(fake.requests):
                request = fake.requests[seen]
                seen += 1
                body = request.body.decode("utf-8", "replace")
                click.echo(f"{request.method} {request.path} {body}")
            time.sleep(0.2)
    except KeyboardInterrupt:
        fake.stop()


@channels.command(name="sign")
@click.option("--secret", required=True, help="The app secret (Meta) or channel secret (generic).")
@click.argument("payload", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
def sign_payload(secret: str, payload: str) -> None:
    """Print the sha256=… signature header value of a payload file (or - for stdin)."""
    body = sys.stdin.buffer.read() if payload == "-" else Path(payload).read_bytes()
    json.loads(body)  # refuse to sign something that is not JSON
    click.echo("sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())


commands = [channels]
