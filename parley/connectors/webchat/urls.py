from django.urls import path

from parley.connectors.webchat.views import attachment_view, messages_view, read_view, session_view, upload_view

api_urlpatterns = [
    path("webchat/<str:widget_key>/session/", session_view, name="webchat-session"),
    path("webchat/<str:widget_key>/messages/", messages_view, name="webchat-messages"),
    path("webchat/<str:widget_key>/read/", read_view, name="webchat-read"),
    path("webchat/<str:widget_key>/uploads/", upload_view, name="webchat-uploads"),
    path("webchat/attachments/<str:signed>/", attachment_view, name="webchat-attachment"),
]
