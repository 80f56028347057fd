from django.urls import path

from parley.intelligence.api import AnalyseView, ModelVersionViewSet

api_routes = [
    ("models", ModelVersionViewSet, "model-version"),
]

api_urlpatterns = [
    path("intelligence/analyse/", AnalyseView.as_view(), name="intelligence-analyse"),
]
