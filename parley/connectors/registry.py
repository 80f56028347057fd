"""Slug → connector lookup; each channel folder registers itself here."""

from __future__ import annotations

from importlib import import_module

from parley.connectors.base import Connector

_CONNECTOR_MODULES: dict[str, str] = {
    # slug: module exposing ``connector``
    "webchat": "parley.connectors.webchat.connector",
    "whatsapp": "parley.connectors.whatsapp.connector",
    "messenger": "parley.connectors.messenger.connector",
    "generic": "parley.connectors.generic.connector",
}
_cache: dict[str, Connector] = {}


class UnknownChannel(LookupError):
    """No connector is registered for this channel type."""


def register(slug: str, module_path: str) -> None:
    """Register the module that provides the connector for ``slug``."""
    _CONNECTOR_MODULES[slug] = module_path


def get_connector(slug: str) -> Connector:
    """The connector for a channel type.

    Raises:
        UnknownChannel: when no folder provides one.
    """
    if slug not in _cache:
        module_path = _CONNECTOR_MODULES.get(slug)
        if module_path is None:
            raise UnknownChannel(f"no connector for channel type {slug!r}")
        _cache[slug] = import_module(module_path).connector
    return _cache[slug]


def registered_slugs() -> list[str]:
    """Every channel type that has a connector."""
    return sorted(_CONNECTOR_MODULES)
