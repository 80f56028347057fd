"""Dead letters (list, replay, discard), health and metrics."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from parley.accounts.roles import SUPERVISORS
from parley.core import actions, metrics
from parley.core.api import TenantScopedMixin
from parley.core.models import DeadLetter
from parley.core.serializers import DeadLetterSerializer


class DeadLetterViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Background work that failed for good; replay it once the cause is fixed."""

    queryset = DeadLetter.objects.all()
    serializer_class = DeadLetterSerializer
    read_roles = SUPERVISORS
    write_roles = SUPERVISORS
    filterset_fields = ["status", "task_name", "queue"]

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        task_id = actions.replay_dead_letter(self.get_object())
        return Response({"task_id": task_id}, status=202)

    @extend_schema(request=None, responses={200: DeadLetterSerializer})
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str | None = None) -> Response:
        return Response(DeadLetterSerializer(actions.discard_dead_letter(self.get_object())).data)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_redis() -> str:
    from parley.core.redis import get_redis

    return "ok" if get_redis().ping() else "no answer"


def check_worker(timeout: float | None = None) -> str:
    from parley.config.celery import app

    replies = app.control.ping(timeout=timeout or settings.CELERY_HEALTH_TIMEOUT, limit=1)
    return "ok" if replies else "no worker answered"


def run_health_checks() -> dict[str, str]:
    """Run each check; a failing one reports its error instead of raising."""
    checks: dict[str, str] = {}
    for name, check in (("database", check_database), ("redis", check_redis), ("worker", check_worker)):
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - health reports failures, it does not raise them
            checks[name] = f"error: {type(exc).__name__}: {exc}"[:300]
    return checks


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis and a worker answer; 503 naming the failing check otherwise."""
    started = time.perf_counter()
    checks = run_health_checks()
    healthy = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {
        "status": "ok" if healthy else "error",
        "checks": checks,
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    return JsonResponse(body, status=200 if healthy else 503)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition."""
    return HttpResponse(metrics.render_latest(), content_type="text/plain; version=0.0.4")
