from django.urls import path

from parley.llm.api import InferView, LLMCallViewSet


class InternalInferView(InferView):
    """The same endpoint at the service path ``/llm/infer`` (documented once, under /api/v1/)."""

    schema = None


api_routes = [("llm-calls", LLMCallViewSet, "llm-call")]
api_urlpatterns = [path("llm/infer/", InferView.as_view(), name="llm-infer")]
urlpatterns = [path("llm/infer", InternalInferView.as_view(), name="llm-infer-internal")]
