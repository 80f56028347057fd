"""REST representations of assistants and their versions."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from parley.assistants.models import Assistant, AssistantVersion
from parley.connectors.models import Channel
from parley.core.api import StrictModelSerializer, StrictSerializer

MASK = "********"


class TenantChannelField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A channel of the caller's tenant (another tenant's id is 'does not exist')."""

    def get_queryset(self) -> Any:
        tenant = self.context.get("tenant")
        return Channel.objects.filter(tenant=tenant) if tenant is not None else Channel.objects.none()


class AssistantVersionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = AssistantVersion
        fields = ["number", "persona", "instructions", "note", "is_draft", "created_by", "rolled_back_from", "created_at"]
        read_only_fields = fields


class AssistantSerializer(StrictModelSerializer):
    channels = TenantChannelField(many=True, required=False)
    persona = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    instructions = serializers.CharField(required=False, allow_blank=True, max_length=50000)
    active_version = serializers.IntegerField(source="active_version.number", read_only=True, allow_null=True)
    routing_rules = serializers.ListField(child=serializers.DictField(), required=False)
    llm = serializers.DictField(required=False)
    handover_rules = serializers.DictField(required=False)
    business_hours = serializers.DictField(required=False)
    allowed_tools = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=100)
    intent_tools = serializers.DictField(child=serializers.CharField(max_length=100), required=False)
    knowledge_source_ids = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    knowledge_tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    languages = serializers.ListField(child=serializers.RegexField(r"^[a-z]{2}$"), required=False, max_length=50)
    knowledge_threshold = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)

    class Meta:
        model = Assistant
        fields = [
            "id",
            "name",
            "enabled",
            "description",
            "is_default",
            "priority",
            "channels",
            "routing_rules",
            "persona",
            "instructions",
            "active_version",
            "llm",
            "allowed_tools",
            "intent_tools",
            "knowledge_source_ids",
            "knowledge_tags",
            "knowledge_threshold",
            "handover_rules",
            "languages",
            "business_hours",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "active_version", "created_at", "updated_at"]

    def to_representation(self, instance: Assistant) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        version = instance.active_version
        data["persona"] = version.persona if version else ""
        data["instructions"] = version.instructions if version else ""
        llm = dict(data.get("llm") or {})
        llm["backends"] = [{**b, "api_key": MASK if b.get("api_key") else ""} for b in llm.get("backends", [])]
        data["llm"] = llm
        return data

    def validate_llm(self, value: dict[str, Any]) -> dict[str, Any]:
        """Keep stored API keys when the client sends back the mask."""
        stored = {
            b.get("name"): b.get("api_key", "") for b in ((self.instance.llm if self.instance else {}) or {}).get("backends", [])
        }
        backends = []
        for backend in value.get("backends", []) or []:
            if isinstance(backend, dict) and backend.get("api_key") == MASK:
                backend = {**backend, "api_key": stored.get(backend.get("name"), "")}
            backends.append(backend)
        if "backends" in value:
            value = {**value, "backends": backends}
        return value


class VersionCreateSerializer(StrictSerializer):
    persona = serializers.CharField(allow_blank=True, max_length=20000)
    instructions = serializers.CharField(allow_blank=True, max_length=50000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    publish = serializers.BooleanField(required=False, default=False)


class RollbackSerializer(StrictSerializer):
    version = serializers.IntegerField(min_value=1)


class DiffSerializer(serializers.Serializer):  # type: ignore[type-arg]
    from_version = serializers.IntegerField(min_value=1, source="from_number")
    to_version = serializers.IntegerField(min_value=1, source="to_number")
    diffs = serializers.DictField(child=serializers.CharField(), source="fields")


class HistoryLineSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=["customer", "assistant", "agent"])
    text = serializers.CharField(max_length=4000)


class TestChatSerializer(StrictSerializer):
    message = serializers.CharField(max_length=4000)
    version = serializers.IntegerField(min_value=1, required=False)
    history = HistoryLineSerializer(many=True, required=False, default=list)
    state = serializers.DictField(required=False, default=dict)


class TestChatResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    version = serializers.IntegerField()
    reply = serializers.CharField()
    buttons = serializers.ListField(child=serializers.DictField())
    responder = serializers.CharField()
    outcome = serializers.CharField()
    analysis = serializers.DictField()
    retrieved = serializers.ListField(child=serializers.DictField())
    planned_tool_calls = serializers.ListField(child=serializers.DictField())
    handover_reason = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())
    state = serializers.DictField()
