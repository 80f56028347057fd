"""ASGI entry point: Django for HTTP, Channels for websockets (each app may add ``routing.websocket_urlpatterns``)."""

from __future__ import annotations

import os
from importlib import import_module
from importlib.util import find_spec
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from parley.connectors.asgi import with_webhook_fast_path  # noqa: E402
from parley.core.uploads import UploadLimitMiddleware  # noqa: E402


def _websocket_urlpatterns() -> list[Any]:
    patterns: list[Any] = []
    for app_name in settings.INSTALLED_APPS:
        if app_name.startswith("parley.") and find_spec(f"{app_name}.routing") is not None:
            patterns.extend(import_module(f"{app_name}.routing").websocket_urlpatterns)
    return patterns


application = ProtocolTypeRouter(
    {
        # Signed webhooks skip the browser middleware (see parley/connectors/asgi.py); upload routes
        # refuse bodies over their limit before Django spools them (see parley/core/uploads.py).
        "http": UploadLimitMiddleware(with_webhook_fast_path(django_asgi_app)),
        # Origin checks for the web-chat socket are per widget (its allowed origins), inside its consumer.
        "websocket": AuthMiddlewareStack(URLRouter(_websocket_urlpatterns())),
    }
)
