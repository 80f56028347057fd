"""API keys are resolved from an in-process cache; revocation and disabled tenants still take effect."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from parley.accounts import actions, authentication
from parley.accounts.models import ApiKey, Tenant
from parley.testing import factories


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Clock]:
    fake = _Clock()
    monkeypatch.setattr(authentication, "_clock", fake)
    authentication.api_key_cache.clear()
    yield fake
    authentication.api_key_cache.clear()


def _client(tenant: Tenant, role: str = "agent") -> tuple[APIClient, ApiKey]:
    issued = actions.create_api_key(tenant=tenant, name="cached", role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    return client, issued.api_key


def _key_lookups(queries: CaptureQueriesContext) -> int:
    return sum(1 for query in queries.captured_queries if 'FROM "accounts_apikey"' in query["sql"])


@pytest.mark.django_db
def test_a_known_key_is_not_read_again(tenant: Tenant, clock: _Clock) -> None:
    client, _ = _client(tenant)
    with CaptureQueriesContext(connection) as first:
        assert client.get("/api/v1/customers/").status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get("/api/v1/customers/").status_code == 200
    assert _key_lookups(first) == 1
    assert _key_lookups(second) == 0


@pytest.mark.django_db
def test_revoking_through_the_action_takes_effect_at_once(tenant: Tenant, clock: _Clock) -> None:
    client, key = _client(tenant, "admin")
    assert client.get("/api/v1/customers/").status_code == 200
    actions.revoke_api_key(api_key=ApiKey.objects.get(pk=key.pk), actor="test")
    response = client.get("/api/v1/customers/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


@pytest.mark.django_db
def test_revoking_through_the_api_takes_effect_at_once(tenant: Tenant, clock: _Clock) -> None:
    client, key = _client(tenant, "admin")
    assert client.get("/api/v1/customers/").status_code == 200
    admin = factories.api_client(tenant, "admin")
    assert admin.delete(f"/api/v1/api-keys/{key.pk}/").status_code in (200, 204)
    assert client.get("/api/v1/customers/").status_code == 401


@pytest.mark.django_db
def test_a_revocation_elsewhere_takes_effect_within_the_ttl(tenant: Tenant, clock: _Clock) -> None:
    """Another process (the CLI, a second web server) revoked the key: this one notices within the TTL."""
    client, key = _client(tenant)
    assert client.get("/api/v1/customers/").status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    clock.now += authentication.API_KEY_CACHE_SECONDS - 1
    assert client.get("/api/v1/customers/").status_code == 200
    clock.now += 1.01
    assert client.get("/api/v1/customers/").status_code == 401
    clock.now += 100
    assert client.get("/api/v1/customers/").status_code == 401  # a revoked key is never cached


@pytest.mark.django_db
def test_a_disabled_tenant_is_refused_within_the_ttl(tenant: Tenant, clock: _Clock) -> None:
    client, _ = _client(tenant)
    assert client.get("/api/v1/customers/").status_code == 200
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    clock.now += authentication.API_KEY_CACHE_SECONDS + 0.01
    response = client.get("/api/v1/customers/")
    assert response.status_code == 401
    assert "disabled" in response.json()["detail"]


@pytest.mark.django_db
def test_a_wrong_secret_for_a_cached_prefix_is_refused(tenant: Tenant, clock: _Clock) -> None:
    issued = actions.create_api_key(tenant=tenant, name="k", role="agent")
    good = APIClient()
    good.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert good.get("/api/v1/customers/").status_code == 200
    forged = issued.secret[:-4] + ("aaaa" if not issued.secret.endswith("aaaa") else "bbbb")
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert bad.get("/api/v1/customers/").status_code == 401
    assert good.get("/api/v1/customers/").status_code == 200


@pytest.mark.django_db
def test_cached_context_is_fresh_and_never_shared(tenant: Tenant, clock: _Clock) -> None:
    """Each request gets its own instances; tenant settings are read fresh, never from the cache."""
    issued = actions.create_api_key(tenant=tenant, name="k", role="supervisor")
    auth = authentication.ApiKeyAuthentication()

    class _Request:
        META = {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}

    _, first = auth.authenticate(_Request())  # type: ignore[arg-type,misc]
    Tenant.objects.filter(pk=tenant.pk).update(settings={"greeting": "changed"})
    _, second = auth.authenticate(_Request())  # type: ignore[arg-type,misc]
    assert second.tenant is not first.tenant and second.api_key is not first.api_key
    assert second.tenant.pk == tenant.pk and second.tenant.slug == tenant.slug
    assert second.role == "supervisor" and second.actor_label == f"api-key:{issued.api_key.prefix}"
    assert second.tenant.settings == {"greeting": "changed"}


@pytest.mark.django_db
def test_last_used_is_still_recorded(tenant: Tenant, clock: _Clock) -> None:
    client, key = _client(tenant)
    assert client.get("/api/v1/customers/").status_code == 200
    first_use = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first_use is not None
    long_ago = timezone.now() - timedelta(minutes=5)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=long_ago)
    authentication.api_key_cache.clear()
    assert client.get("/api/v1/customers/").status_code == 200  # read from the database
    assert ApiKey.objects.get(pk=key.pk).last_used_at > long_ago
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=long_ago)
    authentication.api_key_cache.touched(key.prefix, long_ago)
    assert client.get("/api/v1/customers/").status_code == 200  # served from the cache
    assert ApiKey.objects.get(pk=key.pk).last_used_at > long_ago


@pytest.mark.django_db
def test_a_zero_ttl_turns_the_cache_off(tenant: Tenant, clock: _Clock, settings: Any) -> None:
    settings.PARLEY_API_KEY_CACHE_SECONDS = 0
    client, key = _client(tenant)
    assert client.get("/api/v1/customers/").status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert client.get("/api/v1/customers/").status_code == 401
