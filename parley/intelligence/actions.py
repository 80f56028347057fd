"""Every state change of the intelligence app: registering and promoting models, importing datasets."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from django.db import transaction

from parley.core.errors import DomainError, ErrorCode
from parley.intelligence.artefacts import read_manifest
from parley.intelligence.models import ModelPromotion, ModelVersion

log = structlog.get_logger(__name__)


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


MAX_EXTRACTED_BYTES = 1024 * 1024 * 1024
MAX_EXTRACTED_FILES = 20_000


def queue_dataset_import(
    *, tenant: Any, format: str, upload: Any, actor: str, limit: int | None = None, mask_pii: bool = False
) -> Any:
    """Store an uploaded dataset file (or a .zip of a dataset folder) and queue its import on a worker.

    Args:
        tenant: whose conversations the dataset becomes.
        format: a loader slug (``parley.intelligence.datasets.formats()``).
        upload: the uploaded file (Django ``UploadedFile``).
        actor: who asked (for the record and the audit trail).
        limit: import at most this many conversations.
        mask_pii: mask e-mails, phone and card numbers, URLs and @handles in the texts.

    Returns:
        The queued :class:`DatasetImport`; a worker runs it (``parley.intelligence.run_dataset_import``).

    Raises:
        DomainError: unknown format (400), empty or too large file (400 / 413); when malware scanning
            is configured, an infected file (422) or a scanner that cannot be reached (503).
    """
    from django.conf import settings

    from parley.audit.actions import record_audit_event
    from parley.core.uploads import check_upload_clean
    from parley.intelligence.datasets import formats
    from parley.intelligence.models import DatasetImport, ImportStatus

    if format not in formats():
        raise DomainError(f"format must be one of {', '.join(sorted(formats()))}", code=ErrorCode.INVALID, status_code=400)
    size = int(getattr(upload, "size", 0) or 0)
    if size == 0:
        raise DomainError("the uploaded file is empty", code=ErrorCode.INVALID, status_code=400)
    limit_bytes = int(settings.MAX_DATASET_UPLOAD_BYTES)
    if size > limit_bytes:
        raise DomainError(
            f"the file is {size} bytes; the limit is {limit_bytes} bytes",
            code=ErrorCode.PAYLOAD_TOO_LARGE,
            status_code=413,
        )
    check_upload_clean(upload)  # clamd, when PARLEY_CLAMD_ADDRESS is set
    with transaction.atomic():
        record = DatasetImport(
            tenant=tenant,
            format=format,
            status=ImportStatus.QUEUED,
            options={"limit": limit, "mask_pii": mask_pii},
            created_by=actor[:200],
        )
        record.upload.save(Path(str(upload.name or "dataset")).name[:200], upload, save=False)
        record.path = record.upload.name or ""
        record.save()
        record_audit_event(
            action="intelligence.dataset_import_queued",
            actor=actor,
            tenant=tenant,
            target=record,
            data={"format": format, "file": record.path, "bytes": size},
        )
        record_id = str(record.pk)
        transaction.on_commit(lambda: _enqueue_import(record_id))
    return record


def _enqueue_import(record_id: str) -> None:
    from parley.intelligence.tasks import run_dataset_import

    run_dataset_import.apply_async(args=[record_id])


def _dataset_path(record: Any) -> Path:
    """The uploaded file, or the folder a .zip upload is safely extracted into."""
    import zipfile

    stored = Path(record.upload.path)
    if not zipfile.is_zipfile(stored):
        return stored
    target = stored.parent / "extracted"
    with zipfile.ZipFile(stored) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_EXTRACTED_FILES:
            raise DomainError(f"the archive has {len(members)} files; the limit is {MAX_EXTRACTED_FILES}", code=ErrorCode.INVALID)
        if sum(m.file_size for m in members) > MAX_EXTRACTED_BYTES:
            raise DomainError("the archive unpacks to more than 1 GiB", code=ErrorCode.INVALID)
        root = target.resolve()
        for member in members:
            destination = (target / member.filename).resolve()
            if not destination.is_relative_to(root):
                raise DomainError(f"unsafe path in the archive: {member.filename}", code=ErrorCode.INVALID)
        if target.exists():
            shutil.rmtree(target)
        archive.extractall(target)
    entries = [entry for entry in target.iterdir() if not entry.name.startswith(("__MACOSX", "."))]
    return entries[0] if len(entries) == 1 else target


def note_import_progress(*, import_id: Any, done: int, total: int) -> None:
    """A worker reports how far a queued import has got (read by the dashboard's progress bar; also its heartbeat)."""
    from django.utils import timezone

    from parley.intelligence.models import DatasetImport

    DatasetImport.objects.filter(pk=import_id).update(progress_done=done, progress_total=total, updated_at=timezone.now())


def run_dataset_import(import_id: Any) -> str:
    """Run a queued import (the worker's side); safe to run again: a retry resumes after the chunks already in.

    A cancelled import stops at the next chunk and its partial rows are removed; a bad file ends ``failed``
    with the reason. Any other error propagates (the task retries, then :func:`fail_dataset_import`).

    Returns:
        The final status (``done``, ``failed``, ``cancelled``) or ``missing``.
    """
    from parley.intelligence.datasets import DatasetError
    from parley.intelligence.importer import run_import
    from parley.intelligence.jobs import JobCancelled
    from parley.intelligence.models import ACTIVE_STATUSES, DatasetImport, ImportStatus

    record = DatasetImport.objects.select_related("tenant").filter(pk=import_id).first()
    if record is None:
        return "missing"
    if record.status == ImportStatus.CANCELLED:
        _discard_import(record.pk)
        return str(ImportStatus.CANCELLED)
    if record.status not in ACTIVE_STATUSES:
        return str(record.status)
    if not DatasetImport.objects.filter(pk=record.pk, status__in=ACTIVE_STATUSES).update(status=ImportStatus.RUNNING):
        return run_dataset_import(import_id)  # cancelled in between: clean up as above
    record.status = ImportStatus.RUNNING
    options = record.options or {}
    try:
        run_import(
            record.tenant,
            record.format,
            _dataset_path(record),
            limit=options.get("limit"),
            mask_pii=bool(options.get("mask_pii")),
            progress=False,
            record=record,
            on_progress=lambda done, total: note_import_progress(import_id=record.pk, done=done, total=total),
            checkpoint=lambda: _check_not_cancelled(DatasetImport, record.pk),
        )
    except JobCancelled:
        _discard_import(record.pk)
        return str(DatasetImport.objects.filter(pk=record.pk).values_list("status", flat=True).first() or "missing")
    except (DatasetError, DomainError) as exc:
        return fail_dataset_import(import_id=record.pk, reason=str(getattr(exc, "message", None) or exc))
    return str(ImportStatus.DONE)


def _check_not_cancelled(model: Any, pk: Any) -> None:
    """A job's checkpoint, and its heartbeat: stop (raise ``JobCancelled``) once its row is no longer
    ``running`` (cancelled, or failed by :func:`expire_stalled_jobs`); otherwise note that it is alive."""
    from django.utils import timezone

    from parley.intelligence.jobs import JobCancelled
    from parley.intelligence.models import ImportStatus

    if not model.objects.filter(pk=pk, status=ImportStatus.RUNNING).update(updated_at=timezone.now()):
        raise JobCancelled(str(pk))


def _discard_import(import_id: Any) -> int:
    """Remove what a cancelled or failed import wrote (idempotent), and mark it stopped.

    Deletes the conversations tagged with the import (their messages go with them), then the customers
    the import created that are left without any conversation. Returns how many conversations went.
    """
    from django.utils import timezone

    from parley.conversations.models import Conversation
    from parley.customers.models import Customer, CustomerIdentity
    from parley.intelligence.models import DatasetImport

    with transaction.atomic():
        record = DatasetImport.objects.select_for_update().filter(pk=import_id).first()
        if record is None:
            return 0
        tagged = Conversation.objects.filter(tenant_id=record.tenant_id, source=record.format[:20])
        tagged = tagged.filter(metadata__dataset_import=str(record.pk))
        customer_ids = set(tagged.values_list("customer_id", flat=True))
        removed = tagged.count()
        tagged.delete()
        known_elsewhere = CustomerIdentity.objects.filter(customer_id__in=customer_ids).exclude(channel_type="import")
        Customer.objects.filter(pk__in=customer_ids, conversations__isnull=True).exclude(
            pk__in=known_elsewhere.values("customer_id")
        ).delete()
        record.conversations_created = record.conversations_skipped = record.messages_created = 0
        record.progress_done = 0
        if record.finished_at is None:
            record.finished_at = timezone.now()
        record.save(
            update_fields=[
                "conversations_created",
                "conversations_skipped",
                "messages_created",
                "progress_done",
                "finished_at",
                "updated_at",
            ]
        )
    return removed


def fail_dataset_import(*, import_id: Any, reason: str) -> str:
    """End a queued or running import ``failed`` with ``reason``, removing what it had imported so far.

    Called for a bad file, and by the task when it fails for good (retries exhausted or an error that a
    retry cannot fix). A cancelled import is cleaned up instead; a finished one is left alone.

    Returns:
        The import's status afterwards (``failed``, ``cancelled``, ``done``) or ``missing``.
    """
    from django.utils import timezone

    from parley.intelligence.models import ACTIVE_STATUSES, DatasetImport, ImportStatus

    with transaction.atomic():
        record = DatasetImport.objects.select_for_update().filter(pk=import_id).first()
        if record is None:
            return "missing"
        if record.status in ACTIVE_STATUSES:
            record.status = ImportStatus.FAILED
            record.error = reason[:2000]
            record.finished_at = timezone.now()
            record.save(update_fields=["status", "error", "finished_at", "updated_at"])
        status = str(record.status)
        if status in (ImportStatus.FAILED, ImportStatus.CANCELLED):
            _discard_import(import_id)  # in the same transaction: never failed with rows still visible
    return status


def _cancel_job(*, model: Any, pk: Any, actor: str, noun: str, audit_action: str, data: Callable[[Any], dict[str, Any]]) -> Any:
    """Mark a queued or running job row ``cancelled`` (a queued one is finished at once); 409 otherwise."""
    from django.utils import timezone

    from parley.audit.actions import record_audit_event
    from parley.intelligence.models import ACTIVE_STATUSES, ImportStatus

    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=pk)
        if locked.status not in ACTIVE_STATUSES:
            raise DomainError(
                f"the {noun} is already {locked.status}; only a queued or running {noun} can be cancelled",
                code=ErrorCode.CONFLICT,
                status_code=409,
            )
        was = locked.status
        locked.status = ImportStatus.CANCELLED
        locked.error = f"Cancelled by {actor}"[:2000]
        if was == ImportStatus.QUEUED:
            locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "error", "finished_at", "updated_at"])
        record_audit_event(
            action=audit_action, actor=actor, tenant=locked.tenant, target=locked, data={"was": str(was), **data(locked)}
        )
    return locked


