"""Page-number pagination with a caller-chosen page size (capped)."""

from rest_framework.pagination import PageNumberPagination


class DefaultPagination(PageNumberPagination):
    """``?page=N&page_size=M`` (M ≤ 500)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
