from django.urls import path, re_path

from parley.web.api import BusinessHoursView
from parley.web.views import dashboard, widget_demo, widget_loader, widget_settings

urlpatterns = [
    path("app/", dashboard, name="dashboard"),
    re_path(r"^app/(?P<path>.*)$", dashboard),
    path("widget.js", widget_loader, name="widget-loader"),
    path("widget/demo/", widget_demo, name="widget-demo"),
    path("widget/<str:key>/settings.json", widget_settings, name="widget-settings"),
]

api_urlpatterns = [
    path("business-hours/", BusinessHoursView.as_view(), name="business-hours"),
]
