"""Routes of the knowledge app (under /api/v1/)."""

from django.urls import path

from parley.knowledge.api import (
    KnowledgeCoverageView,
    KnowledgeDocumentViewSet,
    KnowledgeSearchView,
    KnowledgeSettingsView,
    KnowledgeSourceViewSet,
)

api_routes = [
    ("knowledge/sources", KnowledgeSourceViewSet, "knowledge-source"),
    ("knowledge/documents", KnowledgeDocumentViewSet, "knowledge-document"),
]

api_urlpatterns = [
    path("knowledge/search", KnowledgeSearchView.as_view(), name="knowledge-search"),
    path("knowledge/search/", KnowledgeSearchView.as_view()),
    path("knowledge/coverage", KnowledgeCoverageView.as_view(), name="knowledge-coverage"),
    path("knowledge/coverage/", KnowledgeCoverageView.as_view()),
    path("knowledge/settings", KnowledgeSettingsView.as_view(), name="knowledge-settings"),
    path("knowledge/settings/", KnowledgeSettingsView.as_view()),
]
