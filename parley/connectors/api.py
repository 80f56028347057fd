"""Channels of the caller's tenant."""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets

from parley.accounts.roles import MANAGERS, SUPPORT
from parley.connectors import actions
from parley.connectors.models import Channel
from parley.connectors.serializers import ChannelSerializer
from parley.core.api import TenantScopedMixin, auth_context


class ChannelViewSet(TenantScopedMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Connect, configure and disconnect channels. Deleting disables (history is kept)."""

    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    read_roles = SUPPORT
    write_roles = MANAGERS
    filterset_fields = ["type", "enabled"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = actions.create_channel(
            tenant=self.tenant, data=dict(serializer.validated_data), actor=auth_context(self.request).actor_label
        )

    def perform_update(self, serializer: Any) -> None:
        assert isinstance(serializer.instance, Channel)
        serializer.instance = actions.update_channel(
            channel=serializer.instance, data=dict(serializer.validated_data), actor=auth_context(self.request).actor_label
        )

    def perform_destroy(self, instance: Channel) -> None:
        actions.disable_channel(channel=instance, actor=auth_context(self.request).actor_label)
