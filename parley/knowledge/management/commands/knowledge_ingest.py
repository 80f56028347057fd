"""``manage knowledge_ingest --tenant SLUG [--source NAME] PATH...``: index files from disk."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parley.accounts.models import Tenant
from parley.knowledge import actions
from parley.knowledge.ingest import expand_paths, ingest_files
from parley.knowledge.models import KnowledgeSource


class Command(BaseCommand):
    help = "Ingest files or folders into a tenant's knowledge base (unchanged files are skipped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+")
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--source", default="Files")
        parser.add_argument("--tag", action="append", default=[])
        parser.add_argument("--background", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"no tenant {options['tenant']!r}")
        source = KnowledgeSource.objects.filter(tenant=tenant, name=options["source"]).first()
        if source is None:
            source = actions.create_source(tenant=tenant, data={"name": options["source"]}, sync=False)
        try:
            files = expand_paths(options["paths"])
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        summary = ingest_files(source=source, files=files, tags=options["tag"] or None, background=options["background"])
        self.stdout.write(
            f"indexed {summary.indexed} ({summary.chunks} chunks), unchanged {summary.unchanged}, "
            f"queued {summary.queued}, empty {summary.empty}, failed {len(summary.failed)}"
        )
        for path, reason in summary.failed.items():
            self.stderr.write(f"failed: {path}: {reason}")
