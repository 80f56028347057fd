from django.contrib import admin

from parley.llm.models import LLMCall


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "created_at",
        "tenant",
        "backend",
        "model",
        "purpose",
        "outcome",
        "error_kind",
        "latency_ms",
        "prompt_tokens",
        "completion_tokens",
        "cost",
    ]
    list_filter = ["outcome", "backend", "purpose"]
