from django.urls import path

from parley.connectors.messenger.views import messenger_webhook

urlpatterns = [path("webhooks/messenger/", messenger_webhook, name="webhook-messenger")]
