"""REST representation of channels; credentials are write-only and never returned."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from parley.connectors.models import Channel, ChannelType
from parley.core.api import StrictModelSerializer


class ChannelSerializer(StrictModelSerializer):
    credentials = serializers.DictField(write_only=True, required=False, help_text="Tokens and secrets (write-only)")
    credential_names = serializers.SerializerMethodField(help_text="Which credentials are set (values are never returned)")
    webhook_url = serializers.SerializerMethodField()
    type = serializers.ChoiceField(choices=ChannelType.choices)

    class Meta:
        model = Channel
        fields = [
            "id",
            "type",
            "name",
            "key",
            "enabled",
            "config",
            "credentials",
            "credential_names",
            "webhook_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "key", "created_at", "updated_at"]

    def get_credential_names(self, obj: Channel) -> list[str]:
        credentials: Any = obj.credentials
        return sorted(credentials.keys()) if isinstance(credentials, dict) else []

    def get_webhook_url(self, obj: Channel) -> str:
        base = settings.PUBLIC_URL.rstrip("/")
        if obj.type == ChannelType.GENERIC:
            return f"{base}/webhooks/generic/{obj.key}/"
        if obj.type == ChannelType.WEBCHAT:
            return f"{base.replace('http', 'ws', 1)}/ws/webchat/{obj.key}/"
        return f"{base}/webhooks/{obj.type}/"

    def validate_config(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be an object.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "type" in attrs and attrs["type"] != self.instance.type:
            raise serializers.ValidationError({"type": ["A channel's type cannot change."]})
        return attrs
