from parley.conversations.api import ConversationViewSet, TicketViewSet

api_routes = [
    ("conversations", ConversationViewSet, "conversation"),
    ("tickets", TicketViewSet, "ticket"),
]
