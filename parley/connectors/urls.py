"""Channel routes: the channels API, plus each channel folder's own ``urls.py`` (webhooks, REST).

A channel folder contributes ``urlpatterns`` (root paths such as ``/webhooks/<channel>/``) and
``api_urlpatterns`` (under ``/api/v1/``); adding a channel touches no other file.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from parley.connectors.api import ChannelViewSet

api_routes = [("channels", ChannelViewSet, "channel")]
urlpatterns: list[Any] = []
api_urlpatterns: list[Any] = []

for _folder in sorted(Path(__file__).resolve().parent.iterdir()):
    _module = f"parley.connectors.{_folder.name}.urls"
    if _folder.is_dir() and (_folder / "__init__.py").exists() and find_spec(_module) is not None:
        _urls = import_module(_module)
        urlpatterns.extend(getattr(_urls, "urlpatterns", []))
        api_urlpatterns.extend(getattr(_urls, "api_urlpatterns", []))
