from django.urls import path

from parley.intelligence.api import AnalyseView, DatasetFormatsView, DatasetImportViewSet, ModelVersionViewSet, TrainingJobViewSet

api_routes = [
    ("models", ModelVersionViewSet, "model-version"),
    ("dataset-imports", DatasetImportViewSet, "dataset-import"),
    ("training-jobs", TrainingJobViewSet, "training-job"),
]

api_urlpatterns = [
    path("intelligence/analyse/", AnalyseView.as_view(), name="intelligence-analyse"),
    path("intelligence/dataset-formats/", DatasetFormatsView.as_view(), name="intelligence-dataset-formats"),
]
