"""Every state change of the intelligence app: registering and promoting models, importing datasets."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.db import transaction

from parley.core.errors import DomainError, ErrorCode
from parley.intelligence.artefacts import read_manifest
from parley.intelligence.models import ModelPromotion, ModelVersion


def register_model_version(*, directory: str | Path, tenant: Any = None, copy: bool = True) -> ModelVersion:
    """Record the model in ``directory`` in the registry, copying its artefacts under ``PARLEY_DATA_DIR/models``.

    Args:
        directory: a model directory written by ``parley train`` (has ``manifest.json``).
        tenant: owner, or None for a version shared by every tenant.
        copy: copy the files into the registry's own folder (default) or reference them in place.
    """
    from parley.intelligence.artefacts import models_root

    source = Path(directory).resolve()
    manifest = read_manifest(source)
    version = ModelVersion(
        tenant=tenant,
        kind=manifest.kind,
        name=manifest.name,
        algorithm=manifest.algorithm,
        dataset_format=manifest.dataset_format,
        data_fingerprint=manifest.data_fingerprint,
        params=manifest.params,
        metrics=manifest.metrics,
        labels=manifest.labels,
        training_seconds=manifest.training_seconds,
        artefact_dir=str(source),
    )
    if copy:
        target = models_root() / str(version.id)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
        version.artefact_dir = str(target)
    version.save()
    return version


@transaction.atomic
def promote_model_version(*, version: ModelVersion, tenant: Any, actor: str = "") -> ModelPromotion:
    """Make ``version`` the live model of its kind for ``tenant``.

    Raises:
        DomainError: when the version belongs to another tenant.
    """
    if version.tenant_id is not None and version.tenant_id != tenant.pk:
        raise DomainError("this model version belongs to another tenant", code=ErrorCode.NOT_FOUND, status_code=404)
    promotion, _ = ModelPromotion.objects.update_or_create(
        tenant=tenant, kind=version.kind, defaults={"model_version": version, "promoted_by": actor}
    )
    transaction.on_commit(_forget_promotions)
    return promotion


@transaction.atomic
def set_default_model_version(*, version: ModelVersion) -> ModelVersion:
    """Make a shared version the default of its kind (for tenants without a promotion)."""
    if version.tenant_id is not None:
        raise DomainError("only shared model versions can be the default", code=ErrorCode.INVALID, status_code=400)
    ModelVersion.objects.filter(kind=version.kind, is_default=True).exclude(pk=version.pk).update(is_default=False)
    version.is_default = True
    version.save(update_fields=["is_default", "updated_at"])
    transaction.on_commit(_forget_promotions)
    return version


def _forget_promotions() -> None:
    from parley.intelligence.registry import forget_promotions

    forget_promotions()


def import_dataset(
    tenant: Any, format: str, path: str | Path, *, limit: int | None = None, progress: bool = True, mask_pii: bool = False
) -> Any:
    """Import a dataset file as ``tenant``'s conversations, with a data quality report.

    Creates one Channel of type ``import`` per dataset format, a Customer per dataset customer (or per
    conversation), Conversations (``source=format``, ``external_id`` = the dialogue id) and their
    Messages, in bulk. Running it again skips conversations already imported.

    Args:
        tenant: the owner of the imported data.
        format: a loader slug (``parley.intelligence.datasets.formats()``): sgd, twcs, synthetic, ...
        path: the file or folder.
        limit: import at most this many conversations.
        progress: show a progress bar on stderr.
        mask_pii: replace e-mail addresses, phone and card numbers, URLs and @handles in message texts.

    Returns:
        :class:`parley.intelligence.importer.ImportReport`.

    Raises:
        DatasetError: unknown format, missing path or a file not of that format.
    """
    from parley.intelligence.importer import run_import

    return run_import(tenant, format, path, limit=limit, progress=progress, mask_pii=mask_pii)


def analyse_stored_messages(*, message_ids: list[Any], force: bool = False, batch_size: int = 256) -> int:
    """Run the live analysis on stored customer messages and save it in ``Message.analysis``.

    Used to backfill imported conversations (and by the ``parley.intelligence.analyse_messages`` task).
    Messages already analysed are skipped unless ``force``. Returns how many messages were analysed.
    """
    from parley.conversations.models import Message
    from parley.intelligence.pipeline import analyse_batch

    queryset = Message.objects.filter(pk__in=message_ids, sender_type="customer").exclude(text="")
    if not force:
        queryset = queryset.filter(analysis={})
    messages = list(queryset.only("id", "tenant_id", "text", "analysis"))
    by_tenant: dict[Any, list[Any]] = {}
    for message in messages:
        by_tenant.setdefault(message.tenant_id, []).append(message)
    for tenant_id, group in by_tenant.items():
        for start in range(0, len(group), batch_size):
            chunk = group[start : start + batch_size]
            for message, analysis in zip(chunk, analyse_batch([m.text for m in chunk], tenant_id=str(tenant_id)), strict=True):
                message.analysis = analysis.model_dump()
            Message.objects.bulk_update(chunk, ["analysis"])
    return len(messages)
