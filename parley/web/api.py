"""Tenant settings the dashboard edits that belong to no single feature app: business hours."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.accounts import actions as account_actions
from parley.accounts.models import Tenant
from parley.accounts.roles import ALL_ROLES, MANAGERS
from parley.analytics.business_hours import DAY_NAMES, BusinessHours, InvalidBusinessHours
from parley.core.api import StrictSerializer, auth_context

_HHMM = serializers.RegexField(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$", max_length=5)


class BusinessHoursSerializer(StrictSerializer):
    """Opening hours in the tenant's time zone; a day missing from ``hours`` is closed."""

    timezone = serializers.CharField(max_length=64, default="UTC", help_text="IANA time zone, e.g. Europe/Berlin")
    hours = serializers.DictField(
        child=serializers.ListField(
            child=serializers.ListField(child=_HHMM, min_length=2, max_length=2), min_length=1, max_length=6
        ),
        help_text='Per weekday (mon..sun) a list of ["HH:MM", "HH:MM"] opening intervals.',
    )
    holidays = serializers.ListField(child=serializers.DateField(), default=list, max_length=400)
    configured = serializers.BooleanField(read_only=True, help_text="False: no business hours set (always open).")

    def validate_hours(self, value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        unknown = sorted(set(value) - set(DAY_NAMES))
        if unknown:
            raise serializers.ValidationError(f"unknown day {unknown[0]!r}: use {', '.join(DAY_NAMES)}")
        if not value:
            raise serializers.ValidationError("give at least one opening interval (DELETE means always open)")
        return {day: value[day] for day in DAY_NAMES if day in value}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        config = {
            "timezone": attrs["timezone"],
            "hours": attrs["hours"],
            "holidays": sorted({day.isoformat() for day in attrs.get("holidays", [])}),
        }
        try:
            BusinessHours.from_settings({"business_hours": config})
        except InvalidBusinessHours as exc:
            field = "timezone" if "time zone" in str(exc) else "hours"
            raise serializers.ValidationError({field: [str(exc)]}) from exc
        return config


def business_hours_of(tenant: Tenant) -> dict[str, Any]:
    """The tenant's stored business hours in the API shape (``configured: false`` when none)."""
    config = (tenant.settings or {}).get("business_hours") if isinstance(tenant.settings, dict) else None
    if not isinstance(config, dict) or not config:
        return {"timezone": "UTC", "hours": {}, "holidays": [], "configured": False}
    hours = config.get("hours") or {}
    # Stored settings may use the short form "mon": ["09:00", "17:00"]; answer with lists of intervals.
    normalised = {
        day: (spans if spans and isinstance(spans[0], list | tuple) else [spans])
        for day, spans in hours.items()
        if isinstance(spans, list | tuple) and spans
    }
    return {
        "timezone": str(config.get("timezone", "UTC")),
        "hours": {day: [list(span) for span in normalised[day]] for day in DAY_NAMES if day in normalised},
        "holidays": [str(day) for day in config.get("holidays", []) or []],
        "configured": True,
    }


class BusinessHoursView(APIView):
    """``GET`` the tenant's business hours (every member), ``PUT`` to replace them and ``DELETE`` to
    remove them (always open), admins only. Analytics counts "business-hours" durations with them."""

    read_roles = ALL_ROLES
    write_roles = MANAGERS

    @extend_schema(responses={200: BusinessHoursSerializer})
    def get(self, request: Request) -> Response:
        return Response(business_hours_of(auth_context(request).tenant))

    @extend_schema(request=BusinessHoursSerializer, responses={200: BusinessHoursSerializer})
    def put(self, request: Request) -> Response:
        context = auth_context(request)
        serializer = BusinessHoursSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = account_actions.set_business_hours(
            tenant=context.tenant, config=serializer.validated_data, actor=context.actor_label
        )
        return Response(business_hours_of(tenant))

    @extend_schema(request=None, responses={200: BusinessHoursSerializer})
    def delete(self, request: Request) -> Response:
        context = auth_context(request)
        tenant = account_actions.set_business_hours(tenant=context.tenant, config=None, actor=context.actor_label)
        return Response(business_hours_of(tenant))
