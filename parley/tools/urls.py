from parley.tools.api import PendingActionViewSet, ToolExecutionViewSet

api_routes = [
    ("pending-actions", PendingActionViewSet, "pending-action"),
    ("tool-executions", ToolExecutionViewSet, "tool-execution"),
]
