"""``parley datasets``, ``parley train``, ``parley evaluate`` and ``parley models``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from parley.cli.django_env import setup_django


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, default=str, sort_keys=False))


def _format_choice() -> click.Choice:
    from parley.intelligence.datasets import formats

    return click.Choice(sorted(formats()))


@click.group()
def datasets() -> None:
    """Load, check and import datasets (BANKING77, CLINC150, Bitext, SGD, TWCS, ABCD, synthetic CSV, ...)."""


@datasets.command("formats")
def formats_command() -> None:
    """List the dataset formats and what they expect."""
    from parley.intelligence.datasets import formats

    for name, description in sorted(formats().items()):
        click.echo(f"{name:12} {description}")


@datasets.command("quality")
@click.argument("format", type=_format_choice())
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Also write the full report (JSON) here.")
def quality_command(format: str, path: Path, out: Path | None) -> None:
    """Print the data quality report of PATH (completeness, duplicates, lengths, labels, languages, schema errors)."""
    from parley.intelligence.datasets import DatasetError, load
    from parley.intelligence.quality import quality_report

    try:
        report = quality_report(load(format, path))
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from exc
    if out is not None:
        out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    _echo_json(report)


@datasets.command("import")
@click.argument("format", type=_format_choice())
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug to import into.")
@click.option("--limit", type=int, default=None, help="Import at most this many conversations.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def import_command(format: str, path: Path, tenant_slug: str, limit: int | None, no_progress: bool) -> None:
    """Import PATH as the tenant's conversations; prints a JSON summary (idempotent: re-running skips known ones)."""
    services = setup_django(migrate=True)
    try:
        from parley.accounts.models import Tenant
        from parley.intelligence.actions import import_dataset
        from parley.intelligence.datasets import DatasetError

        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise click.ClickException(f"no tenant {tenant_slug!r}")
        try:
            report = import_dataset(tenant, format, path, limit=limit, progress=not no_progress)
        except DatasetError as exc:
            raise click.ClickException(str(exc)) from exc
        _echo_json(report.summary())
    finally:
        services.stop()


commands: list[click.Command] = [datasets]
