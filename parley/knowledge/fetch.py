"""Fetching web pages for ingestion, with limits and an SSRF guard.

Every hop (including each redirect) is resolved and refused when it points at a loopback, private,
link-local, multicast or reserved address, unless ``KNOWLEDGE_ALLOW_PRIVATE_URLS`` is on or the host
name is in ``KNOWLEDGE_PRIVATE_HOST_ALLOWLIST`` (self-hosted intranets, tests). Redirects are followed
by hand so each target is checked. (The address is checked at resolution time; a DNS answer that
changes between the check and the connection is not defended against.)
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.robotparser
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from bs4 import BeautifulSoup

from parley.knowledge.conf import knowledge_setting
from parley.knowledge.parsing import extract_links

FETCHABLE_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "text/markdown",
    "text/csv",
    "application/pdf",
    "application/xml",
    "text/xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)


class FetchError(RuntimeError):
    """A page could not be fetched; the message is the reason shown on the document."""


@dataclass
class FetchedPage:
    url: str
    final_url: str
    content_type: str
    data: bytes


def check_url_allowed(url: str) -> None:
    """Raise :class:`FetchError` unless ``url`` is http(s) and resolves only to public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be fetched, not {parts.scheme or 'no scheme'!r}")
    host = parts.hostname
    if not host:
        raise FetchError("the URL has no host")
    if knowledge_setting("ALLOW_PRIVATE_URLS") or host.lower() in {
        h.lower() for h in knowledge_setting("PRIVATE_HOST_ALLOWLIST")
    }:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        ):
            raise FetchError(f"refused: {host} resolves to the private address {address}")


def fetch(url: str, *, client: httpx.Client | None = None, accept: tuple[str, ...] = FETCHABLE_TYPES) -> FetchedPage:
    """GET ``url`` within the size, time and content-type limits, following redirects safely.

    Raises:
        FetchError: refused address, timeout, HTTP error, too large, unsupported content type.
    """
    max_bytes = int(knowledge_setting("MAX_FETCH_BYTES"))
    timeout = float(knowledge_setting("FETCH_TIMEOUT_S"))
    own_client = client is None
    http = client or httpx.Client(
        timeout=timeout, follow_redirects=False, headers={"User-Agent": knowledge_setting("USER_AGENT")}
    )
    deadline = time.monotonic() + timeout
    current = url
    try:
        for _ in range(int(knowledge_setting("MAX_REDIRECTS")) + 1):
            check_url_allowed(current)
            try:
                with http.stream("GET", current, timeout=max(0.1, deadline - time.monotonic())) as response:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        if not location:
                            raise FetchError(f"{current} redirects without a Location")
                        current = urljoin(current, location)
                        continue
                    if response.status_code >= 400:
                        raise FetchError(f"{current} answered HTTP {response.status_code}")
                    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    if accept and content_type not in accept:
                        raise FetchError(f"{current} has the unsupported content type {content_type or 'none'!r}")
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > max_bytes:
                        raise FetchError(f"{current} is {declared} bytes, over the {max_bytes}-byte limit")
                    body = bytearray()
                    for piece in response.iter_bytes():
                        body.extend(piece)
                        if len(body) > max_bytes:
                            raise FetchError(f"{current} is over the {max_bytes}-byte limit")
                        if time.monotonic() > deadline:
                            raise FetchError(f"{url} timed out after {timeout:g}s")
                    return FetchedPage(url=url, final_url=current, content_type=content_type, data=bytes(body))
            except httpx.TimeoutException as exc:
                raise FetchError(f"{url} timed out after {timeout:g}s") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{current} could not be fetched: {exc}") from exc
        raise FetchError(f"{url} redirects too many times")
    finally:
        if own_client:
            http.close()


@dataclass
class CrawlResult:
    pages: list[FetchedPage] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


def _robots(start: str, client: httpx.Client) -> urllib.robotparser.RobotFileParser:
    parser = urllib.robotparser.RobotFileParser()
    parts = urlsplit(start)
    try:
        page = fetch(f"{parts.scheme}://{parts.netloc}/robots.txt", client=client, accept=())
        parser.parse(page.data.decode("utf-8", "replace").splitlines())
    except FetchError:
        parser.parse([])  # no robots.txt: everything allowed
    return parser


def crawl(start: str, *, depth: int, max_pages: int) -> CrawlResult:
    """Breadth-first same-site crawl from ``start`` honouring robots.txt, ``depth`` links deep."""
    result = CrawlResult()
    site = urlsplit(start).netloc.lower()
    agent = str(knowledge_setting("USER_AGENT"))
    with httpx.Client(timeout=float(knowledge_setting("FETCH_TIMEOUT_S")), headers={"User-Agent": agent}) as client:
        robots = _robots(start, client)
        queue: deque[tuple[str, int]] = deque([(start, 0)])
        seen = {start}
        while queue and len(result.pages) < max_pages:
            url, level = queue.popleft()
            if not robots.can_fetch(agent, url):
                result.failures[url] = "disallowed by robots.txt"
                continue
            try:
                page = fetch(url, client=client)
            except FetchError as exc:
                result.failures[url] = str(exc)
                continue
            result.pages.append(page)
            if level >= depth or page.content_type not in ("text/html", "application/xhtml+xml"):
                continue
            for link in extract_links(page.data, page.final_url):
                if urlsplit(link).netloc.lower() == site and link not in seen:
                    seen.add(link)
                    queue.append((link, level + 1))
    return result


def sitemap_urls(sitemap_url: str, *, max_urls: int) -> list[str]:
    """Page URLs listed in a sitemap (nested sitemap indexes followed one level)."""
    page = fetch(sitemap_url, accept=("application/xml", "text/xml", "text/plain"))
    soup = BeautifulSoup(page.data, "xml")
    urls = [loc.get_text(strip=True) for loc in soup.select("url > loc")]
    for nested in [loc.get_text(strip=True) for loc in soup.select("sitemap > loc")][:10]:
        if len(urls) >= max_urls:
            break
        try:
            nested_soup = BeautifulSoup(fetch(nested, accept=("application/xml", "text/xml")).data, "xml")
        except FetchError:
            continue
        urls.extend(loc.get_text(strip=True) for loc in nested_soup.select("url > loc"))
    return urls[:max_urls]
