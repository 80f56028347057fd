from django.contrib import admin

from parley.conversations.models import Attachment, Conversation, FollowUpTask, Message, Ticket


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "tenant", "channel", "customer", "status", "assignee", "last_message_at"]
    list_filter = ["status", "tenant"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "direction", "sender_type", "delivery_status", "created_at"]
    list_filter = ["direction", "sender_type", "delivery_status"]


admin.site.register(Attachment)
admin.site.register(Ticket)
admin.site.register(FollowUpTask)
