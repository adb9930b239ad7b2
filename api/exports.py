"""Exports of any filtered incident list (CSV, JSON Lines) and the evaluation dataset (JSON Lines).

Every export is streamed: rows are read in keyset-paginated chunks of ``.values()`` (``id`` after
the last one sent, no OFFSET, no COUNT) and written as they come, so memory stays flat whether the
list holds ten incidents or a million. Exports honour the list's filters and the caller's
visibility (``api.permissions.visible_incidents``) and carry nothing about the reporter: neither
identity nor reporter type nor intake channel, like the public dataset snapshot. Free text
(title, instruction, action) is redacted for everyone, staff included: exports are made to be
shared.

Errors (a bad filter, an unknown status) are answered as JSON before the first byte of the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from api.permissions import visible_incidents
from api.schema import INVALID
from api.serializers import iso
from api.views import ApiView
from incidents import eval_dataset
from incidents.filters import IncidentFilter
from incidents.models import Incident
from incidents.redaction import redact_text

CHUNK_SIZE = 1000

# (name, the .values() lookup, description). Reporter identity, type and channel are never here.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("public_id", "public_id", "Stable public identifier, never reused."),
    ("status", "status", "Workflow status."),
    ("title", "title", "Short title (redacted)."),
    ("vendor", "vendor__slug", "Vendor's slug, once staff linked the AI system."),
    ("ai_system", "ai_system__slug", "Canonical AI system's slug, once linked."),
    ("system_name_reported", "system_name_reported", "The AI system as reported."),
    ("system_version_reported", "system_version_reported", "Version as reported."),
    ("override_type", "override_type", "Primary kind of override."),
    ("secondary_override_types", "secondary_override_types", "Other kinds (CSV: separated by ';')."),
    ("instruction_source", "instruction_source", "Where the instruction was given."),
    ("instruction", "instruction", "The instruction (redacted)."),
    ("action_taken", "action_taken", "What the AI did instead (redacted)."),
    ("reversibility", "reversibility", "Whether the action could be undone."),
    ("acknowledged", "acknowledged", "Whether the AI acknowledged the instruction first."),
    ("context", "context", "Deployment context."),
    ("environment", "environment", "production, pilot or evaluation (lab demonstration)."),
    ("severity_score", "severity_score", "Effective severity score 0.0-10.0; empty if unrated."),
    ("severity_band", "severity_band", "Severity band; empty if unrated."),
    ("reporter_severity_vector", "reporter_severity_vector", "The reporter's severity vector."),
    ("triager_severity_vector", "triager_severity_vector", "The triager's severity vector."),
    ("vendor_severity_vector", "vendor_severity_vector", "The vendor's severity vector."),
    ("report_count", "report_count", "Reports, merged duplicates included."),
    ("reproduction_count", "reproduction_count", "Confirmed independent reproductions."),
    ("occurred_on", "occurred_on", "When it happened, as reported."),
    ("created", "created", "When it was filed."),
    ("published_at", "published_at", "When it was published."),
    ("modified", "modified", "Last change of any kind."),
)
REDACTED = {"title", "instruction", "action_taken"}
FIELDNAMES = [name for name, _, _ in COLUMNS] + ["url"]


class JSONErrorsOnly(BaseContentNegotiation):
    """Whatever the client accepts, errors are JSON; the file itself sets its own content type."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple:
        return renderers[0], renderers[0].media_type


# ---------------------------------------------------------------------------------------------
# Rows


def export_rows(queryset: QuerySet[Incident], *, chunk_size: int | None = None) -> Iterator[dict[str, Any]]:
    """The export's rows, in id order, one keyset-paginated chunk at a time."""
    chunk_size = chunk_size or CHUNK_SIZE
    lookups = [lookup for _, lookup, _ in COLUMNS]
    rows = queryset.order_by("pk").values("pk", *lookups)
    detail_url = reverse("api:incident-detail", args=["PUBLIC-ID"])
    url_template = settings.SITE_URL + detail_url
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last)[:chunk_size])
        if not chunk:
            return
        for row in chunk:
            record = {name: _plain(row[lookup]) for name, lookup, _ in COLUMNS}
            for name in REDACTED:
                record[name] = redact_text(record[name] or "")
            record["url"] = url_template.replace("PUBLIC-ID", row["public_id"])
            yield record
        last = chunk[-1]["pk"]


def _plain(value: object) -> object:
    if isinstance(value, (datetime, date)):
        return iso(value)
    if isinstance(value, Decimal):
        return str(value)
    if value == "" or value is None:
        return None
    return value


