"""Assistant profiles: CRUD, versions (draft, publish, diff, roll back) and the test chat."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from parley.accounts.roles import ALL_ROLES, MANAGERS, SUPPORT
from parley.assistants import actions
from parley.assistants.models import Assistant, AssistantVersion
from parley.assistants.serializers import (
    AssistantSerializer,
    AssistantVersionSerializer,
    DiffSerializer,
    RollbackSerializer,
    TestChatResultSerializer,
    TestChatSerializer,
    VersionCreateSerializer,
)
from parley.core.api import TenantScopedMixin, auth_context


class AssistantViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Assistant profiles. Editing persona or instructions creates a new version."""

    queryset = Assistant.objects.select_related("active_version").prefetch_related("channels")
    serializer_class = AssistantSerializer
    read_roles = ALL_ROLES
    write_roles = MANAGERS
    action_roles = {"test_chat": SUPPORT | MANAGERS}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = actions.create_assistant(
            tenant=self.tenant, data=dict(serializer.validated_data), actor=auth_context(self.request).actor_label
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = actions.update_assistant(
            assistant=serializer.instance, data=dict(serializer.validated_data), actor=auth_context(self.request).actor_label
        )

    def perform_destroy(self, instance: Assistant) -> None:
        actions.delete_assistant(assistant=instance, actor=auth_context(self.request).actor_label)

    @extend_schema(methods=["GET"], responses={200: AssistantVersionSerializer(many=True)})
    @extend_schema(methods=["POST"], request=VersionCreateSerializer, responses={201: AssistantVersionSerializer})
    @action(detail=True, methods=["get", "post"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """GET: every version, newest first. POST: a new version (a draft unless ``publish``)."""
        assistant = self.get_object()
        if request.method == "GET":
            rows = AssistantVersion.objects.filter(assistant=assistant).order_by("-number")
            return Response(AssistantVersionSerializer(rows, many=True).data)
        data = VersionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = actions.create_version(assistant=assistant, actor=auth_context(request).actor_label, **data.validated_data)
        return Response(AssistantVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: AssistantSerializer})
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>\d+)/publish")
    def publish(self, request: Request, pk: str | None = None, number: str = "0") -> Response:
        """Make version ``number`` the active one."""
        assistant = self.get_object()
        actions.publish_version(assistant=assistant, number=int(number), actor=auth_context(request).actor_label)
        assistant.refresh_from_db()
        return Response(AssistantSerializer(assistant, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True, description="older version number"),
            OpenApiParameter("to", int, required=False, description="newer version number (default: active)"),
        ],
        responses={200: DiffSerializer},
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        """Unified diff of persona and instructions between two versions."""
        assistant = self.get_object()
        try:
            from_number = int(request.query_params["from"])
            to_raw = request.query_params.get("to")
            to_number = int(to_raw) if to_raw else (assistant.active_version.number if assistant.active_version else 1)
        except (KeyError, ValueError) as exc:
            raise ValidationError({"from": ["Give version numbers: ?from=<n>&to=<m>."]}) from exc
        diff = actions.diff_versions(assistant=assistant, from_number=from_number, to_number=to_number)
        return Response(DiffSerializer(diff).data)

    @extend_schema(request=RollbackSerializer, responses={201: AssistantVersionSerializer})
    @action(detail=True, methods=["post"])
    def rollback(self, request: Request, pk: str | None = None) -> Response:
        """Roll back to an earlier version (recorded as a new version)."""
        assistant = self.get_object()
        data = RollbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = actions.rollback(
            assistant=assistant, number=data.validated_data["version"], actor=auth_context(request).actor_label
        )
        return Response(AssistantVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TestChatSerializer, responses={200: TestChatResultSerializer})
    @action(detail=True, methods=["post"], url_path="test-chat")
    def test_chat(self, request: Request, pk: str | None = None) -> Response:
        """Run one turn against a version (default: the newest, drafts included) without a channel.

        Tools are planned, not executed; nothing is stored. Send back ``state`` from the previous answer to
        continue a clarification.
        """
        from parley.orchestrator.interface import HistoryLine
        from parley.orchestrator.turn import dry_run

        assistant = self.get_object()
        data = TestChatSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        number = data.validated_data.get("version")
        if number is None:
            latest = AssistantVersion.objects.filter(assistant=assistant).order_by("-number").first()
            number = latest.number if latest else 0
        version = actions.get_version(assistant, number)
        result = dry_run(
            assistant=assistant,
            version=version,
            text=data.validated_data["message"],
            history=[HistoryLine(role=line["role"], text=line["text"]) for line in data.validated_data["history"]],
            state=data.validated_data["state"],
        )
        payload = result.as_dict()
        payload["warnings"] = payload.pop("errors")
        return Response({"version": version.number, **payload})
