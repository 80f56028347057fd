"""Fixtures of the intelligence tests: isolated model and cache folders, a tiny trained intent model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.intelligence.artefacts import Manifest, data_fingerprint
from parley.intelligence.embeddings import encode
from parley.intelligence.heads import LinearHead
from parley.intelligence.intent import FastIntentModel

TINY_INTENTS = {
    "card_lost": ["I lost my card", "my card is missing", "I can't find my bank card", "someone stole my card"],
    "refund": ["I want my money back", "please refund my order", "how do I get a refund", "refund the payment"],
    "delivery": ["where is my parcel", "my package has not arrived", "when will my order be delivered", "track my delivery"],
}


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("PARLEY_EMBEDDING_CACHE", str(tmp_path / "cache" / "emb.sqlite3"))
    from parley.intelligence.registry import forget_promotions

    forget_promotions()


@pytest.fixture
def tiny_intent_dir(tmp_path: Path) -> Path:
    texts = [text for texts in TINY_INTENTS.values() for text in texts]
    labels = [label for label, texts in TINY_INTENTS.items() for _ in texts]
    head = LinearHead.fit(encode(texts), labels, c=50.0)
    directory = tmp_path / "tiny-intent"
    manifest = Manifest(
        kind="intent", algorithm="fast", name="tiny", labels=head.labels, data_fingerprint=data_fingerprint(texts, labels)
    )
    FastIntentModel(head, oos_threshold=0.55, name="tiny").save(directory, manifest)
    return directory


@pytest.fixture
def analyst_api(tenant: Any) -> Any:
    from parley.testing import factories

    return factories.api_client(tenant, "analyst")


@pytest.fixture
def admin_api(tenant: Any) -> Any:
    from parley.testing import factories

    return factories.api_client(tenant, "admin")
