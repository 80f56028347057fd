"""URLconf for bench/api_throughput.py: Parley's URLs plus a bare Django view as the baseline."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from parley.config.urls import urlpatterns as parley_urlpatterns


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/bare/", bare), *parley_urlpatterns]
