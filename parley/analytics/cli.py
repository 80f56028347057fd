"""``parley analytics ...``: batch analysis, fact refresh, alert evaluation, CSV and PDF exports."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import click

from parley.cli.django_env import setup_django


def _tenant(slug: str) -> Any:
    from parley.accounts.models import Tenant

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise click.ClickException(f"no tenant {slug!r}")
    return tenant


def _filter(start: str | None, end: str | None, extra: dict[str, Any] | None = None) -> Any:
    from parley.analytics.serializers import AnalyticsFilterSerializer

    data = {k: v for k, v in {"start": start, "end": end, **(extra or {})}.items() if v is not None}
    serializer = AnalyticsFilterSerializer(data=data)
    if not serializer.is_valid():
        raise click.ClickException(json.dumps(serializer.errors))
    return serializer.to_filter()


@click.group()
def analytics() -> None:
    """Conversation analytics: analyse, refresh facts and roll-ups, alerts, exports."""


@analytics.command("analyse")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug.")
@click.option("--source", default=None, help="Only conversations from this source (live, sgd, twcs, ...).")
@click.option("--no-analysis", is_flag=True, help="Skip message analysis; only recompute facts and roll-ups.")
def analyse_command(tenant_slug: str, source: str | None, no_analysis: bool) -> None:
    """Analyse messages, derive flow / failure points / metrics per conversation, rebuild roll-ups."""
    services = setup_django(migrate=True)
    try:
        from parley.analytics.batch import analyse_tenant

        result = analyse_tenant(_tenant(tenant_slug), source=source, analyse=not no_analysis)
        click.echo(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(result).items()}))
    finally:
        services.stop()


@analytics.command("summary")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--start", default=None, help="YYYY-MM-DD")
@click.option("--end", default=None, help="YYYY-MM-DD (inclusive)")
@click.option("--source", default=None)
@click.option("--business-hours", is_flag=True)
def summary_command(tenant_slug: str, start: str | None, end: str | None, source: str | None, business_hours: bool) -> None:
    """Print the support metrics as JSON."""
    services = setup_django(migrate=True)
    try:
        from parley.analytics.metrics.query import filtered_facts
        from parley.analytics.metrics.support import summary

        flt = _filter(start, end, {"source": source, "business_hours": business_hours})
        click.echo(json.dumps(summary(filtered_facts(_tenant(tenant_slug), flt), business_hours=flt.business_hours), indent=2))
    finally:
        services.stop()


@analytics.command("evaluate-alerts")
def evaluate_alerts_command() -> None:
    """Evaluate every enabled alert rule now (what Celery beat does every minute)."""
    services = setup_django(migrate=True)
    try:
        from parley.analytics.tasks import evaluate_alerts

        click.echo(json.dumps({"fired": evaluate_alerts.run()}))
    finally:
        services.stop()


@analytics.command("export")
@click.argument("table")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--start", default=None)
@click.option("--end", default=None)
@click.option("--by", default=None, help="Dimension for the breakdown table.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="File to write (default: stdout).")
def export_command(table: str, tenant_slug: str, start: str | None, end: str | None, by: str | None, out: Path | None) -> None:
    """Write TABLE as CSV (summary, breakdown, agents, conversations, failures, failure_points, flow, ...)."""
    services = setup_django(migrate=True)
    try:
        from parley.analytics.exports import EXPORT_TABLES, export_csv

        if table not in EXPORT_TABLES:
            raise click.ClickException(f"unknown table {table!r}; one of: {', '.join(EXPORT_TABLES)}")
        lines = export_csv(_tenant(tenant_slug), table, _filter(start, end), {"by": by})
        stream = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
        try:
            for line in lines:
                stream.write(line)
        finally:
            if out:
                stream.close()
    finally:
        services.stop()


@analytics.command("report")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--start", default=None)
@click.option("--end", default=None)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="PDF file to write.")
def report_command(tenant_slug: str, start: str | None, end: str | None, out: Path) -> None:
    """Write the PDF report for a date range."""
    services = setup_django(migrate=True)
    try:
        from parley.analytics.exports import build_pdf_report

        out.write_bytes(build_pdf_report(_tenant(tenant_slug), _filter(start, end)))
        click.echo(json.dumps({"report": str(out), "generated": date.today().isoformat()}))
    finally:
        services.stop()


commands = [analytics]
