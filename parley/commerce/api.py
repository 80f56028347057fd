"""Orders for the inbox's customer panel (read-only)."""

from __future__ import annotations

from parley.accounts.roles import SUPPORT
from parley.commerce.models import Order
from parley.commerce.serializers import OrderSerializer
from parley.core.api import TenantReadOnlyViewSet


class OrderViewSet(TenantReadOnlyViewSet):
    """A tenant's orders; filter by ``customer``, ``status`` or ``number``."""

    queryset = Order.objects.prefetch_related("items", "transactions")
    serializer_class = OrderSerializer
    read_roles = SUPPORT
    filterset_fields = ["customer", "status", "number"]
