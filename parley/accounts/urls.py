"""Routes of the accounts app."""

from django.urls import path

from parley.accounts.api import ApiKeyViewSet, CsrfView, LoginView, LogoutView, MembershipViewSet, MeView

api_routes = [
    ("members", MembershipViewSet, "member"),
    ("api-keys", ApiKeyViewSet, "apikey"),
]

api_urlpatterns = [
    path("auth/csrf/", CsrfView.as_view(), name="auth-csrf"),
    path("auth/login/", LoginView.as_view(), name="auth-login"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/me/", MeView.as_view(), name="auth-me"),
]
