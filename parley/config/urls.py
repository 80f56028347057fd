"""URL map: each app contributes ``api_routes`` (router registrations under /api/v1/),
``api_urlpatterns`` (other paths under /api/v1/) and ``urlpatterns`` (paths at the root, e.g. webhooks)."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from parley.core.api_views import healthz, metrics_view

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
api_extra: list[Any] = []
root_extra: list[Any] = []

for app_name in settings.INSTALLED_APPS:
    if not app_name.startswith("parley."):
        continue
    module_name = f"{app_name}.urls"
    if find_spec(module_name) is None:
        continue
    module = import_module(module_name)
    for prefix, viewset, basename in getattr(module, "api_routes", []):
        router.register(prefix, viewset, basename=basename)
    api_extra.extend(getattr(module, "api_urlpatterns", []))
    root_extra.extend(getattr(module, "urlpatterns", []))

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/", healthz),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/", include((api_extra + router.urls, "api"), namespace="v1")),
    *root_extra,
]

urlpatterns.append(path("", RedirectView.as_view(url="/app/", permanent=False)))
