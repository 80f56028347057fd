from django.urls import path

from parley.connectors.whatsapp.views import whatsapp_webhook

urlpatterns = [path("webhooks/whatsapp/", whatsapp_webhook, name="webhook-whatsapp")]  # type: ignore[arg-type]  # async view; the stubs expect a sync one
