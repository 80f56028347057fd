from django.urls import path

from parley.connectors.generic.views import generic_webhook

urlpatterns = [path("webhooks/generic/<str:channel_key>/", generic_webhook, name="webhook-generic")]
