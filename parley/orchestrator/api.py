"""Turn traces for the conversation view: what was retrieved, which tools ran, timings, responder, errors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.accounts.roles import ALL_ROLES
from parley.conversations.models import Conversation
from parley.core.api import TenantScopedMixin, auth_context
from parley.orchestrator.models import TurnTrace


class TurnTraceSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = TurnTrace
        fields = [
            "id",
            "conversation",
            "message",
            "assistant",
            "assistant_version",
            "status",
            "mode",
            "responder",
            "outcome",
            "analysis",
            "low_confidence",
            "retrieved",
            "tool_calls",
            "llm_calls",
            "timings_ms",
            "errors",
            "handover_reason",
            "reply_message",
            "attempts",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class TurnTraceViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """Turn traces, newest first; filter with ``?conversation=<id>``."""

    queryset = TurnTrace.objects.all()
    serializer_class = TurnTraceSerializer
    read_roles = ALL_ROLES
    filterset_fields = ["conversation", "status", "responder", "outcome"]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().order_by("-created_at")


class ConversationTracesView(APIView):
    """``GET /conversations/{id}/traces/``: the conversation's turns, oldest first."""

    read_roles = ALL_ROLES

    @extend_schema(responses={200: TurnTraceSerializer(many=True)})
    def get(self, request: Request, pk: str) -> Response:
        tenant = auth_context(request).tenant
        conversation = get_object_or_404(Conversation.objects.filter(tenant=tenant), pk=pk)
        rows = TurnTrace.objects.filter(tenant=tenant, conversation=conversation).order_by("created_at")
        return Response(TurnTraceSerializer(rows, many=True).data)
