"""What every parser produces: a title and an ordered list of blocks, each under a heading path."""

from __future__ import annotations

from dataclasses import dataclass, field


class ParseError(ValueError):
    """The file could not be read (corrupt, encrypted, wrong format); the message says why."""


class UnsupportedFormat(ParseError):
    """No parser handles this kind of file."""


@dataclass(frozen=True)
class Block:
    """A unit of text the chunker must not split across headings.

    ``kind`` is ``text`` (a paragraph, list item, table row) or ``qa`` (one question/answer pair,
    always a chunk of its own).
    """

    text: str
    heading_path: tuple[str, ...] = ()
    kind: str = "text"


@dataclass
class ParsedDocument:
    """A parsed file: its title (may be blank), blocks in reading order and the detected format."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    format: str = "text"

    @property
    def text(self) -> str:
        """The whole document as plain text (headings as lines of their own)."""
        lines: list[str] = []
        last_path: tuple[str, ...] = ()
        for block in self.blocks:
            if block.heading_path != last_path and block.heading_path:
                lines.append(" > ".join(block.heading_path))
                last_path = block.heading_path
            lines.append(block.text)
        return "\n\n".join(lines)


class HeadingStack:
    """Tracks the current heading path while a parser walks a document."""

    def __init__(self) -> None:
        self._levels: list[tuple[int, str]] = []

    def push(self, level: int, title: str) -> None:
        title = " ".join(title.split())[:300]
        while self._levels and self._levels[-1][0] >= level:
            self._levels.pop()
        if title:
            self._levels.append((level, title))

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self._levels)
