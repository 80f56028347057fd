from django.contrib import admin

from parley.core.models import DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["task_name", "status", "attempts", "created_at"]
    list_filter = ["status", "task_name"]
