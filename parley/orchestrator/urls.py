from django.urls import path

from parley.orchestrator.api import ConversationTracesView, TurnTraceViewSet

api_routes = [
    ("turn-traces", TurnTraceViewSet, "turn-trace"),
]

api_urlpatterns = [
    path("conversations/<uuid:pk>/traces/", ConversationTracesView.as_view(), name="conversation-traces"),
]
