"""``parley datasets``, ``parley train``, ``parley evaluate`` and ``parley models``."""

from __future__ import annotations

import json
import sys
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
@click.option("--mask-pii", is_flag=True, help="Mask e-mails, phone/card numbers, URLs and @handles in the texts.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def import_command(format: str, path: Path, tenant_slug: str, limit: int | None, mask_pii: bool, no_progress: bool) -> None:
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
            report = import_dataset(tenant, format, path, limit=limit, progress=not no_progress, mask_pii=mask_pii)
        except DatasetError as exc:
            raise click.ClickException(str(exc)) from exc
        _echo_json(report.summary())
    finally:
        services.stop()


@datasets.command("analyse")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug.")
@click.option("--source", default=None, help="Only conversations imported from this dataset format.")
@click.option("--force", is_flag=True, help="Analyse messages again even if they have an analysis.")
@click.option("--limit", type=int, default=None, help="At most this many messages.")
def analyse_command(tenant_slug: str, source: str | None, force: bool, limit: int | None) -> None:
    """Store intent, sentiment and language on the tenant's customer messages (e.g. after an import)."""
    services = setup_django(migrate=True)
    try:
        from parley.accounts.models import Tenant
        from parley.conversations.models import Message
        from parley.intelligence.actions import analyse_stored_messages

        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise click.ClickException(f"no tenant {tenant_slug!r}")
        messages = Message.objects.filter(tenant=tenant, sender_type="customer")
        if source:
            messages = messages.filter(conversation__source=source)
        if not force:
            messages = messages.filter(analysis={})
        ids = list(messages.order_by("created_at").values_list("id", flat=True)[:limit])
        done = 0
        bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(total=len(ids), desc="analysing", unit="msg")
        for start in range(0, len(ids), 512):
            done += analyse_stored_messages(message_ids=ids[start : start + 512], force=force)
            if bar is not None:
                bar.update(len(ids[start : start + 512]))
        if bar is not None:
            bar.close()
        _echo_json({"tenant": tenant.slug, "analysed": done})
    finally:
        services.stop()


def _register(out: Path, *, tenant_slug: str | None, make_default: bool) -> dict[str, Any]:
    """Record a trained model in the registry (and optionally promote it); returns what was done."""
    services = setup_django(migrate=True)
    try:
        from parley.accounts.models import Tenant
        from parley.intelligence import actions

        tenant = None
        if tenant_slug:
            tenant = Tenant.objects.filter(slug=tenant_slug).first()
            if tenant is None:
                raise click.ClickException(f"no tenant {tenant_slug!r}")
        version = actions.register_model_version(directory=out)
        done: dict[str, Any] = {"model_version": str(version.id)}
        if tenant is not None:
            actions.promote_model_version(version=version, tenant=tenant, actor="cli")
            done["promoted_for"] = tenant.slug
        if make_default:
            actions.set_default_model_version(version=version)
            done["default"] = True
        return done
    finally:
        services.stop()


@click.command()
@click.argument("kind", type=click.Choice(["intent", "sentiment", "topics"]))
@click.option(
    "--format", "formats_", multiple=True, required=True, help="Dataset format (repeat with --data for several sources)."
)
@click.option(
    "--data", "paths", multiple=True, required=True, type=click.Path(exists=True, path_type=Path), help="Dataset file or folder."
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Directory to write the model to.")
@click.option(
    "--model",
    "algorithm",
    type=click.Choice(["fast", "finetuned"]),
    default="fast",
    show_default=True,
    help="Intent model: fast (about a minute; the live default) or finetuned (an ensemble of fine-tuned MiniLM "
    "networks: ~12 minutes for BANKING77 on 2 cores, slightly more accurate, ~4x the live cost per message).",
)
@click.option("--limit", type=int, default=None, help="Use at most this many examples (quick runs).")
@click.option("--epochs", type=int, default=None, help="Fine-tuning epochs (finetuned only).")
@click.option("--max-seconds", type=float, default=None, help="Fine-tuning time budget (finetuned only).")
@click.option(
    "--networks", type=click.IntRange(min=1), default=None, help="Fine-tuned networks averaged in the ensemble (finetuned only)."
)
@click.option("--register/--no-register", default=True, show_default=True, help="Record the model in the registry.")
@click.option("--promote", "promote_tenant", default=None, help="Promote the new version for this tenant slug.")
@click.option("--default", "make_default", is_flag=True, help="Make it the shared default of its kind.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def train(
    kind: str,
    formats_: tuple[str, ...],
    paths: tuple[Path, ...],
    out: Path,
    algorithm: str,
    limit: int | None,
    epochs: int | None,
    max_seconds: float | None,
    networks: int | None,
    register: bool,
    promote_tenant: str | None,
    make_default: bool,
    no_progress: bool,
) -> None:
    """Train an intent, sentiment or topic model; prints one JSON summary line.

    Example: parley train intent --format banking77 --data ../shared/datasets/banking77 --out models/b77
    """
    from parley.intelligence.datasets import DatasetError
    from parley.intelligence.training import TrainingError, train_intent, train_sentiment, train_topics

    if len(formats_) != len(paths):
        raise click.UsageError("give one --format per --data")
    progress = not no_progress and sys.stderr.isatty()
    try:
        if kind == "intent":
            given = {"epochs": epochs, "max_seconds": max_seconds, "networks": networks}
            options = {k: v for k, v in given.items() if v is not None}
            result = train_intent(
                formats_[0], paths[0], out, algorithm=algorithm, progress=progress, limit=limit, finetune_options=options
            )
        elif kind == "sentiment":
            result = train_sentiment(list(zip(formats_, paths, strict=True)), out, progress=progress)
        else:
            result = train_topics(formats_[0], paths[0], out, limit=limit, progress=progress)
    except (DatasetError, TrainingError) as exc:
        raise click.ClickException(str(exc)) from exc
    summary = result.summary()
    if register:
        summary.update(_register(out, tenant_slug=promote_tenant, make_default=make_default))
    _echo_json(summary)


@click.command()
@click.argument("kind", type=click.Choice(["intent", "sentiment"]))
@click.option("--model", "model_ref", required=True, help="A model directory (parley train --out), or 'vader' for sentiment.")
@click.option("--data", "path", required=True, type=click.Path(exists=True, path_type=Path), help="Dataset file or folder.")
@click.option("--format", "format_", required=True, help="Dataset format.")
@click.option("--report-dir", required=True, type=click.Path(path_type=Path), help="Where to write the reports.")
@click.option("--split", default=None, help="all, val, carved_test or carved_val (default: val when present, else all).")
@click.option("--limit", type=int, default=None, help="Evaluate at most this many texts.")
def evaluate(kind: str, model_ref: str, path: Path, format_: str, report_dir: Path, split: str | None, limit: int | None) -> None:
    """Evaluate a model; prints one JSON summary line and writes intent_report.json, errors.json,
    confusion_matrix.png, confidence_histogram.png and report.html into --report-dir."""
    from parley.intelligence.artefacts import ArtefactError
    from parley.intelligence.datasets import DatasetError
    from parley.intelligence.evaluation import evaluate_model

    try:
        evaluation = evaluate_model(kind, model_ref, format_, path, report_dir, split=split, limit=limit)
    except (DatasetError, ArtefactError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_json(evaluation.summary)


@click.group()
def models() -> None:
    """The model registry: list, compare, register, promote."""


@models.command("list")
@click.option("--kind", type=click.Choice(["intent", "sentiment", "topics"]), default=None)
def list_models(kind: str | None) -> None:
    """One JSON line per model version (newest first)."""
    services = setup_django(migrate=True)
    try:
        from parley.intelligence.models import ModelVersion
        from parley.intelligence.serializers import version_summary

        versions = ModelVersion.objects.all()
        if kind:
            versions = versions.filter(kind=kind)
        for version in versions:
            _echo_json(version_summary(version))
    finally:
        services.stop()


@models.command("compare")
@click.argument("first")
@click.argument("second")
def compare_models(first: str, second: str) -> None:
    """Metrics, parameters and data fingerprints of two versions side by side (JSON)."""
    services = setup_django(migrate=True)
    try:
        from parley.intelligence.models import ModelVersion
        from parley.intelligence.serializers import compare_versions

        found = {str(v.id): v for v in ModelVersion.objects.filter(id__in=[first, second])}
        if len(found) != 2:
            raise click.ClickException("both ids must be model versions")
        _echo_json(compare_versions(found[first], found[second]))
    except ValueError as exc:
        raise click.ClickException(f"not a model version id: {exc}") from exc
    finally:
        services.stop()


@models.command("register")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--promote", "promote_tenant", default=None, help="Promote it for this tenant slug.")
@click.option("--default", "make_default", is_flag=True, help="Make it the shared default of its kind.")
def register_model(directory: Path, promote_tenant: str | None, make_default: bool) -> None:
    """Record a model directory in the registry."""
    _echo_json(_register(directory, tenant_slug=promote_tenant, make_default=make_default))


@models.command("promote")
@click.argument("version_id")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug.")
def promote_model(version_id: str, tenant_slug: str) -> None:
    """Make VERSION_ID the live model of its kind for a tenant."""
    services = setup_django(migrate=True)
    try:
        from parley.accounts.models import Tenant
        from parley.core.errors import DomainError
        from parley.intelligence import actions
        from parley.intelligence.models import ModelVersion

        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        version = ModelVersion.objects.filter(id=version_id).first()
        if tenant is None or version is None:
            raise click.ClickException("unknown tenant or model version")
        try:
            actions.promote_model_version(version=version, tenant=tenant, actor="cli")
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        _echo_json({"promoted": str(version.id), "tenant": tenant.slug, "kind": version.kind})
    finally:
        services.stop()


commands: list[click.Command] = [datasets, train, evaluate, models]
