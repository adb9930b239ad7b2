"""Cursor pagination for incident lists: no OFFSET and no COUNT, so page 1,000 costs what page 1 does."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class PublishedIncidentPagination(CursorPagination):
    # Served by the (…, -published_at) indexes on Incident.
    ordering = "-published_at"
    page_size = 25
    max_page_size = 100
    page_size_query_param = "page_size"


class InvalidCursor(Exception):
    pass


def paginate(queryset, request: HttpRequest, pagination_class=PublishedIncidentPagination):
    """One page of ``queryset`` for an HTML view: (items, previous_url, next_url)."""
    paginator = pagination_class()
    try:
        items = paginator.paginate_queryset(queryset, Request(request))
    except NotFound as exc:
        raise InvalidCursor(str(exc.detail)) from exc
    return items, paginator.get_previous_link(), paginator.get_next_link()
