"""The model registry: every trained model version, and which one each tenant uses live.

A :class:`ModelVersion` is a catalogue entry for artefacts on disk (``PARLEY_DATA_DIR/models/<id>/``).
Versions trained from the command line are shared (``tenant`` empty); a tenant may also train its own.
:class:`ModelPromotion` says which version a tenant's live pipeline uses for each kind; a version
marked ``is_default`` serves tenants without a promotion of that kind (and callers without a tenant).
State changes go through :mod:`parley.intelligence.actions`.
"""

from __future__ import annotations

from django.db import models

from parley.core.models import TenantScopedModel, TimestampedModel


class ModelKind(models.TextChoices):
    INTENT = "intent", "Intent"
    SENTIMENT = "sentiment", "Sentiment"
    TOPICS = "topics", "Topics"


class ModelVersion(TimestampedModel):
    """One trained model: what it was trained on, how, how well it did, and where its files are."""

    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Owner; empty for versions shared by every tenant (trained from the command line).",
    )
    kind = models.CharField(max_length=20, choices=ModelKind.choices, db_index=True)
    name = models.CharField(max_length=200)
    algorithm = models.CharField(max_length=50, help_text="fast (embeddings + linear head), finetuned, ...")
    dataset_format = models.CharField(max_length=50, blank=True)
    data_fingerprint = models.CharField(max_length=64, help_text="sha256 of the training texts and labels")
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    labels = models.JSONField(default=list, blank=True)
    training_seconds = models.FloatField(default=0.0)
    artefact_dir = models.CharField(max_length=500)
    is_default = models.BooleanField(default=False, help_text="Used by tenants that promoted nothing of this kind")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name} ({self.algorithm})"


class ModelPromotion(TenantScopedModel):
    """The version a tenant's live analysis uses for one kind of model."""

    kind = models.CharField(max_length=20, choices=ModelKind.choices)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="promotions")
    promoted_by = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "kind"], name="uniq_promotion_tenant_kind")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.model_version_id}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


#: A job in one of these states can still change; the others are final.
ACTIVE_STATUSES = (ImportStatus.QUEUED, ImportStatus.RUNNING)


def _dataset_upload_path(instance: DatasetImport, filename: str) -> str:
    return f"dataset-imports/{instance.tenant_id}/{instance.id}/{filename}"


class DatasetImport(TenantScopedModel):
    """One dataset imported as tenant conversations, with its data quality report.

    Imports from the command line run in the foreground and are stored when done; uploads through the
    API are stored ``queued`` and run by a worker, which reports progress here.
    """

    format = models.CharField(max_length=50)
    path = models.CharField(max_length=1000)
    upload = models.FileField(upload_to=_dataset_upload_path, max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.DONE)
    options = models.JSONField(default=dict, blank=True, help_text="limit, mask_pii")
    progress_done = models.PositiveIntegerField(default=0, help_text="Conversations processed so far")
    progress_total = models.PositiveIntegerField(default=0, help_text="Conversations in the file (0 until read)")
    error = models.TextField(blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When the job stopped: done, failed, or cancelled and its partial rows removed"
    )
    conversations_created = models.PositiveIntegerField(default=0)
    conversations_skipped = models.PositiveIntegerField(default=0)
    messages_created = models.PositiveIntegerField(default=0)
    quality = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]


class TrainingJob(TenantScopedModel):
    """A model trained on a tenant's uploaded dataset by a worker (queued through the API).

    The trained version is registered for the tenant, not promoted: people compare it with the live
    one and promote it themselves.
    """

    kind = models.CharField(max_length=20, choices=[(k, k.title()) for k in ("intent", "sentiment")])
    algorithm = models.CharField(max_length=50, default="fast")
    dataset_import = models.ForeignKey(DatasetImport, on_delete=models.PROTECT, related_name="training_jobs")
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    options = models.JSONField(default=dict, blank=True, help_text="limit")
    error = models.TextField(blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When the job stopped: done, failed, or cancelled and cleaned up"
    )
    model_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    summary = models.JSONField(default=dict, blank=True, help_text="The training's summary line (metrics, seconds)")

    class Meta:
        ordering = ["-created_at"]
