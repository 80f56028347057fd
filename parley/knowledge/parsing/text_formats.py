"""Plain text and Markdown."""

from __future__ import annotations

import re

from parley.knowledge.parsing.base import Block, HeadingStack, ParsedDocument
from parley.knowledge.text import normalise_whitespace

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_FENCE = re.compile(r"^(```|~~~)")


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-8 (BOM tolerated), falling back to cp1252 / latin-1."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _paragraphs(text: str) -> list[str]:
    return [normalise_whitespace(part) for part in re.split(r"\n\s*\n", text) if part.strip()]


def parse_plain(data: bytes, title: str = "") -> ParsedDocument:
    """Paragraphs separated by blank lines; no headings."""
    text = decode_text(data)
    return ParsedDocument(title=title, blocks=[Block(text=p) for p in _paragraphs(text)], format="text")


def _strip_inline_markdown(text: str) -> str:
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)  # images → alt text
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links → their text
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<!\w)[*_](.+?)[*_](?!\w)", r"\1", text)
    return re.sub(r"`([^`]+)`", r"\1", text)


def parse_markdown(data: bytes, title: str = "") -> ParsedDocument:
    """ATX (``#``) and setext headings become the heading path; paragraphs, lists and code blocks are blocks."""
    lines = decode_text(data).replace("\r\n", "\n").split("\n")
    headings = HeadingStack()
    blocks: list[Block] = []
    buffer: list[str] = []
    first_heading = ""
    in_fence = False

    def flush() -> None:
        text = normalise_whitespace(_strip_inline_markdown("\n".join(buffer))) if buffer else ""
        buffer.clear()
        if text:
            blocks.append(Block(text=text, heading_path=headings.path))

    for index, line in enumerate(lines):
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
            continue
        if in_fence:
            buffer.append(line)
            continue
        atx = _ATX.match(line)
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        if atx:
            flush()
            heading = _strip_inline_markdown(atx.group(2))
            headings.push(len(atx.group(1)), heading)
            first_heading = first_heading or heading
            continue
        if line.strip() and _SETEXT.match(next_line) and not buffer:
            flush()
            heading = _strip_inline_markdown(line.strip())
            headings.push(1 if next_line.strip().startswith("=") else 2, heading)
            first_heading = first_heading or heading
            continue
        if _SETEXT.match(line) and not buffer and index > 0 and lines[index - 1].strip():
            continue  # underline of a setext heading handled above
        if not line.strip():
            flush()
            continue
        buffer.append(line)
    flush()
    return ParsedDocument(title=title or first_heading, blocks=blocks, format="markdown")
