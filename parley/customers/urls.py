from parley.customers.api import CustomerViewSet

api_routes = [("customers", CustomerViewSet, "customer")]
