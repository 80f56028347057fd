"""``parley knowledge``: ingest files, search, coverage report, sync web sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from parley.cli.django_env import setup_django


@click.group()
def knowledge() -> None:
    """Knowledge base: ingest documents, search them, see which questions it cannot answer."""


def _tenant(slug: str) -> Any:
    from parley.accounts.models import Tenant

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        known = ", ".join(Tenant.objects.values_list("slug", flat=True)) or "none"
        raise click.ClickException(f"no tenant {slug!r}; known: {known}")
    return tenant


@knowledge.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--tenant", "tenant_slug", default="demo", show_default=True, help="Tenant slug.")
@click.option("--source", "source_name", default="Files", show_default=True, help="Source name (created if missing).")
@click.option("--tag", "tags", multiple=True, help="Tag every document (repeatable).")
@click.option("--background", is_flag=True, help="Queue indexing on the workers instead of indexing here.")
def ingest(paths: tuple[Path, ...], tenant_slug: str, source_name: str, tags: tuple[str, ...], background: bool) -> None:
    """Ingest files or folders (md, txt, html, pdf, docx, csv, xlsx). Unchanged files are skipped."""
    services = setup_django(migrate=True)
    try:
        from tqdm import tqdm

        from parley.knowledge import actions
        from parley.knowledge.ingest import expand_paths, ingest_files
        from parley.knowledge.models import KnowledgeSource

        tenant = _tenant(tenant_slug)
        source = KnowledgeSource.objects.filter(tenant=tenant, name=source_name).first()
        if source is None:
            source = actions.create_source(tenant=tenant, data={"name": source_name}, sync=False)
        try:
            files = expand_paths(paths)
        except FileNotFoundError as exc:
            raise click.ClickException(str(exc)) from exc
        with tqdm(total=len(files), unit="file", desc="Indexing", disable=None) as bar:

            def advance(path: Path, document: object) -> None:
                bar.set_postfix_str(f"{path.name}: {getattr(document, 'status', '')}")
                bar.update(1)

            summary = ingest_files(source=source, files=files, tags=list(tags) or None, background=background, on_file=advance)
        click.echo(
            f"indexed {summary.indexed} ({summary.chunks} chunks), unchanged {summary.unchanged}, "
            f"queued {summary.queued}, empty {summary.empty}, failed {len(summary.failed)}"
        )
        for path, reason in summary.failed.items():
            click.echo(f"  failed: {path}: {reason}", err=True)
        if summary.failed:
            raise SystemExit(1)
    finally:
        services.stop()


@knowledge.command("search")
@click.argument("query")
@click.option("--tenant", "tenant_slug", default="demo", show_default=True)
@click.option("-k", default=5, show_default=True, type=click.IntRange(1, 50))
def search_command(query: str, tenant_slug: str, k: int) -> None:
    """Search the knowledge base like the assistant does and print the hits with their scores."""
    services = setup_django(migrate=True)
    try:
        from parley.knowledge.retrieval import search

        for rank, hit in enumerate(search(tenant=_tenant(tenant_slug), query=query, k=k), start=1):
            where = " > ".join([hit.document_title, *hit.heading_path])
            click.echo(f"{rank}. [{hit.score:.2f} vec={hit.vector_score:.2f} text={hit.text_score:.2f}] {where}")
            click.echo("   " + hit.text[:200].replace("\n", " "))
    finally:
        services.stop()


@knowledge.command("coverage")
@click.option("--tenant", "tenant_slug", default="demo", show_default=True)
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the report as CSV here.")
def coverage_command(tenant_slug: str, csv_path: Path | None) -> None:
    """Questions the knowledge base answered weakly or not at all, clustered by similarity."""
    services = setup_django(migrate=True)
    try:
        from parley.knowledge.coverage import coverage_csv, coverage_report

        report = coverage_report(tenant=_tenant(tenant_slug))
        click.echo(
            f"{report.total_queries} questions: {report.answered} answered, "
            f"{report.weakly_answered} weakly answered, {report.unanswered} unanswered"
        )
        for cluster in report.clusters:
            click.echo(f"{cluster.count:4d} x {cluster.label}  (avg best score {cluster.average_best_score:.2f})")
        if csv_path is not None:
            csv_path.write_text(coverage_csv(report), encoding="utf-8")
            click.echo(f"written {csv_path}")
    finally:
        services.stop()


@knowledge.command("sync")
@click.option("--tenant", "tenant_slug", default="demo", show_default=True)
@click.option("--source", "source_name", required=True, help="Name of a url or sitemap source.")
def sync_command(tenant_slug: str, source_name: str) -> None:
    """Fetch a url / sitemap source now and index what changed."""
    services = setup_django(migrate=True)
    try:
        from parley.core.errors import DomainError
        from parley.knowledge import actions
        from parley.knowledge.models import KnowledgeDocument, KnowledgeSource

        source = KnowledgeSource.objects.filter(tenant=_tenant(tenant_slug), name=source_name).first()
        if source is None:
            raise click.ClickException(f"no source named {source_name!r}")
        try:
            counts = actions.sync_source(source=source)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        for document in KnowledgeDocument.objects.filter(source=source, status="pending"):
            actions.index_document(document_id=document.pk)
        click.echo(f"fetched {counts['fetched']}, changed {counts['changed']}, failed {counts['failed']}")
    finally:
        services.stop()


commands = [knowledge]
