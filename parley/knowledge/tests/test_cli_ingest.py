"""Ingesting files from disk (what `parley knowledge ingest` and `manage knowledge_ingest` run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from parley.knowledge.cli import knowledge
from parley.knowledge.ingest import expand_paths, ingest_files
from parley.knowledge.models import KnowledgeChunk
from parley.knowledge.retrieval import search
from parley.knowledge.tests.helpers import make_source


@pytest.mark.django_db
def test_ingest_a_folder_in_batches_then_again_unchanged(tenant: Any, tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "tea.md").write_text("# Tea\n\nSteep green tea for two minutes at 80 degrees.")
    (tmp_path / "guides" / "coffee.txt").write_text("Grind coffee beans just before brewing for the best taste.")
    (tmp_path / "guides" / "broken.pdf").write_bytes(b"%PDF-1.4 nothing here")
    (tmp_path / "guides" / "ignored.bin").write_bytes(b"\x00\x01")
    (tmp_path / "faq.csv").write_text("question,answer\nDo you ship abroad?,Yes to all EU countries.\n")
    files = expand_paths([tmp_path / "guides", tmp_path / "faq.csv"])
    assert sorted(p.name for p in files) == ["broken.pdf", "coffee.txt", "faq.csv", "tea.md"]
    seen: list[str] = []
    source = make_source(tenant, "Disk")
    summary = ingest_files(
        source=source, files=files, tags=["disk"], on_file=lambda path, doc: seen.append(path.name), batch_documents=2
    )
    assert summary.indexed == 3 and summary.chunks == 3 and summary.unchanged == 0
    assert list(summary.failed) == [str(tmp_path / "guides" / "broken.pdf")]
    assert sorted(seen) == ["broken.pdf", "coffee.txt", "faq.csv", "tea.md"]
    assert search(tenant=tenant, query="how long should I steep green tea", k=1)[0].document_title == "Tea"
    assert KnowledgeChunk.objects.filter(tenant=tenant, tags__contains=["disk"]).count() == 3
    again = ingest_files(source=source, files=files)
    assert again.unchanged == 3 and again.indexed == 0 and len(again.failed) == 1


def test_cli_help_lists_the_commands() -> None:
    result = CliRunner().invoke(knowledge, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "search", "coverage", "sync"):
        assert command in result.output
