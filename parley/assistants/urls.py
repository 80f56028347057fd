from parley.assistants.api import AssistantViewSet

api_routes = [
    ("assistants", AssistantViewSet, "assistant"),
]