def cancel_dataset_import(*, record: Any, actor: str) -> Any:
    """Cancel a queued or running import: the worker stops at its next chunk and removes the partial rows.

    A queued import is stopped at once (``finished_at`` set); a running one keeps ``finished_at`` empty
    until the worker has cleaned up.

    Raises:
        DomainError: 409 when the import has already finished (done, failed or cancelled).
    """
    from parley.intelligence.models import DatasetImport

    return _cancel_job(
        model=DatasetImport,
        pk=record.pk,
        actor=actor,
        noun="import",
        audit_action="intelligence.dataset_import_cancelled",
        data=lambda locked: {"progress_done": locked.progress_done},
    )


def queue_training(*, tenant: Any, kind: str, dataset_import: Any, actor: str, limit: int | None = None) -> Any:
    """Queue training a ``kind`` model on one of the tenant's finished dataset imports (its labels).

    Raises:
        DomainError: 400 when the import is not finished, the kind is unknown, or the import's data
            quality report shows it cannot train that kind (no labels, a single label, no sentiment labels).
    """
    from parley.audit.actions import record_audit_event
    from parley.intelligence.models import ImportStatus, TrainingJob

    if kind not in ("intent", "sentiment"):
        raise DomainError("kind must be intent or sentiment", code=ErrorCode.INVALID, status_code=400)
    if dataset_import.status != ImportStatus.DONE or not dataset_import.upload:
        raise DomainError("train on an uploaded dataset import that has finished", code=ErrorCode.INVALID, status_code=400)
    problem = trainability_problem(kind, dataset_import.quality)
    if problem:
        raise DomainError(problem, code=ErrorCode.INVALID, status_code=400)
    with transaction.atomic():
        job = TrainingJob.objects.create(
            tenant=tenant,
            kind=kind,
            algorithm="fast",
            dataset_import=dataset_import,
            options={"limit": limit},
            created_by=actor[:200],
        )
        record_audit_event(
            action="intelligence.training_queued",
            actor=actor,
            tenant=tenant,
            target=job,
            data={"kind": kind, "dataset_import": str(dataset_import.pk), "format": dataset_import.format},
        )
        job_id = str(job.pk)
        transaction.on_commit(lambda: _enqueue_training(job_id))
    return job


