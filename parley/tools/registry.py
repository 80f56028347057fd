"""Tools registered by name: one class per tool; adding a tool touches no other tool."""

from __future__ import annotations

from typing import TypeVar

from parley.tools.base import Tool

_TOOLS: dict[str, type[Tool]] = {}
T = TypeVar("T", bound=type[Tool])


def register(tool: T) -> T:
    """Class decorator: make ``tool`` available under ``tool.name``."""
    if tool.name in _TOOLS and _TOOLS[tool.name] is not tool:
        raise ValueError(f"tool {tool.name!r} is registered twice")
    _TOOLS[tool.name] = tool
    return tool


def _load_builtins() -> None:
    import parley.tools.builtin  # noqa: F401  (registers the built-in tools)


def get_tool(name: str) -> type[Tool] | None:
    """The tool class named ``name``, or None."""
    _load_builtins()
    return _TOOLS.get(name)


def all_tools() -> dict[str, type[Tool]]:
    """Every registered tool by name."""
    _load_builtins()
    return dict(sorted(_TOOLS.items()))
