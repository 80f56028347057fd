"""Customers of the caller's tenant: list, search, create, edit, notes, and merging duplicates."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from parley.accounts.roles import ALL_ROLES, SUPERVISORS, SUPPORT
from parley.core.api import TenantScopedMixin, auth_context
from parley.core.errors import DomainError, ErrorCode
from parley.core.pagination import DefaultPagination
from parley.customers import actions
from parley.customers.models import Customer, CustomerNote
from parley.customers.serializers import (
    CustomerNoteSerializer,
    CustomerSerializer,
    MergeRequestSerializer,
    MergeResultSerializer,
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="name, e-mail, phone or channel id"),
            OpenApiParameter("include_merged", bool, description="also list customers merged into another one"),
        ]
    )
)
class CustomerViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Customers, searchable with ``?q=``; customers merged into another are left out of the list."""

    queryset = Customer.objects.prefetch_related("identities")
    serializer_class = CustomerSerializer
    read_roles = ALL_ROLES
    write_roles = SUPPORT
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        if self.action == "list" and self.request.query_params.get("include_merged") not in ("1", "true"):
            queryset = queryset.filter(merged_into__isnull=True)
        query = self.request.query_params.get("q", "").strip()
        if query:
            queryset = queryset.filter(
                Q(name__icontains=query)
                | Q(email__icontains=query)
                | Q(phone__icontains=query)
                | Q(identities__external_id__icontains=query)
            ).distinct()
        return queryset

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = actions.create_customer(tenant=self.tenant, data=dict(serializer.validated_data))

    def perform_update(self, serializer: Any) -> None:
        assert isinstance(serializer.instance, Customer)
        serializer.instance = actions.update_customer(customer=serializer.instance, data=dict(serializer.validated_data))

    def get_permissions(self) -> Any:
        # Merging rewrites many rows across apps; it is for supervisors and above. Notes follow write_roles.
        if self.action == "merge":
            self.write_roles = SUPERVISORS
        return super().get_permissions()

    @extend_schema(
        request=CustomerNoteSerializer, responses={200: CustomerNoteSerializer(many=True), 201: CustomerNoteSerializer}
    )
    @action(detail=True, methods=["get", "post"], url_path="notes", pagination_class=DefaultPagination)
    def notes(self, request: Request, pk: str | None = None) -> Response:
        """GET: the customer's notes, newest first (paginated). POST ``{"text": ...}``: add a note."""
        customer = self.get_object()
        if request.method == "POST":
            serializer = CustomerNoteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            context = auth_context(request)
            note = actions.add_customer_note(
                customer=customer,
                text=serializer.validated_data["text"],
                author=context.user,
                author_name=context.actor_label,
            )
            return Response(CustomerNoteSerializer(note).data, status=status.HTTP_201_CREATED)
        notes = CustomerNote.objects.filter(tenant=self.tenant, customer=customer)
        page = self.paginate_queryset(notes)
        return self.get_paginated_response(CustomerNoteSerializer(page, many=True).data)

    @extend_schema(request=MergeRequestSerializer, responses={200: MergeResultSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Merge the customer ``duplicate`` into this one (identities, conversations, orders, ... move here)."""
        kept = self.get_object()
        serializer = MergeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        duplicate = Customer.objects.filter(tenant=self.tenant, pk=serializer.validated_data["duplicate"]).first()
        if duplicate is None:
            raise DomainError("no such customer to merge", code=ErrorCode.NOT_FOUND, status_code=404)
        context = auth_context(request)
        result = actions.merge_customers(kept=kept, duplicate=duplicate, actor=context.actor_label, actor_user=context.user)
        kept = self.get_queryset().get(pk=result.kept.pk)
        return Response(
            {
                "customer": CustomerSerializer(kept, context=self.get_serializer_context()).data,
                "duplicate": str(result.duplicate.pk),
                "moved": result.moved,
                "filled_fields": result.filled_fields,
            }
        )
