"""HTML: main-content extraction (navigation, headers, footers, scripts dropped), headings kept."""

from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag, urljoin

from bs4 import BeautifulSoup, Tag

from parley.knowledge.parsing.base import Block, HeadingStack, ParsedDocument
from parley.knowledge.parsing.text_formats import decode_text
from parley.knowledge.text import normalise_whitespace

_NOISE = [
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "canvas",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
]
_NOISE_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary", "dialog"}
_BLOCKS = {
    "p",
    "li",
    "pre",
    "blockquote",
    "dd",
    "dt",
    "td",
    "th",
    "div",
    "section",
    "article",
    "figcaption",
    "summary",
    "caption",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _soup(data: bytes | str) -> BeautifulSoup:
    text = decode_text(data) if isinstance(data, bytes) else data
    return BeautifulSoup(text, "lxml")


def _main_root(soup: BeautifulSoup) -> Tag:
    for selector in ("main", "article", "[role=main]", "#content", "#main", ".content"):
        found = soup.select_one(selector)
        if isinstance(found, Tag) and len(found.get_text(strip=True)) > 40:
            return found
    body = soup.body
    return body if isinstance(body, Tag) else soup


def _drop_noise(root: Tag) -> None:
    for tag in root.find_all(_NOISE):
        tag.decompose()
    for tag in root.find_all(True, attrs={"role": True}):
        if isinstance(tag, Tag) and not tag.decomposed and str(tag.get("role", "")).lower() in _NOISE_ROLES:
            tag.decompose()
    for tag in root.find_all(True, attrs={"aria-hidden": "true"}):
        if isinstance(tag, Tag) and not tag.decomposed:
            tag.decompose()


def _has_block_children(tag: Tag) -> bool:
    return tag.find(list(_BLOCKS | _HEADINGS)) is not None


def parse_html(data: bytes | str, title: str = "") -> ParsedDocument:
    """Blocks from the page's main content, in reading order, under their ``h1``-``h6`` headings."""
    soup = _soup(data)
    page_title = ""
    if soup.title and soup.title.string:
        page_title = " ".join(soup.title.string.split())
    root = _main_root(soup)
    _drop_noise(root)
    headings = HeadingStack()
    blocks: list[Block] = []
    first_h1 = ""
    for element in root.find_all(list(_BLOCKS | _HEADINGS)):
        if not isinstance(element, Tag) or element.decomposed:
            continue
        name = element.name.lower()
        if name in _HEADINGS:
            heading = " ".join(element.get_text(" ", strip=True).split())
            headings.push(int(name[1]), heading)
            if name == "h1" and not first_h1:
                first_h1 = heading
            continue
        if _has_block_children(element):
            continue  # its block children are visited on their own
        separator = "\n" if name == "pre" else " "
        text = normalise_whitespace(element.get_text(separator, strip=True))
        if text:
            blocks.append(Block(text=text, heading_path=headings.path))
    return ParsedDocument(title=title or page_title or first_h1, blocks=_dedupe(blocks), format="html")


def _dedupe(blocks: list[Block]) -> list[Block]:
    seen: set[tuple[tuple[str, ...], str]] = set()
    result = []
    for block in blocks:
        key = (block.heading_path, block.text)
        if key not in seen:
            seen.add(key)
            result.append(block)
    return result


def extract_links(data: bytes | str, base_url: str) -> list[str]:
    """Absolute http(s) links of a page (fragments removed), in order, without duplicates."""
    soup = _soup(data)
    links: list[str] = []
    for anchor in soup.find_all("a", href=True):
        href: Any = anchor.get("href")
        if not isinstance(href, str):
            continue
        absolute, _ = urldefrag(urljoin(base_url, href.strip()))
        if absolute.startswith(("http://", "https://")) and absolute not in links:
            links.append(absolute)
    return links
