from parley.conversations.api import AttachmentViewSet, ConversationViewSet, TicketViewSet

api_routes = [
    ("conversations", ConversationViewSet, "conversation"),
    ("tickets", TicketViewSet, "ticket"),
    ("attachments", AttachmentViewSet, "attachment"),
]
