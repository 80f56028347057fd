"""Conversations, their messages (list, agent reply), and tickets."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from parley.accounts.roles import ALL_ROLES, SUPPORT
from parley.conversations import actions
from parley.conversations.filters import ConversationFilter, ConversationFilterBackend
from parley.conversations.models import Attachment, Conversation, Message, SenderType, Ticket
from parley.conversations.serializers import (
    AgentReplySerializer,
    AttachmentSerializer,
    ConversationSerializer,
    ConversationUpdateSerializer,
    MessageSerializer,
    TicketSerializer,
    conversation_json_rows_supported,
    conversation_page_json,
)
from parley.core.api import JSONRenderer, TenantScopedMixin, auth_context
from parley.core.errors import DomainError
from parley.core.pagination import DefaultPagination


class ConversationViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """The inbox: filter, open, update, read messages and reply."""

    # Channel credentials are encrypted: never load (and decrypt) them just to list conversations.
    queryset = Conversation.objects.select_related("customer", "channel", "assignee").defer(
        "channel__credentials", "channel__config", "channel__metadata", "customer__metadata", "customer__memory_summary"
    )
    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    read_roles = ALL_ROLES
    write_roles = SUPPORT
    http_method_names = ["get", "post", "patch", "head", "options"]
    filter_backends = [ConversationFilterBackend]
    # DRF's JSON renderer that keeps the list's PostgreSQL-written page (RawJSON) as it is.
    renderer_classes = [JSONRenderer, *(r for r in api_settings.DEFAULT_RENDERER_CLASSES if r is not DRFJSONRenderer)]  # type: ignore[list-item]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The inbox list, read as plain rows: the same representation as ``ConversationSerializer``, much faster."""
        # One statement: the count, and the page as JSON written by PostgreSQL (conversation_page_json).
        if not conversation_json_rows_supported():
            return super().list(request, *args, **kwargs)
        # Only ids and the count are read through the ORM: no joins or deferred columns to set up for them.
        queryset = self.filter_queryset(self.get_queryset().select_related(None).defer(None))
        paginator = self.paginator
        assert isinstance(paginator, DefaultPagination)
        page = paginator.paginate_fetched(
            lambda offset, limit: conversation_page_json(queryset, offset, limit), request, view=self
        )
        if page is None:
            return Response(conversation_page_json(queryset, 0, None)[1])
        return paginator.get_paginated_response(page)

    @extend_schema(request=ConversationUpdateSerializer, responses={200: ConversationSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        conversation = self.get_object()
        data = ConversationUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = actions.update_conversation(
            conversation=conversation, changes=dict(data.validated_data), actor=auth_context(request).actor_label
        )
        return Response(ConversationSerializer(conversation).data)

    def _messages(self, conversation: Conversation) -> QuerySet[Any]:
        return (
            Message.objects.filter(tenant=self.tenant, conversation=conversation)
            .select_related("sender_user")
            .prefetch_related("attachments")
            .order_by("created_at")
        )

    @extend_schema(methods=["GET"], responses={200: MessageSerializer(many=True)})
    @extend_schema(methods=["POST"], request=AgentReplySerializer, responses={201: MessageSerializer})
    @action(detail=True, methods=["get", "post"])
    def messages(self, request: Request, pk: str | None = None) -> Response:
        """GET: the conversation's messages, oldest first (paginated). POST: an agent's reply or private note."""
        conversation = self.get_object()
        if request.method == "GET":
            paginator = DefaultPagination()
            page = paginator.paginate_queryset(self._messages(conversation), request, view=self)
            return paginator.get_paginated_response(MessageSerializer(page, many=True).data)
        context = auth_context(request)
        data = AgentReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = actions.send_outbound(
            conversation=conversation,
            text=data.validated_data["text"],
            sender_type=SenderType.AGENT,
            sender_user=context.user,
            is_private=data.validated_data["is_private"],
            metadata={"sent_by": context.actor_label},
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: MessageSerializer})
    @action(detail=True, methods=["post"], url_path=r"messages/(?P<message_id>[0-9a-f-]{36})/retry")
    def retry_message(self, request: Request, pk: str | None = None, message_id: str | None = None) -> Response:
        """Send a failed outbound message again (it goes back to ``queued``); 409 unless it failed."""
        conversation = self.get_object()
        message = Message.objects.filter(tenant=self.tenant, conversation=conversation, pk=str(message_id)).first()
        if message is None:
            raise Http404
        message = actions.retry_failed_delivery(message=message, actor=auth_context(request).actor_label)
        return Response(MessageSerializer(message).data)

    @extend_schema(request=None, responses={200: ConversationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark the conversation as read by the inbox (unread count to 0)."""
        conversation = actions.mark_read(conversation=self.get_object())
        return Response(ConversationSerializer(conversation).data)


class TicketViewSet(TenantScopedMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Tickets: work that outlives a conversation."""

    queryset = Ticket.objects.all()
    serializer_class = TicketSerializer
    read_roles = ALL_ROLES
    write_roles = SUPPORT
    filterset_fields = ["status", "priority", "customer", "conversation", "assignee"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = actions.create_ticket(
            tenant=self.tenant, data=dict(serializer.validated_data), created_by=auth_context(self.request).actor_label
        )

    def perform_update(self, serializer: Any) -> None:
        assert isinstance(serializer.instance, Ticket)
        serializer.instance = actions.update_ticket(ticket=serializer.instance, data=dict(serializer.validated_data))


# Served inline only when a browser cannot run anything in them; everything else downloads.
INLINE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
INLINE_PREFIXES = ("audio/", "video/")


class AttachmentViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """A message's attachment and its stored file, for people of the tenant (the inbox shows them inline)."""

    queryset = Attachment.objects.order_by("-created_at")
    serializer_class = AttachmentSerializer
    pagination_class = DefaultPagination
    read_roles = ALL_ROLES
    write_roles = SUPPORT
    http_method_names = ["get", "head", "options"]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def file(self, request: Request, pk: str | None = None) -> FileResponse:
        """The stored file (404 while a provider's media is not downloaded yet)."""
        attachment = self.get_object()
        # Media refused for good (``rejected``: over the size limit; ``quarantined``: malware) is never served.
        refused = attachment.metadata.get("media_status")
        if refused:
            detail = f"this attachment's file was {refused}: {attachment.metadata.get('media_error', '')}"
            raise DomainError(detail, code=str(refused), status_code=410)
        if not attachment.file:
            raise Http404("this attachment has no stored file (yet)")
        mime = (attachment.mime_type or "application/octet-stream").split(";")[0].strip().lower()
        inline = mime in INLINE_TYPES or mime.startswith(INLINE_PREFIXES)
        response = FileResponse(
            attachment.file.open("rb"),
            content_type=mime,
            as_attachment=not inline,
            filename=attachment.filename or f"attachment-{attachment.pk}",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response["Cache-Control"] = "private, max-age=3600"
        return response
