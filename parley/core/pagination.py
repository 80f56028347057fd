"""Page-number pagination with a caller-chosen page size (capped)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination


class DefaultPagination(PageNumberPagination):
    """``?page=N&page_size=M`` (M ≤ 500)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CountedRows:
    """Rows to paginate whose total is counted on a leaner queryset.

    ``rows`` is typically a ``values_list()`` with joined columns; counting it would join every row of the
    tenant, while ``count_from`` (the same filters, no extra columns) counts from an index. Both must select
    the same rows.
    """

    def __init__(self, rows: QuerySet[Any], count_from: QuerySet[Any]) -> None:
        self.rows = rows
        self.count_from = count_from

    @property
    def ordered(self) -> bool:
        return self.rows.ordered

    def count(self) -> int:
        return self.count_from.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: Any) -> Any:
        return self.rows[index]
