"""search_knowledge: the tenant's knowledge base (hybrid retrieval), cited by title and URL."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from pydantic import Field

from parley.tools.base import Tool, ToolContext, ToolFailure, ToolInput, ToolOutput, ToolResult
from parley.tools.registry import register


class SearchInput(ToolInput):
    query: str = Field(min_length=2, max_length=500, description="What to look up, in the customer's words")
    k: int = Field(default=4, ge=1, le=8, description="How many passages to return")


class Passage(ToolOutput):
    title: str
    url: str
    heading_path: list[str]
    text: str
    score: float


class SearchOutput(ToolOutput):
    passages: list[Passage]


@register
class SearchKnowledge(Tool):
    name = "search_knowledge"
    description = "Search the business's help articles and documents; answer only from the passages returned."
    Input = SearchInput
    Output = SearchOutput

    def run(self, args: SearchInput, context: ToolContext) -> ToolResult:
        try:
            retrieval: Any = import_module("parley.knowledge.retrieval")
            search = retrieval.search
        except (ImportError, AttributeError) as exc:
            raise ToolFailure("knowledge base unavailable") from exc
        chunks = search(
            tenant=context.tenant,
            query=args.query,
            k=args.k,
            conversation_id=str(context.conversation.pk) if context.conversation is not None else None,
            record=True,
        )
        return self.ok(
            SearchOutput(
                passages=[
                    Passage(
                        title=chunk.document_title,
                        url=chunk.url or "",
                        heading_path=list(chunk.heading_path),
                        text=chunk.text[:1500],
                        score=round(float(chunk.score), 4),
                    )
                    for chunk in chunks
                ]
            )
        )
