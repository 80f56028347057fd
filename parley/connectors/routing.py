"""Websocket routes of every channel folder (``parley/connectors/<channel>/routing.py``)."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any

websocket_urlpatterns: list[Any] = []

for _folder in sorted(Path(__file__).resolve().parent.iterdir()):
    _module = f"parley.connectors.{_folder.name}.routing"
    if _folder.is_dir() and (_folder / "__init__.py").exists() and find_spec(_module) is not None:
        websocket_urlpatterns.extend(import_module(_module).websocket_urlpatterns)
