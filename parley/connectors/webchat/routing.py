from django.urls import path

from parley.connectors.webchat.consumer import WebchatConsumer

websocket_urlpatterns = [path("ws/webchat/<str:widget_key>/", WebchatConsumer.as_asgi())]
