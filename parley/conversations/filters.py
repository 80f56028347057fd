"""Filters for the conversation list (status, channel, assignee, team, label, priority, unread)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request

from parley.conversations.models import Conversation, ConversationStatus, Priority


class ConversationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ConversationStatus.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    channel = django_filters.UUIDFilter(field_name="channel_id")
    channel_type = django_filters.CharFilter(field_name="channel__type")
    assignee = django_filters.UUIDFilter(field_name="assignee_id")
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    customer = django_filters.UUIDFilter(field_name="customer_id")
    team = django_filters.CharFilter()
    label = django_filters.CharFilter(method="filter_label")
    unread = django_filters.BooleanFilter(method="filter_unread")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Conversation
        fields: list[str] = []

    def filter_label(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(labels__contains=[value])

    def filter_unread(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        return queryset.filter(unread_count__gt=0) if value else queryset.filter(unread_count=0)


class ConversationFilterBackend(DjangoFilterBackend):
    """``DjangoFilterBackend`` that skips building the filter form when the request names none of its filters.

    A FilterSet ignores parameters it does not declare and filters nothing on absent ones, so the result is
    the same; the plain inbox list (no filters) is requested constantly and the form costs more than the query.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(name in request.query_params for name in filterset_class.base_filters):
            return queryset
        result: QuerySet[Any] = super().filter_queryset(request, queryset, view)
        return result