def trainability_problem(kind: str, quality: Any) -> str:
    """Why an import with this data quality report cannot train a ``kind`` model ("" when it may).

    Only what the report shows for sure: without a report (or its label counts) the worker finds out,
    and the job ends ``failed`` with the reason.
    """
    labels = quality.get("labels") if isinstance(quality, dict) else None
    if not isinstance(labels, dict) or not isinstance(labels.get("balance"), dict):
        return ""
    balance: dict[str, Any] = labels["balance"]
    if kind == "intent":
        if not balance:
            return "this dataset has no labels: an intent model needs texts labelled with at least two intents"
        if len(balance) < 2:
            only = next(iter(balance))
            return f"this dataset has a single label ({only!r}): an intent model needs at least two intents"
    if kind == "sentiment":
        from parley.intelligence.sentiment import LABELS

        if not set(balance) & set(LABELS):
            return f"this dataset has no sentiment labels: a sentiment model needs texts labelled {', '.join(LABELS)}"
    return ""


def _enqueue_training(job_id: str) -> None:
    from parley.intelligence.tasks import run_training

    run_training.apply_async(args=[job_id])


def run_training_job(job_id: Any) -> str:
    """Train the queued job's model and register it for the tenant (the worker's side).

    Checks for a cancel between training steps (after loading, during embedding, per grid point). The
    version is registered and the job marked ``done`` in one transaction, under a lock on the job, so a
    retry never registers a second version and a job cancelled at the last moment registers none.
    Data that cannot train the model ends ``failed`` with the reason; other errors propagate (the task
    retries, then :func:`fail_training_job`).

    Returns:
        ``done``, ``failed`` (with the reason stored), ``cancelled`` or ``missing``.
    """
    import tempfile

    from django.utils import timezone

    from parley.intelligence.datasets import DatasetError
    from parley.intelligence.jobs import JobCancelled, throttled
    from parley.intelligence.models import ACTIVE_STATUSES, ImportStatus, TrainingJob
    from parley.intelligence.training import TrainingError, train_intent, train_sentiment

    job = TrainingJob.objects.select_related("tenant", "dataset_import").filter(pk=job_id).first()
    if job is None:
        return "missing"
    if job.status == ImportStatus.CANCELLED:
        return _finish_cancelled_training(job.pk)
    if job.status not in ACTIVE_STATUSES:
        return str(job.status)
    if not TrainingJob.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    ):
        return run_training_job(job_id)  # cancelled in between
    source = job.dataset_import
    checkpoint = throttled(lambda: _check_not_cancelled(TrainingJob, job.pk), every=5.0)
    try:
        path = _dataset_path(source)
        with tempfile.TemporaryDirectory(prefix="parley-training-") as out:
            if job.kind == "intent":
                result = train_intent(
                    source.format,
                    path,
                    out,
                    progress=False,
                    limit=(job.options or {}).get("limit"),
                    checkpoint=checkpoint,
                )
            else:
                result = train_sentiment([(source.format, path)], out, progress=False, checkpoint=checkpoint)
            with transaction.atomic():
                locked = TrainingJob.objects.select_for_update().get(pk=job.pk)
                if locked.status == ImportStatus.CANCELLED:
                    raise JobCancelled(str(job.pk))
                if locked.status != ImportStatus.RUNNING:
                    return str(locked.status)
                version = register_model_version(directory=out, tenant=job.tenant)
                locked.status, locked.finished_at, locked.model_version = ImportStatus.DONE, timezone.now(), version
                locked.summary = _jsonable({k: v for k, v in result.summary().items() if k != "out"})
                locked.error = ""  # a note left by a failed attempt before this one
                locked.save(update_fields=["status", "finished_at", "model_version", "summary", "error", "updated_at"])
    except JobCancelled:
        return _finish_cancelled_training(job.pk)
    except (DatasetError, TrainingError, DomainError) as exc:
        return fail_training_job(job_id=job.pk, reason=str(getattr(exc, "message", None) or exc))
    return str(ImportStatus.DONE)


