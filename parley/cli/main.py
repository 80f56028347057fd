"""The ``parley`` command."""

from __future__ import annotations

import os
from importlib import import_module
from importlib.util import find_spec

import click

from parley.cli.apikey import apikey
from parley.cli.doctor import doctor
from parley.cli.manage import manage
from parley.cli.up import up

# Apps that ship their own commands (``parley/<app>/cli.py`` exposing ``commands``).
_APP_COMMAND_MODULES = [
    "parley.intelligence.cli",
    "parley.knowledge.cli",
    "parley.analytics.cli",
    "parley.connectors.cli",
    "parley.assistants.cli",
    "parley.cli.bench",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="parley")
def cli() -> None:
    """Parley: self-hosted AI customer support and conversation intelligence.

    Start everything with `parley up`; check an installation with `parley doctor`.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


cli.add_command(up)
cli.add_command(doctor)
cli.add_command(apikey)
cli.add_command(manage)

for _module_name in _APP_COMMAND_MODULES:
    if find_spec(_module_name) is not None:
        for _command in import_module(_module_name).commands:
            cli.add_command(_command)


if __name__ == "__main__":
    cli()
