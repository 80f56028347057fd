"""The tenant's business hours over the API: read, replace, remove; bad input is a 400 with the field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from parley.accounts.models import Tenant
from parley.analytics.facts import AnalyticsSettings
from parley.audit.models import AuditEvent
from parley.testing import factories

WEEK = {
    "timezone": "Europe/Berlin",
    "hours": {"tue": [["08:00", "12:00"], ["13:00", "17:00"]], "mon": [["09:00", "17:00"]]},
    "holidays": ["2026-12-25"],
}


@pytest.mark.django_db
def test_unset_hours_read_as_always_open(api: Any) -> None:
    response = api.get("/api/v1/business-hours/")
    assert response.status_code == 200
    assert response.json() == {"timezone": "UTC", "hours": {}, "holidays": [], "configured": False}


@pytest.mark.django_db
def test_put_stores_the_hours_analytics_uses(tenant: Any, api: Any) -> None:
    response = api.put("/api/v1/business-hours/", WEEK, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["configured"] is True
    assert list(body["hours"]) == ["mon", "tue"]  # weekday order
    assert body["hours"]["tue"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert api.get("/api/v1/business-hours/").json() == body

    hours = AnalyticsSettings.for_tenant(Tenant.objects.get(pk=tenant.pk)).business_hours
    assert hours is not None
    # Monday 2026-11-23 07:00–10:00 UTC is 08:00–11:00 in Berlin: two business hours (from 09:00).
    seconds = hours.seconds_between(datetime(2026, 11, 23, 7, tzinfo=UTC), datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert seconds == 2 * 3600
    assert AuditEvent.objects.filter(tenant=tenant, action="tenant.business_hours_changed").count() == 1

    removed = api.delete("/api/v1/business-hours/")
    assert removed.status_code == 200
    assert removed.json()["configured"] is False
    assert AnalyticsSettings.for_tenant(Tenant.objects.get(pk=tenant.pk)).business_hours is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"hours": {"funday": [["09:00", "17:00"]]}}, "hours"),
        ({"hours": {"mon": [["17:00", "09:00"]]}}, "hours"),
        ({"hours": {"mon": [["9am", "5pm"]]}}, "hours"),
        ({"hours": {"mon": [["09:00"]]}}, "hours"),
        ({"hours": {}}, "hours"),
        ({"holidays": ["christmas"]}, "holidays"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_hours_are_400_with_the_field(tenant: Any, api: Any, change: dict[str, Any], field: str) -> None:
    response = api.put("/api/v1/business-hours/", {**WEEK, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert "business_hours" not in (Tenant.objects.get(pk=tenant.pk).settings or {})


@pytest.mark.django_db
def test_only_admins_change_hours_and_tenants_are_separate(tenant: Any, other_tenant: Any, api: Any) -> None:
    agent = factories.api_client(tenant, "agent")
    assert agent.get("/api/v1/business-hours/").status_code == 200
    assert agent.put("/api/v1/business-hours/", WEEK, format="json").status_code == 403
    assert agent.delete("/api/v1/business-hours/").status_code == 403
    assert api.put("/api/v1/business-hours/", WEEK, format="json").status_code == 200
    other = factories.api_client(other_tenant, "owner")
    assert other.get("/api/v1/business-hours/").json()["configured"] is False
