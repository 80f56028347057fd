"""REST representation of LLM calls (usage accounting)."""

from __future__ import annotations

from rest_framework import serializers

from parley.llm.models import LLMCall


class LLMCallSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = LLMCall
        fields = [
            "id",
            "created_at",
            "assistant_id",
            "conversation_id",
            "purpose",
            "backend",
            "model",
            "attempt",
            "streamed",
            "outcome",
            "error_kind",
            "status_code",
            "latency_ms",
            "prompt_tokens",
            "completion_tokens",
            "cost",
            "tool_call_count",
        ]
        read_only_fields = fields