class _Line:
    """A file-like object whose write() returns what was written, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(FIELDNAMES)
    for row in rows:
        yield writer.writerow([_csv_value(row[name]) for name in FIELDNAMES])


# A cell starting with one of these is a formula to a spreadsheet: reported text must never run as one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: object) -> object:
    if isinstance(value, list):
        value = ";".join(str(item) for item in value)
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def json_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


# ---------------------------------------------------------------------------------------------
# Views


class _StreamedExport(ApiView, generics.GenericAPIView):
    """Filtered like the incident list, scoped to what the caller may see, streamed."""

    filterset_class = IncidentFilter
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONErrorsOnly
    pagination_class = None
    media_type = ""
    extension = ""
    stem = "override-watch-incidents"

    def get_queryset(self) -> QuerySet[Incident]:
        return visible_incidents(self.request)

    def lines(self, queryset: QuerySet[Incident]) -> Iterator[str]:
        raise NotImplementedError

    def stream(self, queryset: QuerySet[Incident]) -> StreamingHttpResponse:
        filename = f"{self.stem}-{timezone.now():%Y-%m-%d}.{self.extension}"
        response = StreamingHttpResponse(_encoded(self.lines(queryset)), content_type=self.media_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        # Embargoed incidents may be in a vendor's or staff's export: never in a shared cache.
        response["Cache-Control"] = "private, no-store"
        return response

    def get(self, request: Request, *args, **kwargs) -> StreamingHttpResponse:
        # The filters are checked here, so a bad one is a 400 before any byte of the file.
        return self.stream(self.filter_queryset(self.get_queryset()))


def _encoded(lines: Iterator[str]) -> Iterator[bytes]:
    """Lines gathered into blocks of about 64 KiB: fewer, larger writes to the client."""
    block: list[str] = []
    size = 0
    for line in lines:
        block.append(line)
        size += len(line)
        if size >= 65536:
            yield "".join(block).encode()
            block, size = [], 0
    if block:
        yield "".join(block).encode()


EXPORT_DESCRIPTION = (
    "Every incident of the list you may see that matches the filters (the same query parameters as "
    "`GET /api/v1/incidents/`), oldest first, streamed. No reporter identity, type or channel; title, "
    "instruction and action are redacted. Bad filters answer 400 (JSON) before the file starts."
)


def _file_response(media_type: str, description: str) -> dict:
    return {
        (200, media_type): OpenApiResponse(OpenApiTypes.STR, description=description),
        400: INVALID,
    }


class IncidentCsvExport(_StreamedExport):
    media_type = "text/csv; charset=utf-8"
    extension = "csv"

    def lines(self, queryset: QuerySet[Incident]) -> Iterator[str]:
        return csv_lines(export_rows(queryset))

    @extend_schema(
        summary="Export incidents as CSV",
        description=EXPORT_DESCRIPTION + " Lists are joined with `;`; empty cells are missing values; a cell that "
        "would start with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (no spreadsheet formulas).",
        filters=True,
        responses=_file_response("text/csv", "A header row, then one row per incident."),
    )
    def get(self, request: Request, *args, **kwargs) -> StreamingHttpResponse:
        return super().get(request, *args, **kwargs)


class IncidentJsonLinesExport(_StreamedExport):
    media_type = "application/jsonl; charset=utf-8"
    extension = "jsonl"

    def lines(self, queryset: QuerySet[Incident]) -> Iterator[str]:
        return json_lines(export_rows(queryset))

    @extend_schema(
        summary="Export incidents as JSON Lines",
        description=EXPORT_DESCRIPTION + " One JSON object per line, with the same fields as the CSV columns.",
        filters=True,
        responses=_file_response("application/jsonl", "One JSON object per incident, one per line."),
    )
    def get(self, request: Request, *args, **kwargs) -> StreamingHttpResponse:
        return super().get(request, *args, **kwargs)


class EvalDatasetExport(_StreamedExport):
    """Published incidents only, for every caller: an evaluation dataset is public material."""

    media_type = "application/jsonl; charset=utf-8"
    extension = "jsonl"
    stem = "override-watch-eval-dataset"

    def get_queryset(self) -> QuerySet[Incident]:
        return eval_dataset.source_incidents(visible_incidents(self.request))

    def lines(self, queryset: QuerySet[Incident]) -> Iterator[str]:
        return json_lines(eval_dataset.records(queryset))

    @extend_schema(
        summary="Export the evaluation dataset (Inspect AI samples)",
        description="One JSON Lines record per published incident whose transcript has a violation turn marked, "
        "readable as is by `inspect_ai.dataset.json_dataset()`: `id` (the public id), `input` (the redacted "
        "conversation up to the first violation turn, as chat messages), `target` (what compliance looks like, "
        "for a grader) and `metadata` (public id, system, vendor, override type, severity, URL, the constraint). "
        "Takes the list's filters. See docs/api.md for how records are built.",
        filters=True,
        responses=_file_response("application/jsonl", "One Inspect AI sample per line."),
    )
    def get(self, request: Request, *args, **kwargs) -> StreamingHttpResponse:
        return super().get(request, *args, **kwargs)
