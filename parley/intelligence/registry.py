"""Loading model artefacts and finding the version a tenant's live pipeline uses.

Loaded models are cached per process (keyed by directory), so workers pay the load once; the
promoted version of each tenant is looked up at most every ``PROMOTION_TTL`` seconds, so a
promotion reaches running workers without a restart.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from parley.intelligence.artefacts import ArtefactError, read_manifest

PROMOTION_TTL = 30.0
_lock = threading.Lock()
_promotions: dict[tuple[str | None, str], tuple[float, str | None]] = {}


@lru_cache(maxsize=16)
def load_model(directory: str) -> Any:
    """The model stored in ``directory`` (an intent, sentiment or topic model), loaded once.

    Raises:
        ArtefactError: for a missing directory or an unknown kind/algorithm.
    """
    path = Path(directory)
    manifest = read_manifest(path)
    if manifest.kind == "intent" and manifest.algorithm == "fast":
        from parley.intelligence.intent import FastIntentModel

        return FastIntentModel.load(path, manifest)
    if manifest.kind == "intent" and manifest.algorithm == "finetuned":
        from parley.intelligence.finetune import FinetunedIntentModel

        return FinetunedIntentModel.load(path, manifest)
    if manifest.kind == "sentiment" and manifest.algorithm == "fast":
        from parley.intelligence.sentiment import LinearSentiment

        return LinearSentiment.load(path, manifest)
    if manifest.kind == "topics":
        from parley.intelligence.topics import TopicModel

        return TopicModel.load(path)
    raise ArtefactError(f"unknown model kind/algorithm in {directory}: {manifest.kind}/{manifest.algorithm}")


def _lookup_promoted_dir(tenant_id: str | None, kind: str) -> str | None:
    from parley.intelligence.models import ModelPromotion, ModelVersion

    if tenant_id:
        promotion = ModelPromotion.objects.filter(tenant_id=tenant_id, kind=kind).select_related("model_version").first()
        if promotion is not None:
            return promotion.model_version.artefact_dir
    default = ModelVersion.objects.filter(kind=kind, is_default=True).order_by("-created_at").first()
    return default.artefact_dir if default is not None else None


def promoted_model(tenant_id: str | None, kind: str) -> Any | None:
    """The live model of ``kind`` for ``tenant_id`` (its promotion, else the shared default), or None."""
    key = (str(tenant_id) if tenant_id else None, kind)
    now = time.monotonic()
    with _lock:
        cached = _promotions.get(key)
    if cached is None or now - cached[0] > PROMOTION_TTL:
        directory = _lookup_promoted_dir(key[0], kind)
        with _lock:
            _promotions[key] = (now, directory)
    else:
        directory = cached[1]
    if directory is None:
        return None
    try:
        return load_model(directory)
    except (ArtefactError, OSError):
        import structlog

        structlog.get_logger(__name__).warning("promoted_model_unloadable", kind=kind, directory=directory)
        return None


def forget_promotions() -> None:
    """Drop the promotion cache (after a promotion in this process, and in tests)."""
    with _lock:
        _promotions.clear()