def _finish_cancelled_training(job_id: Any) -> str:
    """The worker has stopped a job that is no longer running (nothing was registered): record when.

    Returns the job's status (``cancelled``, or ``failed`` when the stalled-job sweep ended it).
    """
    from django.utils import timezone

    from parley.intelligence.models import ImportStatus, TrainingJob

    TrainingJob.objects.filter(pk=job_id, status=ImportStatus.CANCELLED, finished_at__isnull=True).update(
        finished_at=timezone.now(), updated_at=timezone.now()
    )
    return str(TrainingJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing")


def fail_training_job(*, job_id: Any, reason: str) -> str:
    """End a queued or running training job ``failed`` with ``reason`` (also when its task fails for good).

    Returns:
        The job's status afterwards, or ``missing``.
    """
    from django.utils import timezone

    from parley.intelligence.models import ACTIVE_STATUSES, ImportStatus, TrainingJob

    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return "missing"
        if job.status in ACTIVE_STATUSES:
            job.status, job.finished_at, job.error = ImportStatus.FAILED, timezone.now(), reason[:2000]
            job.save(update_fields=["status", "error", "finished_at", "updated_at"])
        status = str(job.status)
    if status == ImportStatus.CANCELLED:
        _finish_cancelled_training(job_id)
    return status


def cancel_training_job(*, job: Any, actor: str) -> Any:
    """Cancel a queued or running training job: the worker stops at its next step and registers nothing.

    Raises:
        DomainError: 409 when the job has already finished (done, failed or cancelled).
    """
    from parley.intelligence.models import TrainingJob

    return _cancel_job(
        model=TrainingJob,
        pk=job.pk,
        actor=actor,
        noun="training job",
        audit_action="intelligence.training_cancelled",
        data=lambda locked: {"kind": locked.kind},
    )


#: A running job writes a heartbeat at every checkpoint (each import chunk; training steps, at most every
#: few seconds). Past this without one, its worker is taken for gone. Longer than the broker's visibility
#: timeout (an hour), so a task whose worker died is redelivered, and resumes, before the sweep gives up on it.
JOB_STALLED_AFTER = timedelta(hours=2)
#: A queued job no worker has picked up in this long is failed (no worker consumes the ``default`` queue?).
JOB_UNCLAIMED_AFTER = timedelta(hours=6)


def expire_stalled_jobs(*, now: datetime | None = None) -> dict[str, int]:
    """End ``failed`` the imports and training jobs whose worker vanished or that no worker picked up.

    A failed import's partial rows are removed, as for any failed import; if its worker was only slow, it
    stops at its next checkpoint. Returns ``{"stalled": n, "unclaimed": n}``.
    """
    from django.utils import timezone

    from parley.intelligence.models import DatasetImport, ImportStatus, TrainingJob

    now = now or timezone.now()
    stalled_hours = JOB_STALLED_AFTER.total_seconds() / 3600
    unclaimed_hours = JOB_UNCLAIMED_AFTER.total_seconds() / 3600
    counts = {"stalled": 0, "unclaimed": 0}
    for status, age, key, reason in (
        (
            ImportStatus.RUNNING,
            JOB_STALLED_AFTER,
            "stalled",
            f"The worker stopped answering (no progress for {stalled_hours:g} hours)",
        ),
        (
            ImportStatus.QUEUED,
            JOB_UNCLAIMED_AFTER,
            "unclaimed",
            f"No worker picked the job up within {unclaimed_hours:g} hours (is a worker consuming the default queue?)",
        ),
    ):
        for import_id in DatasetImport.objects.filter(status=status, updated_at__lt=now - age).values_list("pk", flat=True):
            fail_dataset_import(import_id=import_id, reason=f"{reason}; nothing of it was kept.")
            counts[key] += 1
        for job_id in TrainingJob.objects.filter(status=status, updated_at__lt=now - age).values_list("pk", flat=True):
            fail_training_job(job_id=job_id, reason=f"{reason}.")
            counts[key] += 1
    return counts


def note_job_retry(*, kind: str, job_id: Any, exc: BaseException, attempts: int) -> None:
    """An attempt of a job's task failed and will be retried: say so on the row (cleared when it finishes)."""
    from django.utils import timezone

    from parley.intelligence.models import ACTIVE_STATUSES, DatasetImport, TrainingJob

    model = DatasetImport if kind == "dataset_import" else TrainingJob
    note = f"Attempt {attempts} failed ({type(exc).__name__}: {exc}); retrying…"[:2000]
    model.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(error=note, updated_at=timezone.now())


def fail_job_for_good(*, kind: str, job_id: Any, exc: BaseException, attempts: int) -> str:
    """A job's task failed for good (retries exhausted, or an error a retry cannot fix): end its row ``failed``.

    ``kind`` is ``dataset_import`` or ``training``.
    The reason names the error and the attempts, so the dashboard can show it.
    """
    detail = f"{type(exc).__name__}: {exc}".strip()
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    if kind == "dataset_import":
        reason = f"The import stopped on an unexpected error after {tries} ({detail}); nothing of it was kept."
        return fail_dataset_import(import_id=job_id, reason=reason)
    reason = f"Training stopped on an unexpected error after {tries} ({detail})."
    return fail_training_job(job_id=job_id, reason=reason)


def requeue_failed_job(*, kind: str, job_id: Any) -> bool:
    """Put a job that failed for good back in the queue (its dead letter is being replayed).

    The row goes back to ``queued`` with its error, progress and finish time cleared (a failed import kept
    none of its rows, and its uploaded file is still there). ``kind`` is ``dataset_import`` or
    ``training``. Returns False, changing nothing, when the job is not ``failed`` (done, cancelled,
    still active or gone): the replayed task then finds nothing to do.
    """
    from django.utils import timezone

    from parley.intelligence.models import DatasetImport, ImportStatus, TrainingJob

    model = DatasetImport if kind == "dataset_import" else TrainingJob
    restart = {"progress_done": 0} if model is DatasetImport else {"started_at": None}
    changed = model.objects.filter(pk=job_id, status=ImportStatus.FAILED).update(
        status=ImportStatus.QUEUED, error="", finished_at=None, updated_at=timezone.now(), **restart
    )
    if changed:
        log.info("job_requeued", kind=kind, job_id=str(job_id))
    return bool(changed)


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))
