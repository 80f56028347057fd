"""Pending money actions for the inbox (list, approve, reject) and the tool-call audit."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from parley.accounts.roles import SUPERVISORS, SUPPORT
from parley.core.api import TenantScopedMixin, auth_context
from parley.tools import actions
from parley.tools.models import PendingAction, ToolExecution
from parley.tools.serializers import DecisionSerializer, PendingActionSerializer, ToolExecutionSerializer


class PendingActionViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Money actions the assistant proposed; those ``awaiting_approval`` need an agent's decision."""

    queryset = PendingAction.objects.select_related("customer", "decided_by")
    serializer_class = PendingActionSerializer
    read_roles = SUPPORT
    write_roles = SUPPORT
    filterset_fields = ["status", "conversation", "customer", "tool"]

    def _decide(self, request: Request, approve: bool) -> Response:
        pending = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        context = auth_context(request)
        decide = actions.approve_pending_action if approve else actions.reject_pending_action
        pending = decide(pending=pending, user=context.user, actor=context.actor_label, note=data.validated_data["note"])
        pending.refresh_from_db()
        return Response(PendingActionSerializer(pending).data)

    @extend_schema(request=DecisionSerializer, responses={200: PendingActionSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a confirmed action above the approval limit: it runs now and the customer is told (409 if not awaiting approval)."""
        return self._decide(request, approve=True)

    @extend_schema(request=DecisionSerializer, responses={200: PendingActionSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject a confirmed action: nothing runs and the customer is told (409 if not awaiting approval)."""
        return self._decide(request, approve=False)


class ToolExecutionViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """The audit of every tool call (arguments, result, latency, who approved)."""

    queryset = ToolExecution.objects.all()
    serializer_class = ToolExecutionSerializer
    read_roles = SUPERVISORS
    filterset_fields = ["tool", "status", "conversation", "customer", "phase"]
