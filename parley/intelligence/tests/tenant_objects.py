"""One object of each routed intelligence model in another tenant (for the core route-leak test)."""

from __future__ import annotations

from typing import Any

from parley.intelligence.models import DatasetImport, ModelVersion, TrainingJob


def intelligence_objects(other: Any) -> dict[type, Any]:
    version = ModelVersion.objects.create(
        tenant=other,
        kind="intent",
        name="globex-secret-model",
        algorithm="fast",
        data_fingerprint="0" * 64,
        artefact_dir="/nonexistent",
    )
    dataset_import = DatasetImport.objects.create(tenant=other, format="synthetic", path="globex-secret.csv")
    job = TrainingJob.objects.create(tenant=other, kind="intent", dataset_import=dataset_import)
    return {ModelVersion: version, DatasetImport: dataset_import, TrainingJob: job}
