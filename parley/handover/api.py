"""Agents' status, the hand-over queue, take over / hand back / reassign / resolve, canned responses and
suggested replies."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.accounts.roles import SUPERVISORS, SUPPORT
from parley.conversations.models import Conversation
from parley.conversations.serializers import ConversationSerializer
from parley.core.api import TenantScopedMixin, auth_context
from parley.core.errors import DomainError, ErrorCode
from parley.handover import actions
from parley.handover.models import AgentProfile, CannedResponse, Handover, Suggestion
from parley.handover.serializers import (
    AgentProfileSerializer,
    AgentUpdateSerializer,
    CannedResponseSerializer,
    HandoverRequestSerializer,
    HandoverSerializer,
    ReassignSerializer,
    RenderSerializer,
    SuggestionSerializer,
    SuggestionStatusSerializer,
)


class AgentViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Agents with status, capacity, skills and load; supervisors change anyone's settings."""

    queryset = AgentProfile.objects.select_related("user", "membership")
    serializer_class = AgentProfileSerializer
    read_roles = SUPPORT
    write_roles = SUPERVISORS
    filterset_fields = ["status"]
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=AgentUpdateSerializer, responses={200: AgentProfileSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        profile = self.get_object()
        data = AgentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = actions.update_agent(
            profile=profile, changes=dict(data.validated_data), actor=auth_context(request).actor_label
        )
        return Response(AgentProfileSerializer(profile).data)


class MyStatusView(APIView):
    """``/agents/me/status/``: the calling agent's own availability (GET, PUT/PATCH)."""

    read_roles = SUPPORT
    write_roles = SUPPORT

    def _profile(self, request: Request) -> AgentProfile:
        context = auth_context(request)
        if context.user is None:
            raise DomainError("only people have an agent status (use a session, not an API key)", code=ErrorCode.INVALID)
        return actions.ensure_profile(tenant=context.tenant, user=context.user)

    @extend_schema(responses={200: AgentProfileSerializer})
    def get(self, request: Request) -> Response:
        return Response(AgentProfileSerializer(self._profile(request)).data)

    @extend_schema(request=AgentUpdateSerializer, responses={200: AgentProfileSerializer})
    def put(self, request: Request) -> Response:
        profile = self._profile(request)
        data = AgentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = actions.update_agent(
            profile=profile, changes=dict(data.validated_data), actor=auth_context(request).actor_label
        )
        return Response(AgentProfileSerializer(profile).data)

    patch = put


class HandoverViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """Hand-overs with their summaries; ``?state=queued`` is the waiting queue."""

    queryset = Handover.objects.select_related("conversation__customer")
    serializer_class = HandoverSerializer
    read_roles = SUPPORT
    filterset_fields = ["state", "conversation", "assignee", "reason"]


class QueueView(APIView):
    """``/handover/queue/``: conversations waiting for an agent, oldest first."""

    read_roles = SUPPORT

    @extend_schema(responses={200: HandoverSerializer(many=True)})
    def get(self, request: Request) -> Response:
        rows = actions.queue(tenant_id=auth_context(request).tenant.pk)
        return Response(HandoverSerializer(rows, many=True).data)


class _ConversationAction(APIView):
    read_roles = SUPPORT
    write_roles = SUPPORT

    def conversation(self, request: Request, pk: str) -> Conversation:
        return get_object_or_404(Conversation.objects.filter(tenant=auth_context(request).tenant), pk=pk)


class TakeOverView(_ConversationAction):
    """The calling agent takes the conversation."""

    @extend_schema(request=None, responses={200: ConversationSerializer})
    def post(self, request: Request, pk: str) -> Response:
        context = auth_context(request)
        conversation = self.conversation(request, pk)
        if context.user is None:
            raise DomainError("only people can take over a conversation", code=ErrorCode.INVALID)
        conversation = actions.take_over(conversation=conversation, user=context.user, actor=context.actor_label)
        return Response(ConversationSerializer(conversation).data)


class HandBackView(_ConversationAction):
    """Return the conversation to the assistant."""

    @extend_schema(request=None, responses={200: ConversationSerializer})
    def post(self, request: Request, pk: str) -> Response:
        conversation = actions.hand_back_to_assistant(
            conversation=self.conversation(request, pk), actor=auth_context(request).actor_label
        )
        return Response(ConversationSerializer(conversation).data)


class RequestHandoverView(_ConversationAction):
    """Queue the conversation for people (e.g. from an integration)."""

    @extend_schema(request=HandoverRequestSerializer, responses={200: ConversationSerializer})
    def post(self, request: Request, pk: str) -> Response:
        data = HandoverRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = actions.request_handover(
            conversation=self.conversation(request, pk), actor=auth_context(request).actor_label, **data.validated_data
        )
        return Response(ConversationSerializer(conversation).data)


class ReassignView(_ConversationAction):
    """A supervisor moves the conversation to another agent."""

    write_roles = SUPERVISORS

    @extend_schema(request=ReassignSerializer, responses={200: ConversationSerializer})
    def post(self, request: Request, pk: str) -> Response:
        data = ReassignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = actions.reassign(
            conversation=self.conversation(request, pk),
            user_id=data.validated_data["assignee"],
            actor=auth_context(request).actor_label,
        )
        return Response(ConversationSerializer(conversation).data)


class ResolveView(_ConversationAction):
    """Resolve the conversation and free the agent's capacity for the queue."""

    @extend_schema(request=None, responses={200: ConversationSerializer})
    def post(self, request: Request, pk: str) -> Response:
        conversation = actions.resolve(conversation=self.conversation(request, pk), actor=auth_context(request).actor_label)
        return Response(ConversationSerializer(conversation).data)


class CannedResponseViewSet(TenantScopedMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Canned responses; ``{{customer.name}}``-style variables are filled by ``render``."""

    queryset = CannedResponse.objects.all()
    serializer_class = CannedResponseSerializer
    read_roles = SUPPORT
    write_roles = SUPERVISORS
    action_roles = {"render": SUPPORT}
    filterset_fields = ["language", "shortcut"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = actions.save_canned_response(
            tenant=self.tenant, data=dict(serializer.validated_data), actor=auth_context(self.request).actor_label
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = actions.save_canned_response(
            tenant=self.tenant,
            data=dict(serializer.validated_data),
            actor=auth_context(self.request).actor_label,
            instance=serializer.instance,
        )

    @extend_schema(request=RenderSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def render(self, request: Request, pk: str | None = None) -> Response:
        """The text with its variables filled for a conversation and the calling agent."""
        canned = self.get_object()
        data = RenderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = get_object_or_404(
            Conversation.objects.filter(tenant=self.tenant).select_related("customer"), pk=data.validated_data["conversation"]
        )
        text = actions.render_canned(canned=canned, conversation=conversation, agent=auth_context(request).user)
        return Response({"text": text})


class SuggestionViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """Replies the assistant drafted for agents; ``?conversation=<id>``."""

    queryset = Suggestion.objects.all()
    serializer_class = SuggestionSerializer
    read_roles = SUPPORT
    write_roles = SUPPORT
    filterset_fields = ["conversation", "status"]

    @extend_schema(request=SuggestionStatusSerializer, responses={200: SuggestionSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        """Mark the suggestion used or dismissed."""
        data = SuggestionStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        suggestion = actions.set_suggestion_status(suggestion=self.get_object(), status=data.validated_data["status"])
        return Response(SuggestionSerializer(suggestion).data, status=status.HTTP_200_OK)
