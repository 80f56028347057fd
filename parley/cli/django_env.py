"""Set up Django for a CLI command on the configured or embedded services."""

from __future__ import annotations

import os

import click

from parley.config.env import data_dir
from parley.runtime.embedded import ServiceError
from parley.runtime.services import Services, ensure_services


def setup_django(*, migrate: bool = False, quiet: bool = True) -> Services:
    """Start or join the services, configure Django, optionally apply migrations.

    Raises:
        click.ClickException: when a service cannot start (with the reason).
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
    os.environ.setdefault("PARLEY_LOG_FORMAT", "console")
    os.environ.setdefault("PARLEY_LOG_LEVEL", "WARNING")
    try:
        services = ensure_services(data_dir())
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0 if quiet else 1)
    return services
