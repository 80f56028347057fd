"""``parley assistant``: talk to a tenant's assistant through the real pipeline from the terminal."""

from __future__ import annotations

import json
from typing import Any

import click

from parley.cli.django_env import setup_django


@click.group()
def assistant() -> None:
    """Assistants: chat with one through the real pipeline, list them."""


@assistant.command("chat")
@click.argument("text")
@click.option("--tenant", "tenant_slug", default="demo", show_default=True, help="Tenant slug.")
@click.option("--visitor", default="cli-visitor", show_default=True, help="Web-chat visitor id (same id = same conversation).")
@click.option("--name", default="", help="Visitor display name (first message).")
@click.option("--button", default="", help="Id of a quick-reply button pressed (e.g. confirm_yes).")
@click.option("--trace", "show_trace", is_flag=True, help="Print the turn trace as JSON.")
def chat(text: str, tenant_slug: str, visitor: str, name: str, button: str, show_trace: bool) -> None:
    """Send TEXT as a web-chat visitor, run the assistant's turn here, print the reply."""
    services = setup_django(migrate=True)
    try:
        import uuid

        from parley.accounts.models import Tenant
        from parley.connectors.base import InboundMessage
        from parley.connectors.models import Channel
        from parley.conversations.actions import receive_inbound
        from parley.conversations.models import Message, SenderType
        from parley.orchestrator.models import TurnTrace
        from parley.orchestrator.turn import run_turn

        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise click.ClickException(f"no tenant {tenant_slug!r} (run `parley up` once for the demo tenant)")
        channel = Channel.objects.filter(tenant=tenant, type="webchat").order_by("created_at").first()
        if channel is None:
            raise click.ClickException("this tenant has no web-chat channel")
        result = receive_inbound(
            channel=channel,
            inbound=InboundMessage(
                channel_type="webchat",
                external_id=f"cli-{uuid.uuid4().hex}",
                sender_external_id=visitor,
                sender_name=name,
                text=text,
                button_id=button,
            ),
            enqueue_turn=False,
        )
        outcome = run_turn(str(result.message.id), conversation_id=str(result.message.conversation_id))
        replies = Message.objects.filter(
            conversation=result.conversation, sender_type=SenderType.ASSISTANT, metadata__turn_message_id=str(result.message.id)
        ).order_by("created_at")
        for reply in replies:
            click.echo(reply.text)
            if reply.buttons:
                click.echo("  [" + "] [".join(f"{b['title']} ({b['id']})" for b in reply.buttons) + "]")
        trace: Any = TurnTrace.objects.filter(message=result.message).first()
        result.conversation.refresh_from_db()
        click.echo(
            f"-- {outcome}; responder={getattr(trace, 'responder', '')}; conversation {result.conversation.id} "
            f"is {result.conversation.status}",
            err=True,
        )
        if show_trace and trace is not None:
            from parley.orchestrator.api import TurnTraceSerializer

            click.echo(json.dumps(TurnTraceSerializer(trace).data, indent=2, default=str))
    finally:
        services.stop()


@assistant.command("list")
@click.option("--tenant", "tenant_slug", default="demo", show_default=True, help="Tenant slug.")
def list_assistants(tenant_slug: str) -> None:
    """List the tenant's assistants with their active version and tools."""
    services = setup_django()
    try:
        from parley.assistants.models import Assistant

        for row in Assistant.objects.filter(tenant__slug=tenant_slug).select_related("active_version"):
            version = row.active_version.number if row.active_version else "-"
            flags = " default" if row.is_default else ""
            click.echo(f"{row.id}  {row.name}  v{version}{flags}  tools={','.join(row.allowed_tools or [])}")
    finally:
        services.stop()


commands = [assistant]
