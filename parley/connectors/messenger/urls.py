from django.urls import path

from parley.connectors.messenger.views import messenger_webhook

urlpatterns = [path("webhooks/messenger/", messenger_webhook, name="webhook-messenger")]  # type: ignore[arg-type]  # async view; the stubs expect a sync one
