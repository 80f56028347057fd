"""Lazy access to sibling subsystems built in parallel (knowledge, intelligence, llm, tools, commerce).

The orchestrator works without any of them: a missing module means "feature not installed", never a crash.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType


def optional_module(name: str) -> ModuleType | None:
    """``name`` imported, or None when that subsystem is not installed."""
    try:
        return import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        raise
