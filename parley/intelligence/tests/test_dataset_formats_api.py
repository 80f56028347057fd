"""The dataset formats an import can name, for the dashboard's upload form."""

from __future__ import annotations

from typing import Any

import pytest

from parley.intelligence.datasets import formats
from parley.testing import factories


@pytest.mark.django_db
def test_formats_list_the_registered_loaders(tenant: Any) -> None:
    response = factories.api_client(tenant, "analyst").get("/api/v1/intelligence/dataset-formats/")
    assert response.status_code == 200, response.content
    listed = response.json()["formats"]
    assert [row["name"] for row in listed] == sorted(formats())
    by_name = {row["name"]: row["description"] for row in listed}
    assert {"synthetic", "banking77", "sgd", "twcs"} <= set(by_name)
    assert "conversation_id" in by_name["synthetic"]


@pytest.mark.django_db
def test_formats_need_an_analyst(tenant: Any) -> None:
    assert factories.api_client(tenant, "agent").get("/api/v1/intelligence/dataset-formats/").status_code == 403
    assert factories.api_client(tenant, "analyst").post("/api/v1/intelligence/dataset-formats/", {}).status_code == 405
