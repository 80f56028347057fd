from __future__ import annotations

from typing import Any

import pytest

from parley.audit.actions import record_audit_event
from parley.testing import factories


@pytest.mark.django_db
def test_supervisors_read_their_tenants_audit_log_newest_first(tenant: Any, other_tenant: Any) -> None:
    supervisor = factories.api_client(tenant, "supervisor")  # itself audited as apikey.created
    record_audit_event(action="export.requested", actor="owner@acme.test", tenant=tenant, data={"name": "ci"})
    record_audit_event(action="export.downloaded", actor="owner@acme.test", tenant=tenant)
    record_audit_event(action="export.requested", actor="boss@globex.test", tenant=other_tenant)
    record_audit_event(action="export.requested", actor="system")  # no tenant: never listed

    everything = supervisor.get("/api/v1/audit-events/")
    assert everything.status_code == 200
    actions = [r["action"] for r in everything.json()["results"]]
    assert actions == ["export.downloaded", "export.requested", "apikey.created"]
    assert "globex" not in everything.content.decode()

    filtered = supervisor.get("/api/v1/audit-events/?action=export.req").json()["results"]
    assert [(r["action"], r["actor"], r["data"]) for r in filtered] == [("export.requested", "owner@acme.test", {"name": "ci"})]
    assert [r["action"] for r in supervisor.get("/api/v1/audit-events/?actor=ACME").json()["results"]] == [
        "export.downloaded",
        "export.requested",
    ]


@pytest.mark.django_db
def test_audit_log_is_read_only_and_closed_to_agents(tenant: Any) -> None:
    event = record_audit_event(action="apikey.created", actor="x", tenant=tenant)
    assert factories.api_client(tenant, "agent").get("/api/v1/audit-events/").status_code == 403
    owner = factories.api_client(tenant, "owner")
    assert owner.get(f"/api/v1/audit-events/{event.pk}/").json()["action"] == "apikey.created"
    assert owner.post("/api/v1/audit-events/", {"action": "forged"}, format="json").status_code == 405
    assert owner.delete(f"/api/v1/audit-events/{event.pk}/").status_code == 405
    assert owner.patch(f"/api/v1/audit-events/{event.pk}/", {"action": "x"}, format="json").status_code == 405
    assert owner.get("/api/v1/audit-events/?created_after=not-a-date").status_code == 400
