"""Session login for the dashboard; members and API keys of the caller's tenant."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.accounts import actions
from parley.accounts.authentication import AuthContext
from parley.accounts.models import ApiKey, Membership, User
from parley.accounts.roles import ALL_ROLES, MANAGERS, SUPERVISORS, can_grant
from parley.accounts.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    LoginSerializer,
    MembershipCreateSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    MeSerializer,
)
from parley.core.api import TenantScopedMixin, auth_context
from parley.core.errors import DomainError


def _me_payload(context: AuthContext) -> dict[str, Any]:
    tenants: list[dict[str, Any]] = []
    if context.user is not None:
        tenants = [
            {"slug": m.tenant.slug, "name": m.tenant.name, "role": m.role}
            for m in Membership.objects.select_related("tenant").filter(user=context.user)
        ]
    return {
        "id": context.user.id if context.user else None,
        "email": context.user.email if context.user else context.actor_label,
        "name": context.user.name if context.user else "",
        "role": context.role,
        "tenant": {"id": str(context.tenant.id), "slug": context.tenant.slug, "name": context.tenant.name},
        "tenants": tenants,
    }


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CsrfView(APIView):
    """Sets the CSRF cookie the dashboard sends back in ``X-CSRFToken``."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"csrfToken": get_token(request)})


class LoginView(APIView):
    """Log in with e-mail and password; starts a session."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(request=LoginSerializer, responses={200: MeSerializer})
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=serializer.validated_data["email"].lower(), password=serializer.validated_data["password"]
        )
        if user is None:
            return Response(
                {"detail": "Wrong e-mail or password.", "code": "not_authenticated"}, status=status.HTTP_401_UNAUTHORIZED
            )
        membership = (
            Membership.objects.select_related("tenant").filter(user=user, tenant__is_active=True).order_by("created_at").first()
        )
        if membership is None:
            return Response(
                {"detail": "This account belongs to no active tenant.", "code": "permission_denied"},
                status=status.HTTP_403_FORBIDDEN,
            )
        login(request._request, user)
        assert isinstance(user, User)
        return Response(_me_payload(AuthContext(tenant=membership.tenant, role=membership.role, user=user)))


class LogoutView(APIView):
    """End the session."""

    read_roles = ALL_ROLES
    write_roles = ALL_ROLES

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who the caller is, and in which tenant with which role."""

    read_roles = ALL_ROLES

    @extend_schema(responses={200: MeSerializer})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(_me_payload(auth_context(request))).data)


class MembershipViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Users of the tenant and their roles. Admins and owners manage them."""

    queryset = Membership.objects.select_related("user")
    serializer_class = MembershipSerializer
    read_roles = SUPERVISORS
    write_roles = MANAGERS
    filterset_fields = ["role"]

    @extend_schema(request=MembershipCreateSerializer, responses={201: MembershipSerializer})
    def create(self, request: Request) -> Response:
        context = auth_context(request)
        data = MembershipCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = data.validated_data["role"]
        if not can_grant(context.role, role):
            raise DomainError("you cannot grant a role above your own", code="permission_denied", status_code=403)
        with transaction.atomic():
            user = User.objects.filter(email=data.validated_data["email"].lower()).first()
            if user is None:
                user = actions.create_user(
                    email=data.validated_data["email"],
                    password=data.validated_data.get("password"),
                    name=data.validated_data["name"],
                )
            membership = actions.add_member(tenant=context.tenant, user=user, role=role, actor=context.actor_label)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MembershipUpdateSerializer, responses={200: MembershipSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        context = auth_context(request)
        membership = self.get_object()
        data = MembershipUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not can_grant(context.role, data.validated_data["role"]) or not can_grant(context.role, membership.role):
            raise DomainError("you cannot change a role above your own", code="permission_denied", status_code=403)
        membership = actions.change_role(membership=membership, role=data.validated_data["role"], actor=context.actor_label)
        return Response(MembershipSerializer(membership).data)

    def perform_destroy(self, instance: Membership) -> None:
        actions.remove_member(membership=instance, actor=auth_context(self.request).actor_label)


class ApiKeyViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """API keys of the tenant; the secret is shown once, at creation. Deleting revokes."""

    queryset = ApiKey.objects.all()
    serializer_class = ApiKeySerializer
    read_roles = MANAGERS
    write_roles = MANAGERS

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    def create(self, request: Request) -> Response:
        context = auth_context(request)
        data = ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not can_grant(context.role, data.validated_data["role"]):
            raise DomainError("you cannot create a key with a role above your own", code="permission_denied", status_code=403)
        issued = actions.create_api_key(
            tenant=context.tenant,
            name=data.validated_data["name"],
            role=data.validated_data["role"],
            created_by=context.user,
            actor=context.actor_label,
        )
        payload = dict(ApiKeySerializer(issued.api_key).data)
        payload["key"] = issued.secret
        return Response(payload, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiKey) -> None:
        actions.revoke_api_key(api_key=instance, actor=auth_context(self.request).actor_label)
