"""Customers of the caller's tenant: list, search, create, edit."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from parley.accounts.roles import ALL_ROLES, SUPPORT
from parley.core.api import TenantScopedMixin
from parley.customers import actions
from parley.customers.models import Customer
from parley.customers.serializers import CustomerSerializer


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter("q", str, description="name, e-mail, phone or channel id")]))
class CustomerViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Customers, searchable with ``?q=``."""

    queryset = Customer.objects.prefetch_related("identities")
    serializer_class = CustomerSerializer
    read_roles = ALL_ROLES
    write_roles = SUPPORT
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
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
