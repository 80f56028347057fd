"""Page-number pagination with a caller-chosen page size (capped)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

# fetch(offset, limit) -> (total rows, the rows from offset, at most limit of them, as the response writes them)
PageFetcher = Callable[[int, int], tuple[int, Any]]


class DefaultPagination(PageNumberPagination):
    """``?page=N&page_size=M`` (M ≤ 500)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_fetched(self, fetch: PageFetcher, request: Request, view: Any = None) -> Any | None:
        """Like ``paginate_queryset``, but the total and the page come from one call of ``fetch``.

        For list endpoints that read both in one statement. Page numbers, page sizes, errors (404 "Invalid
        page.") and the links are the same as ``paginate_queryset``'s. Returns ``None`` when pagination is off.
        """
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        page_number: Any = request.query_params.get(self.page_query_param) or 1
        if page_number in self.last_page_strings:
            total, _ = fetch(0, 0)
            page_number = self.django_paginator_class(_Fetched(total, None, 0), page_size).num_pages  # type: ignore[arg-type]
        try:
            number = int(page_number)
        except (TypeError, ValueError):
            number = 0  # not a page number: the paginator below raises, nothing is fetched
        fetched = _Fetched(None, None, 0)
        if number >= 1:
            offset = (number - 1) * page_size
            total, rows = fetch(offset, page_size)
            fetched = _Fetched(total, rows, offset)
        paginator = self.django_paginator_class(fetched, page_size)  # type: ignore[arg-type]
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number, message=str(exc))) from exc
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return self.page.object_list


class _Fetched:
    """What Django's paginator sees of a fetched page: its total, and the rows at ``offset``."""

    ordered = True

    def __init__(self, total: int | None, rows: Any, offset: int) -> None:
        self.total = total
        self.rows = rows
        self.offset = offset

    def count(self) -> int:
        if self.total is None:  # the paginator only counts valid page numbers, and those were fetched
            raise RuntimeError("page was not fetched")
        return self.total

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> Any:
        if not isinstance(index, slice) or (index.start or 0) != self.offset:
            raise RuntimeError("only the fetched page can be read")
        return self.rows
