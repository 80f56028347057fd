"""The JSON renderer keeps RawJSON values; paginate_fetched paginates like paginate_queryset."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from parley.core.api import JSONRenderer, RawJSON
from parley.core.pagination import DefaultPagination


def test_raw_json_is_written_as_is() -> None:
    data = {"count": 2, "next": None, "title": 'a "quoted" \u2028 line', "results": RawJSON('[{"a" : 1}, \n {"b" : "\u2029"}]')}
    rendered = JSONRenderer().render(data)
    assert rendered.endswith(b'"results":[{"a" : 1}, \n {"b" : "\\u2029"}]}')
    assert json.loads(rendered) == {
        "count": 2,
        "next": None,
        "title": 'a "quoted" \u2028 line',
        "results": [{"a": 1}, {"b": "\u2029"}],
    }


def test_without_raw_json_it_is_drfs_renderer() -> None:
    for data in ({"a": [1, "é", None]}, [1, 2], None, "text", {"nested": {"raw": RawJSON("[1]")}}):
        assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)


def _request(query: str) -> Request:
    return Request(APIRequestFactory().get(f"/api/v1/things/{query}"))


class _Rows:
    """Fetches pages of 0..total-1 and records each fetch."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.calls: list[tuple[int, int]] = []

    def __call__(self, offset: int, limit: int) -> tuple[int, list[int]]:
        self.calls.append((offset, limit))
        return self.total, list(range(self.total))[offset : offset + limit]


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("", 0),
        ("", 7),
        ("?page=2&page_size=3", 7),
        ("?page=3&page_size=3", 7),
        ("?page=last&page_size=3", 7),
        ("?page_size=900", 7),
    ],
)
def test_paginate_fetched_matches_paginate_queryset(query: str, total: int) -> None:
    fetched, plain = DefaultPagination(), DefaultPagination()
    rows = _Rows(total)
    page = fetched.paginate_fetched(rows, _request(query))
    expected = plain.paginate_queryset(list(range(total)), _request(query))
    assert page == expected
    assert fetched.get_paginated_response(page).data == plain.get_paginated_response(expected).data
    assert len(rows.calls) == (2 if "last" in query else 1)


@pytest.mark.parametrize("page", ["0", "-2", "x", "1.5", "4"])
def test_paginate_fetched_refuses_what_paginate_queryset_refuses(page: str) -> None:
    rows = _Rows(7)
    with pytest.raises(NotFound) as fetched_error:
        DefaultPagination().paginate_fetched(rows, _request(f"?page={page}&page_size=3"))
    with pytest.raises(NotFound) as plain_error:
        DefaultPagination().paginate_queryset(list(range(7)), _request(f"?page={page}&page_size=3"))
    assert str(fetched_error.value.detail) == str(plain_error.value.detail)
    assert all(offset >= 0 for offset, _ in rows.calls)


def test_paginate_fetched_is_off_without_a_page_size() -> None:
    class _Off(DefaultPagination):
        page_size = None  # type: ignore[assignment]

    def fetch(offset: int, limit: int) -> Any:
        raise AssertionError("not called")

    assert _Off().paginate_fetched(fetch, _request("")) is None
