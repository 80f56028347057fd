from django.contrib import admin

from parley.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "tenant", "actor", "action", "target_type", "target_id"]
    list_filter = ["action"]
