"""Structure-aware chunking: sections (heading paths) are never mixed, Q&A pairs stay whole,
paragraphs are packed up to a token budget, and consecutive chunks of a section overlap."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.knowledge.parsing.base import Block
from parley.knowledge.text import count_tokens

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")

#: Default budget in word/punctuation tokens: ~250 MiniLM word pieces, under its 256-piece window.
DEFAULT_MAX_TOKENS = 180
DEFAULT_OVERLAP_TOKENS = 30


@dataclass(frozen=True)
class Chunk:
    """A passage ready to embed: its text, the headings above it, its order and size."""

    position: int
    text: str
    heading_path: tuple[str, ...]
    token_count: int
    kind: str = "text"

    def embedding_text(self, title: str = "") -> str:
        """What is embedded and indexed: the title and heading path give the passage its context."""
        context = [part.strip() for part in (title, *self.heading_path) if part.strip()]
        deduped = [part for index, part in enumerate(context) if index == 0 or part != context[index - 1]]
        return (" > ".join(deduped) + "\n" + self.text) if deduped else self.text


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def _split_long(text: str, max_tokens: int) -> list[str]:
    """Split a block that is over budget at sentence ends, then (for run-on sentences) at word boundaries."""
    pieces: list[str] = []
    for sentence in _sentences(text):
        if count_tokens(sentence) <= max_tokens:
            pieces.append(sentence)
            continue
        words = sentence.split()
        current: list[str] = []
        for word in words:
            if current and count_tokens(" ".join([*current, word])) > max_tokens:
                pieces.append(" ".join(current))
                current = []
            current.append(word)
        if current:
            pieces.append(" ".join(current))
    return pieces


def _overlap_tail(parts: list[str], overlap_tokens: int) -> list[str]:
    """The trailing sentences of a chunk that fit in ``overlap_tokens`` (whole sentences only)."""
    if overlap_tokens <= 0:
        return []
    sentences = _sentences(" ".join(parts))
    tail: list[str] = []
    total = 0
    for sentence in reversed(sentences[1:]):  # never repeat the whole chunk
        size = count_tokens(sentence)
        if total + size > overlap_tokens:
            break
        tail.insert(0, sentence)
        total += size
    return tail


def chunk_blocks(
    blocks: list[Block], *, max_tokens: int = DEFAULT_MAX_TOKENS, overlap_tokens: int = DEFAULT_OVERLAP_TOKENS
) -> list[Chunk]:
    """Pack ``blocks`` into chunks.

    Args:
        blocks: parsed blocks in reading order.
        max_tokens: the budget per chunk (a Q&A pair may exceed it rather than be cut).
        overlap_tokens: how much of a chunk's end is repeated at the start of the next one in the same section.
    Returns:
        Chunks numbered from 0 in reading order.
    """
    if max_tokens < 10:
        raise ValueError("max_tokens must be at least 10")
    overlap_tokens = min(overlap_tokens, max_tokens // 2)
    chunks: list[Chunk] = []

    def emit(parts: list[str], path: tuple[str, ...], kind: str = "text") -> None:
        text = "\n\n".join(parts).strip()
        if text:
            chunks.append(Chunk(len(chunks), text, path, count_tokens(text), kind))

    current: list[str] = []
    current_tokens = 0
    current_path: tuple[str, ...] | None = None
    has_new_content = False

    def flush() -> None:
        nonlocal current, current_tokens, has_new_content
        if current and has_new_content:
            emit(current, current_path or ())
        current, current_tokens, has_new_content = [], 0, False

    for block in blocks:
        if block.kind == "qa":
            flush()
            current_path = block.heading_path
            emit([block.text], block.heading_path, "qa")
            continue
        if block.heading_path != current_path:
            flush()
            current_path = block.heading_path
        pieces = [block.text] if count_tokens(block.text) <= max_tokens else _split_long(block.text, max_tokens)
        for piece in pieces:
            size = count_tokens(piece)
            if current and current_tokens + size > max_tokens:
                finished = current
                flush()
                current = _overlap_tail(finished, overlap_tokens)
                current_tokens = sum(count_tokens(part) for part in current)
                if current_tokens + size > max_tokens:
                    current, current_tokens = [], 0
            current.append(piece)
            current_tokens += size
            has_new_content = True
    flush()
    return chunks
