from django.urls import path

from parley.handover.api import (
    AgentViewSet,
    CannedResponseViewSet,
    HandBackView,
    HandoverViewSet,
    MyStatusView,
    QueueView,
    ReassignView,
    RequestHandoverView,
    ResolveView,
    SuggestionViewSet,
    TakeOverView,
)

api_routes = [
    ("agents", AgentViewSet, "agent"),
    ("handovers", HandoverViewSet, "handover"),
    ("canned-responses", CannedResponseViewSet, "canned-response"),
    ("suggestions", SuggestionViewSet, "suggestion"),
]

api_urlpatterns = [
    path("agents/me/status/", MyStatusView.as_view(), name="agent-my-status"),
    path("agents/me/status", MyStatusView.as_view()),
    path("handover/queue/", QueueView.as_view(), name="handover-queue"),
    path("conversations/<uuid:pk>/takeover/", TakeOverView.as_view(), name="conversation-takeover"),
    path("conversations/<uuid:pk>/hand-back/", HandBackView.as_view(), name="conversation-hand-back"),
    path("conversations/<uuid:pk>/handover/", RequestHandoverView.as_view(), name="conversation-handover"),
    path("conversations/<uuid:pk>/reassign/", ReassignView.as_view(), name="conversation-reassign"),
    path("conversations/<uuid:pk>/resolve/", ResolveView.as_view(), name="conversation-resolve"),
]
