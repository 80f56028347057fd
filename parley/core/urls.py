from parley.core.api_views import DeadLetterViewSet

api_routes = [("dead-letters", DeadLetterViewSet, "deadletter")]
