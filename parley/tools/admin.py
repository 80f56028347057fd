from django.contrib import admin

from parley.tools.models import PendingAction, ToolExecution


@admin.register(PendingAction)
class PendingActionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "tenant", "tool", "summary", "status", "requires_approval", "decided_by"]
    list_filter = ["status", "tool"]


@admin.register(ToolExecution)
class ToolExecutionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "tenant", "tool", "phase", "status", "latency_ms", "actor", "approved_by"]
    list_filter = ["status", "tool", "phase"]
