"""API shapes of the model registry."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from parley.core.api import StrictSerializer
from parley.intelligence.models import DatasetImport, ModelVersion, TrainingJob


class ModelVersionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    shared = serializers.SerializerMethodField()
    promoted = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "kind",
            "name",
            "algorithm",
            "dataset_format",
            "data_fingerprint",
            "params",
            "metrics",
            "labels",
            "training_seconds",
            "is_default",
            "shared",
            "promoted",
            "created_at",
        ]
        read_only_fields = fields

    def get_shared(self, obj: ModelVersion) -> bool:
        return obj.tenant_id is None

    def get_promoted(self, obj: ModelVersion) -> bool:
        promoted_ids = self.context.get("promoted_ids")
        return promoted_ids is not None and obj.pk in promoted_ids


class CompareQuerySerializer(StrictSerializer):
    other = serializers.UUIDField(help_text="The version to compare with.")


class PromoteSerializer(StrictSerializer):
    """Promote takes no fields; the version comes from the URL."""


def version_summary(version: ModelVersion) -> dict[str, Any]:
    return {
        "id": str(version.id),
        "kind": version.kind,
        "name": version.name,
        "algorithm": version.algorithm,
        "dataset_format": version.dataset_format,
        "metrics": {k: v for k, v in version.metrics.items() if not isinstance(v, list | dict)},
        "training_seconds": round(version.training_seconds, 1),
        "is_default": version.is_default,
        "created_at": version.created_at.isoformat(),
    }


def compare_versions(first: ModelVersion, second: ModelVersion) -> dict[str, Any]:
    """Side by side: metrics (with the difference where both are numbers), parameters, data, time."""

    def numbers(data: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in data.items() if isinstance(v, int | float) and not isinstance(v, bool)}

    a, b = numbers(first.metrics), numbers(second.metrics)
    metrics = {
        key: {"a": a.get(key), "b": b.get(key), "diff": round(b[key] - a[key], 4) if key in a and key in b else None}
        for key in sorted(set(a) | set(b))
    }
    params_a = {k: v for k, v in first.params.items() if k not in ("grid", "history")}
    params_b = {k: v for k, v in second.params.items() if k not in ("grid", "history")}
    return {
        "a": version_summary(first),
        "b": version_summary(second),
        "same_kind": first.kind == second.kind,
        "same_data": first.data_fingerprint == second.data_fingerprint,
        "metrics": metrics,
        "params_changed": {
            key: {"a": params_a.get(key), "b": params_b.get(key)}
            for key in sorted(set(params_a) | set(params_b))
            if params_a.get(key) != params_b.get(key)
        },
        "training_seconds": {"a": first.training_seconds, "b": second.training_seconds},
    }


class DatasetImportSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A dataset import: its progress while it runs, then what it created and the data quality report."""

    progress = serializers.SerializerMethodField()

    class Meta:
        model = DatasetImport
        fields = [
            "id",
            "format",
            "path",
            "status",
            "options",
            "progress_done",
            "progress_total",
            "progress",
            "error",
            "created_by",
            "conversations_created",
            "conversations_skipped",
            "messages_created",
            "quality",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, obj: Any) -> float:
        """0..1; 1 once done."""
        if obj.status == "done":
            return 1.0
        return round(obj.progress_done / obj.progress_total, 3) if obj.progress_total else 0.0


class DatasetImportCreateSerializer(StrictSerializer):
    """Upload a dataset file (or a .zip of a dataset folder) to import as conversations."""

    file = serializers.FileField()
    format = serializers.CharField(max_length=50, help_text="sgd, twcs, synthetic, banking77, bitext, clinc150, abcd, ...")
    limit = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    mask_pii = serializers.BooleanField(required=False, default=False)


class TrainingJobSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A training run on an uploaded dataset; ``model_version`` is the registered result once done."""

    class Meta:
        model = TrainingJob
        fields = [
            "id",
            "kind",
            "algorithm",
            "dataset_import",
            "status",
            "options",
            "error",
            "created_by",
            "summary",
            "model_version",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class TrainingJobCreateSerializer(StrictSerializer):
    """Train an intent or sentiment model on a finished dataset import's labels."""

    kind = serializers.ChoiceField(choices=["intent", "sentiment"])
    dataset_import = serializers.UUIDField()
    limit = serializers.IntegerField(min_value=50, required=False, allow_null=True, help_text="Use at most this many texts")
