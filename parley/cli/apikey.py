"""``parley apikey``: create, list and revoke API keys."""

from __future__ import annotations

import click

from parley.cli.django_env import setup_django

ROLES = ["owner", "admin", "supervisor", "agent", "analyst"]


@click.group()
def apikey() -> None:
    """Manage API keys (`Authorization: Bearer <key>`)."""


@apikey.command("create")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug, e.g. demo.")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True, help="Role the key acts with.")
@click.option("--name", default="cli", show_default=True, help="A label to recognise the key by.")
def create(tenant_slug: str, role: str, name: str) -> None:
    """Create a key and print it (it is shown only once)."""
    services = setup_django(migrate=True)
    try:
        from parley.accounts.actions import create_api_key
        from parley.accounts.models import Tenant

        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise click.ClickException(
                f"no tenant {tenant_slug!r}; known: {', '.join(Tenant.objects.values_list('slug', flat=True)) or 'none'}"
            )
        issued = create_api_key(tenant=tenant, name=name, role=role, actor="cli")
        click.echo(issued.secret)
    finally:
        services.stop()


@apikey.command("list")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug.")
def list_keys(tenant_slug: str) -> None:
    """List a tenant's keys (prefixes only)."""
    services = setup_django()
    try:
        from parley.accounts.models import ApiKey

        for key in ApiKey.objects.filter(tenant__slug=tenant_slug):
            state = "revoked" if key.revoked_at else "active"
            click.echo(f"{key.prefix}\t{key.role}\t{state}\t{key.name}")
    finally:
        services.stop()


@apikey.command("revoke")
@click.argument("prefix")
def revoke(prefix: str) -> None:
    """Revoke the key whose prefix is PREFIX."""
    services = setup_django()
    try:
        from parley.accounts.actions import revoke_api_key
        from parley.accounts.models import ApiKey

        key = ApiKey.objects.filter(prefix=prefix).first()
        if key is None:
            raise click.ClickException(f"no key with prefix {prefix!r}")
        revoke_api_key(api_key=key, actor="cli")
        click.echo(f"revoked {prefix}")
    finally:
        services.stop()
