from parley.commerce.api import OrderViewSet

api_routes = [("orders", OrderViewSet, "order")]
