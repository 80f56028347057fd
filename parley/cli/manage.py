"""``parley manage``: Django's management commands on the configured or embedded services."""

from __future__ import annotations

import click

from parley.cli.django_env import setup_django


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command, e.g. `parley manage migrate` or `parley manage help`."""
    services = setup_django()
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["parley manage", *(args or ("help",))])
    finally:
        services.stop()
