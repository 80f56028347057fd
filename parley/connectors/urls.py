from parley.connectors.api import ChannelViewSet

api_routes = [("channels", ChannelViewSet, "channel")]
# Webhook routes (``/webhooks/<channel>/``) are added by each channel folder.
urlpatterns: list = []
