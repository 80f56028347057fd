from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.intelligence import actions
from parley.intelligence.models import ModelPromotion
from parley.testing import factories


def test_models_are_listed_compared_and_promoted_by_role(tenant: Any, other_tenant: Any, tiny_intent_dir: Path) -> None:
    shared = actions.register_model_version(directory=tiny_intent_dir)
    mine = actions.register_model_version(directory=tiny_intent_dir, tenant=tenant)
    theirs = actions.register_model_version(directory=tiny_intent_dir, tenant=other_tenant)
    analyst = factories.api_client(tenant, "analyst")
    listing = analyst.get("/api/v1/models/?kind=intent")
    assert listing.status_code == 200
    ids = {row["id"] for row in listing.json()["results"]}
    assert ids == {str(shared.id), str(mine.id)}
    assert str(theirs.id) not in listing.content.decode()
    assert analyst.get("/api/v1/models/?kind=bogus").status_code == 400

    compare = analyst.get(f"/api/v1/models/{shared.id}/compare/?other={mine.id}")
    assert compare.status_code == 200
    assert compare.json()["same_data"] is True
    assert analyst.get(f"/api/v1/models/{shared.id}/compare/?other={theirs.id}").status_code == 404
    assert analyst.get(f"/api/v1/models/{shared.id}/compare/?other=not-a-uuid").status_code == 400

    assert analyst.post(f"/api/v1/models/{mine.id}/promote/").status_code == 403
    assert factories.api_client(tenant, "agent").get("/api/v1/models/").status_code == 403
    admin = factories.api_client(tenant, "admin")
    promoted = admin.post(f"/api/v1/models/{mine.id}/promote/")
    assert promoted.status_code == 200 and promoted.json()["promoted"] is True
    assert ModelPromotion.objects.get(tenant=tenant, kind="intent").model_version_id == mine.id
    assert admin.post(f"/api/v1/models/{theirs.id}/promote/").status_code == 404
    assert not ModelPromotion.objects.filter(tenant=other_tenant).exists()


def test_analyse_endpoint_uses_the_tenants_promoted_model(tenant: Any, tiny_intent_dir: Path) -> None:
    version = actions.register_model_version(directory=tiny_intent_dir, tenant=tenant)
    actions.promote_model_version(version=version, tenant=tenant, actor="test")
    from parley.intelligence.registry import forget_promotions

    forget_promotions()
    client = factories.api_client(tenant, "agent")
    response = client.post(
        "/api/v1/intelligence/analyse/", {"texts": ["where is my parcel?", "Merci beaucoup, c'est parfait"]}, format="json"
    )
    assert response.status_code == 200, response.content
    first, second = response.json()["results"]
    assert first["intent"] == "delivery" and first["language"] == "en"
    assert second["language"] == "fr"
    assert client.post("/api/v1/intelligence/analyse/", {"texts": []}, format="json").status_code == 400
    assert client.post("/api/v1/intelligence/analyse/", {"text": "x"}, format="json").status_code == 400
