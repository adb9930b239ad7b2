"""Keyset (cursor) pagination for API lists: no OFFSET and no COUNT, so the last page costs what the first does.

A cursor holds the ordering, the position (sort value and id) of the row it continues from and a
direction. Rows are ordered by the sort field, then by id, so every position is unique; a missing
value (an unpublished incident has no ``published_at``, an unrated one no score) sorts as the
largest, PostgreSQL's own default, so its indexes still serve the order.

The rows after a position are read as index ranges (see ``_ranges``) rather than by walking the
index from its start and filtering, so where an index serves the order a deep page costs what the
first does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db.models import F, Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


@dataclass(frozen=True)
class SortKey:
    field: str
    kind: type
    nullable: bool


# Public name → column. published_at (the default) and modified (incremental sync) are served by indexes in
# this order (Incident.Meta.indexes); the other orders sort what the filters leave.
SORT_KEYS: dict[str, SortKey] = {
    "published_at": SortKey("published_at", datetime, nullable=True),
    "created": SortKey("created", datetime, nullable=False),
    "modified": SortKey("modified", datetime, nullable=False),
    "occurred_on": SortKey("occurred_on", date, nullable=False),
    "severity": SortKey("severity_score", Decimal, nullable=True),
}
ORDERING_CHOICES = [f"{sign}{name}" for name in SORT_KEYS for sign in ("-", "")]

INVALID_CURSOR = "This cursor is not valid; start again from the first page."


@dataclass(frozen=True)
class Cursor:
    ordering: str
    value: object
    pk: int
    backwards: bool


class IncidentCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"
    page_size_query_param = "page_size"
    default_ordering = "-published_at"
    page_size = 25
    max_page_size = 100

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view=None, *, columns: Sequence[str]
    ) -> list[dict]:
        """The page's rows as dicts of ``columns`` (``.values()`` lookups), with ``pk`` and the sort field."""
        self.request = request
        self.ordering = self._ordering(request)
        size = self._page_size(request)
        cursor = self._cursor(request)
        self.key = SORT_KEYS[self.ordering.lstrip("-")]
        descending = self.ordering.startswith("-")
        if cursor is not None and cursor.backwards:
            descending = not descending
        columns = list(dict.fromkeys(("pk", self.key.field, *columns)))
        rows = self._read(queryset, columns, self._ranges(cursor, descending), descending, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        if cursor is not None and cursor.backwards:
            rows.reverse()
            self.has_previous, self.has_next = more, True
        else:
            self.has_previous, self.has_next = cursor is not None, more
        self.rows = rows
        return rows

    def get_paginated_response(self, data: list) -> Response:
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.rows:
            return None
        return self._link(self.rows[-1], backwards=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous or not self.rows:
            return None
        return self._link(self.rows[0], backwards=True)

    # Parsing the query

    def _ordering(self, request: Request) -> str:
        ordering = request.query_params.get(self.ordering_query_param) or self.default_ordering
        if ordering not in ORDERING_CHOICES:
            raise ValidationError(
                {
                    self.ordering_query_param: [
                        f"Order by one of {', '.join(ORDERING_CHOICES)} (a leading - sorts descending)."
                    ]
                }
            )
        return ordering

    def _page_size(self, request: Request) -> int:
        text = request.query_params.get(self.page_size_query_param)
        if not text:
            return self.page_size
        try:
            size = int(text)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return min(size, self.max_page_size)

    def _cursor(self, request: Request) -> Cursor | None:
        text = request.query_params.get(self.cursor_query_param)
        if not text:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4)))
            cursor = Cursor(data["o"], data["v"], int(data["pk"]), bool(data["b"]))
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeEncodeError):
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from None
        if cursor.ordering != self.ordering:
            raise ValidationError(
                {self.cursor_query_param: ["This cursor belongs to another ordering; start again from the first page."]}
            )
        return Cursor(cursor.ordering, self._parse_value(cursor.value), cursor.pk, cursor.backwards)

    def _parse_value(self, value: object) -> object:
        if value is None:
            if not SORT_KEYS[self.ordering.lstrip("-")].nullable:
                raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]})
            return None
        kind = SORT_KEYS[self.ordering.lstrip("-")].kind
        parsed = None
        if isinstance(value, str):
            try:
                if kind is datetime:
                    parsed = parse_datetime(value)
                elif kind is date:
                    parsed = parse_date(value)
                else:
                    parsed = Decimal(value)
            except (ValueError, InvalidOperation):
                parsed = None
        if parsed is None:
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]})
        return parsed

    # Building the query

    def _order_by(self, descending: bool) -> list:
        column = F(self.key.field)
        # NULL is the largest value: last going up, first going down (PostgreSQL's default for both).
        sort = column.desc(nulls_first=True) if descending else column.asc(nulls_last=True)
        return [sort, "-pk" if descending else "pk"]

    def _ranges(self, cursor: Cursor | None, descending: bool) -> list[Q]:
        """The rows after the cursor in this direction, as conditions that are each one index range.

        A position among the values is bounded on the sort field itself (``<= value`` going down,
        ``>= value`` going up) besides the exact keyset test, an ``OR`` that PostgreSQL can only apply
        as a filter: with the bound it starts at the position instead of walking every row before it.
        Missing values come first going down and last going up; where the rest of the list spans both
        blocks, each is its own range (``IS NULL`` and ``IS NOT NULL`` are index conditions, their
        ``OR`` is not), read one after the other.
        """
        if cursor is None:
            return [Q()]
        name = self.key.field
        beyond, bound = ("lt", "lte") if descending else ("gt", "gte")
        if cursor.value is None:
            missing = Q(**{f"{name}__isnull": True, f"pk__{beyond}": cursor.pk})
            return [missing, Q(**{f"{name}__isnull": False})] if descending else [missing]
        value = cursor.value
        present = Q(**{f"{name}__{bound}": value}) & (
            Q(**{f"{name}__{beyond}": value}) | Q(**{name: value, f"pk__{beyond}": cursor.pk})
        )
        return [present, Q(**{f"{name}__isnull": True})] if self.key.nullable and not descending else [present]

    def _read(
        self, queryset: QuerySet, columns: list[str], ranges: list[Q], descending: bool, limit: int
    ) -> list[dict]:
        """The page in one statement per range: the ids in a subquery, then those rows.

        The ids come from an index alone (its sort columns, and the status and vendor a caller's
        visibility tests, are in it), so skipping rows the caller may not see costs no table reads;
        only the page's own rows are then read with their columns and joins. The subquery holds
        every condition (visibility, filters, position), so the outer query repeats none: it
        fetches rows by primary key. A second range is read only by the page that crosses from one
        block to the other.
        """
        order = self._order_by(descending)
        keys = queryset.order_by(*order).values_list("pk", flat=True)
        by_pk = queryset.model._default_manager.order_by(*order).values(*columns)
        rows: list[dict] = []
        for condition in ranges:
            rows.extend(by_pk.filter(pk__in=keys.filter(condition)[: limit - len(rows)]))
            if len(rows) == limit:
                break
        return rows

    def _link(self, row: dict, *, backwards: bool) -> str:
        value = row[self.key.field]
        if isinstance(value, (date, Decimal)):
            value = value.isoformat() if isinstance(value, date) else str(value)
        data = {"o": self.ordering, "v": value, "pk": row["pk"], "b": backwards}
        encoded = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, encoded)

    # Schema

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True, "description": "The next page, if any."},
                "previous": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "The previous page, if any.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "An opaque position, from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page: {self.page_size} unless given, at most {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.ordering_query_param,
                "required": False,
                "in": "query",
                "description": "Sort order; a leading `-` sorts descending. Missing values (unpublished, "
                "unrated) sort as the largest. For incremental sync use `ordering=modified` with `modified_since`.",
                "schema": {"type": "string", "enum": ORDERING_CHOICES, "default": self.default_ordering},
            },
        ]
