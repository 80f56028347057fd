"""Parsers: bytes of a file → :class:`ParsedDocument` (title + blocks under heading paths).

``parse()`` picks the parser from the file name, the declared content type and the bytes themselves.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from parley.knowledge.parsing.base import Block, ParsedDocument, ParseError, UnsupportedFormat
from parley.knowledge.parsing.html import extract_links, parse_html
from parley.knowledge.parsing.office import parse_docx, parse_pdf, parse_qa_csv, parse_qa_xlsx
from parley.knowledge.parsing.text_formats import parse_markdown, parse_plain

__all__ = [
    "Block",
    "ParseError",
    "ParsedDocument",
    "UnsupportedFormat",
    "detect_format",
    "extract_links",
    "parse",
]

_EXTENSIONS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".csv": "qa_csv",
    ".xlsx": "qa_xlsx",
}
_CONTENT_TYPES = {
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/plain": "text",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/csv": "qa_csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "qa_xlsx",
}
_PARSERS = {
    "markdown": parse_markdown,
    "text": parse_plain,
    "html": parse_html,
    "pdf": parse_pdf,
    "docx": parse_docx,
    "qa_csv": parse_qa_csv,
    "qa_xlsx": parse_qa_xlsx,
}
SUPPORTED_EXTENSIONS = tuple(sorted(_EXTENSIONS))


def _sniff(data: bytes) -> str | None:
    head = data[:1024]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "qa_xlsx"
        return None
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "html"
    return None


def detect_format(filename: str, content_type: str, data: bytes) -> str:
    """The format name for a file, from its extension, content type or magic bytes.

    Raises:
        UnsupportedFormat: nothing recognises it (e.g. an image or an executable).
    """
    by_extension = _EXTENSIONS.get(PurePosixPath(filename.lower()).suffix)
    by_type = _CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    sniffed = _sniff(data)
    # Binary containers are trusted by their bytes: a "report.pdf" that is really a ZIP must not reach the PDF parser.
    if sniffed in ("pdf", "docx", "qa_xlsx"):
        return sniffed
    fmt = by_extension or by_type
    if fmt is None and sniffed:
        fmt = sniffed
    if fmt is None:
        kind = content_type or PurePosixPath(filename).suffix or "unknown"
        raise UnsupportedFormat(f"unsupported file type {kind!r}; supported: {', '.join(SUPPORTED_EXTENSIONS)}")
    if fmt in ("pdf", "docx", "qa_xlsx"):
        raise ParseError(f"the file is not a valid {fmt.replace('qa_', '').upper()} (its content does not match)")
    if b"\x00" in data[:8192]:
        raise UnsupportedFormat("the file looks binary, not text")
    return fmt


def parse(data: bytes, *, filename: str = "", content_type: str = "", title: str = "", fmt: str | None = None) -> ParsedDocument:
    """Parse a file into blocks.

    Args:
        data: the raw bytes.
        filename: used for the format and as a fallback title.
        content_type: the declared MIME type (HTTP header or upload).
        title: overrides the title found in the document.
        fmt: force a format (``markdown``, ``text``, ``html``, ``pdf``, ``docx``, ``qa_csv``, ``qa_xlsx``).
    Raises:
        ParseError: corrupt or unsupported content (the message is safe to show).
    """
    fmt = fmt or detect_format(filename, content_type, data)
    parsed = _PARSERS[fmt](data, title)
    if not parsed.title and filename:
        parsed.title = PurePosixPath(filename).stem.replace("_", " ").replace("-", " ").strip()
    return parsed
