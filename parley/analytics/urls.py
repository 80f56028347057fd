"""Routes of the analytics app (all under /api/v1/analytics/)."""

from django.urls import path

from parley.analytics import api

api_routes = [
    ("analytics/alert-rules", api.AlertRuleViewSet, "analytics-alert-rule"),
    ("analytics/alerts", api.AlertEventViewSet, "analytics-alert"),
    ("analytics/notifications", api.NotificationViewSet, "analytics-notification"),
    ("analytics/qa-scores", api.QAScoreViewSet, "analytics-qa-score"),
    ("analytics/csat-surveys", api.CsatSurveyViewSet, "analytics-csat-survey"),
    ("analytics/reports", api.ReportJobViewSet, "analytics-report"),
]

api_urlpatterns = [
    path("analytics/summary/", api.SummaryView.as_view(), name="analytics-summary"),
    path("analytics/breakdown/", api.BreakdownView.as_view(), name="analytics-breakdown"),
    path("analytics/timeseries/", api.TimeseriesView.as_view(), name="analytics-timeseries"),
    path("analytics/csat/", api.CsatView.as_view(), name="analytics-csat"),
    path("analytics/flow/", api.FlowView.as_view(), name="analytics-flow"),
    path("analytics/failures/", api.FailuresView.as_view(), name="analytics-failures"),
    path("analytics/agents/", api.AgentsView.as_view(), name="analytics-agents"),
    path("analytics/economics/", api.EconomicsView.as_view(), name="analytics-economics"),
    path("analytics/ab-test/", api.ABTestView.as_view(), name="analytics-ab-test"),
    path("analytics/conversations/", api.DrilldownView.as_view(), name="analytics-conversations"),
    path("analytics/conversations/<uuid:conversation_id>/", api.ConversationDetailView.as_view(), name="analytics-conversation"),
    path("analytics/export/<slug:table>/", api.ExportView.as_view(), name="analytics-export"),
]
