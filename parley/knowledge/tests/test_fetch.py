"""URL ingestion against a real local website: limits, robots.txt, same-site crawl, SSRF guard."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from parley.knowledge import actions
from parley.knowledge.fetch import FetchError, crawl, fetch
from parley.knowledge.models import DocumentStatus, KnowledgeDocument, SourceKind
from parley.knowledge.retrieval import search
from parley.knowledge.tests.servers import FakeWebsite, Page


def _html(title: str, body: str) -> bytes:
    return f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>".encode()


@pytest.fixture
def site() -> Iterator[FakeWebsite]:
    pages = {
        "/robots.txt": Page(b"User-agent: *\nDisallow: /private/\n", "text/plain"),
        "/": Page(
            _html(
                "Help",
                '<p>Welcome to the help centre of the tea shop.</p><a href="/shipping">Shipping</a> <a href="/private/admin">Admin</a> <a href="https://elsewhere.example/x">Other site</a>',
            )
        ),
        "/shipping": Page(
            _html(
                "Shipping",
                '<p>Loose-leaf tea ships in compostable bags within two days.</p><a href="/deep">Deeper</a> <a href="/slow">Slow</a>',
            )
        ),
        "/deep": Page(_html("Deep", "<p>Two links away from the start page.</p>")),
        "/private/admin": Page(_html("Admin", "<p>Secret admin page.</p>")),
        "/slow": Page(_html("Slow", "<p>Eventually.</p>"), delay_s=2.0),
        "/logo.png": Page(b"\x89PNG....", "image/png"),
        "/big": Page(b"<html>" + b"x" * 5000 + b"</html>"),
    }
    with FakeWebsite(pages) as server:
        pages["/redirect-private"] = Page(
            b"", status=302, headers={"Location": f"http://localhost:{server.url.rsplit(':', 1)[1]}/"}
        )
        yield server


@pytest.fixture
def local_allowed(settings: Any) -> None:
    """The test site is on 127.0.0.1: allow that host name only (everything else private stays refused)."""
    settings.KNOWLEDGE_PRIVATE_HOST_ALLOWLIST = ("127.0.0.1",)
    settings.KNOWLEDGE_FETCH_TIMEOUT_S = 1.0
    settings.KNOWLEDGE_MAX_FETCH_BYTES = 4096


def test_loopback_and_private_addresses_are_refused_by_default(site: FakeWebsite) -> None:
    with pytest.raises(FetchError, match=r"private address 127\.0\.0\.1"):
        fetch(site.url + "/")
    with pytest.raises(FetchError, match="private address"):
        fetch("http://10.1.2.3/")
    with pytest.raises(FetchError, match="only http and https"):
        fetch("file:///etc/passwd")
    assert site.requests == []


def test_a_redirect_to_a_private_address_is_refused(site: FakeWebsite, local_allowed: None) -> None:
    with pytest.raises(FetchError, match="refused: localhost resolves to the private address"):
        fetch(site.url + "/redirect-private")


def test_limits_on_time_size_and_content_type(site: FakeWebsite, local_allowed: None) -> None:
    with pytest.raises(FetchError, match="timed out"):
        fetch(site.url + "/slow")
    with pytest.raises(FetchError, match="over the 4096-byte limit"):
        fetch(site.url + "/big")
    with pytest.raises(FetchError, match="unsupported content type 'image/png'"):
        fetch(site.url + "/logo.png")
    assert b"Loose-leaf" in fetch(site.url + "/shipping").data


def test_crawl_stays_on_site_honours_robots_and_depth(site: FakeWebsite, local_allowed: None) -> None:
    result = crawl(site.url + "/", depth=1, max_pages=10)
    fetched = sorted(page.url.removeprefix(site.url) for page in result.pages)
    assert fetched == ["/", "/shipping"]
    assert result.failures[site.url + "/private/admin"] == "disallowed by robots.txt"
    assert "/private/admin" not in site.paths_requested()
    assert not any("elsewhere" in url for url in result.failures)
    deeper = crawl(site.url + "/", depth=2, max_pages=10)
    assert site.url + "/deep" in [page.url for page in deeper.pages]
    assert "timed out" in deeper.failures[site.url + "/slow"]


@pytest.mark.django_db
def test_url_source_sync_indexes_pages_and_records_failures(tenant: Any, site: FakeWebsite, local_allowed: None) -> None:
    source = actions.create_source(
        tenant=tenant,
        data={"name": "Website", "kind": SourceKind.URL, "url": site.url + "/shipping", "crawl_depth": 1},
        sync=False,
    )
    counts = actions.sync_source(source=source)
    assert counts == {"fetched": 2, "changed": 2, "failed": 1}
    for document in KnowledgeDocument.objects.filter(source=source, status=DocumentStatus.PENDING):
        actions.index_document(document_id=document.pk)
    slow = KnowledgeDocument.objects.get(source=source, external_ref=site.url + "/slow")
    assert slow.status == DocumentStatus.FAILED and "timed out" in slow.status_reason
    hit = search(tenant=tenant, query="what bags is the tea shipped in?", k=1)[0]
    assert "compostable" in hit.text and hit.url == site.url + "/shipping" and hit.document_title == "Shipping"
    again = actions.sync_source(source=source)
    assert again["changed"] == 0  # unchanged pages are no-ops


@pytest.mark.django_db
def test_a_private_start_url_fails_the_source_with_the_reason(tenant: Any, site: FakeWebsite) -> None:
    source = actions.create_source(
        tenant=tenant, data={"name": "Intranet", "kind": SourceKind.URL, "url": site.url + "/"}, sync=False
    )
    counts = actions.sync_source(source=source)
    assert counts["fetched"] == 0 and counts["failed"] == 1
    document = KnowledgeDocument.objects.get(source=source)
    assert document.status == DocumentStatus.FAILED and "private address" in document.status_reason


@pytest.mark.django_db
def test_fetched_pages_are_scanned_for_malware_like_uploads(
    tenant: Any, site: FakeWebsite, local_allowed: None, settings: Any
) -> None:
    from parley.testing.fake_clamd import EICAR, EICAR_SIGNATURE, FakeClamd

    site.pages["/download"] = Page(_html("Manual", "<p>The kettle manual.</p>" + EICAR.decode()))
    source = actions.create_source(
        tenant=tenant, data={"name": "Sitemap", "kind": SourceKind.URL, "url": site.url + "/download"}, sync=False
    )
    with FakeClamd() as clamd:
        settings.CLAMD_ADDRESS, settings.CLAMD_FAIL_OPEN = clamd.address, False
        counts = actions.sync_source(source=source)
        assert len(clamd.scans) == 1 and EICAR in clamd.scans[0].content
    assert counts == {"fetched": 0, "changed": 0, "failed": 1}
    document = KnowledgeDocument.objects.get(source=source)
    assert document.status == DocumentStatus.FAILED and EICAR_SIGNATURE in document.status_reason
    assert document.chunk_count == 0

    site.pages["/download"] = Page(_html("Manual", "<p>The kettle manual, cleaned.</p>"))
    settings.CLAMD_ADDRESS = "127.0.0.1:1"  # clamd down, failing closed: not stored, retried next sync
    refused = actions.sync_source(source=source)
    assert refused["failed"] == 1
    assert "could not be scanned" in KnowledgeDocument.objects.get(source=source).status_reason
    with FakeClamd() as clamd:
        settings.CLAMD_ADDRESS = clamd.address
        assert actions.sync_source(source=source) == {"fetched": 1, "changed": 1, "failed": 0}
    assert KnowledgeDocument.objects.get(source=source).status == DocumentStatus.PENDING
