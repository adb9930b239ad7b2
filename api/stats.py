"""Statistics endpoints: the figures behind /stats/, from the maintained rollups, suppressed the same way.

Answers are cached under the id of the latest rollup refresh (see ``incidents.stats``), so a
refresh invalidates them; suppressed counts are ``null`` and listed under ``suppressed``. Bad
parameters answer 400 like the rest of the API: one key per parameter at fault, with its messages.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.schema import INVALID
from incidents import stats, suppression
from incidents.stats import Breakdown, CrossTab, StatsFilterForm

COUNTS = "Published and resolved incidents only; duplicates count once, on their canonical incident."


class CountSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    incidents = serializers.IntegerField(allow_null=True, help_text="null when suppressed")
    suppressed = serializers.BooleanField()


class SummarySerializer(serializers.Serializer):
    total = serializers.IntegerField(allow_null=True, help_text="Published incidents counted; null when suppressed.")
    refreshed_at = serializers.DateTimeField()
    filters = serializers.DictField(child=serializers.CharField())
    counts = serializers.CharField()
    suppression = serializers.CharField()
    severity_band = CountSerializer(many=True)
    override_type = CountSerializer(many=True)
    environment = CountSerializer(many=True)
    context = CountSerializer(many=True)


class PointSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, month of publication (UTC)")
    total = serializers.IntegerField(allow_null=True)
    values = serializers.DictField(
        child=serializers.IntegerField(allow_null=True), required=False, help_text="Per group key; null when suppressed"
    )
    suppressed = serializers.ListField(child=serializers.CharField(), required=False)


class TimeseriesSerializer(serializers.Serializer):
    interval = serializers.CharField()
    group_by = serializers.CharField(allow_blank=True)
    refreshed_at = serializers.DateTimeField()
    filters = serializers.DictField(child=serializers.CharField())
    counts = serializers.CharField()
    suppression = serializers.CharField()
    total = serializers.IntegerField(allow_null=True)
    groups = CountSerializer(many=True, help_text="Totals per group over the whole period")
    series = PointSerializer(many=True)


def _choices(name: str) -> list[str]:
    """The values a choice filter of the statistics form accepts (its "any" entry left out)."""
    return [value for value, _ in StatsFilterForm.base_fields[name].choices if value]


MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.STR, pattern=MONTH, description="First month, YYYY-MM"),
    OpenApiParameter(
        "to",
        OpenApiTypes.STR,
        pattern=MONTH,
        description=f"Last month, YYYY-MM; at most {stats.MAX_MONTHS // 12} years after `from`",
    ),
    OpenApiParameter("vendor", OpenApiTypes.STR, description="Vendor slug"),
    OpenApiParameter("system", OpenApiTypes.INT, description="AI system id; one of `vendor`'s when both are given"),
    OpenApiParameter("override_type", OpenApiTypes.STR, enum=_choices("override_type")),
    OpenApiParameter("environment", OpenApiTypes.STR, enum=_choices("environment")),
    OpenApiParameter("context", OpenApiTypes.STR, enum=_choices("context")),
    OpenApiParameter(
        "severity_band", OpenApiTypes.STR, enum=_choices("severity_band"), description="A band, or 'unrated'"
    ),
    OpenApiParameter(
        "exclude_lab",
        OpenApiTypes.BOOL,
        description="Leave out evaluation / red-team incidents (not with environment=evaluation)",
    ),
]


def _counts(breakdown: Breakdown) -> list[dict]:
    return [
        {"key": key, "label": label, "incidents": cell.shown, "suppressed": cell.hidden}
        for key, label, cell in breakdown.rows()
    ]


def _filters(request: Request, problems: dict[str, list[str]]) -> stats.Filters:
    """The filters; else a 400 naming every parameter at fault, those in ``problems`` included."""
    form = StatsFilterForm(request.query_params)
    errors = {name: list(messages) for name, messages in form.errors.items()}
    errors.update(problems)
    if errors:
        raise ValidationError(errors)
    return form.filters()


class StatsSummary(APIView):
    """Headline figures: total and counts by severity band, kind of override, environment and context."""

    @extend_schema(parameters=FILTER_PARAMETERS, responses={200: SummarySerializer, 400: INVALID})
    def get(self, request: Request) -> Response:
        filters = _filters(request, {})
        summary = stats.summary(filters)
        return Response(
            {
                "total": summary.total.shown,
                "refreshed_at": summary.refreshed_at,
                "filters": filters.params(),
                "counts": COUNTS,
                "suppression": suppression.EXPLANATION + " Suppressed counts are null.",
                "severity_band": _counts(summary.severity_band),
                "override_type": _counts(summary.override_type),
                "environment": _counts(summary.environment),
                "context": _counts(summary.context),
            }
        )


class StatsTimeseries(APIView):
    """Published incidents per month, optionally split by one dimension: the series behind each chart."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "interval", OpenApiTypes.STR, enum=["month"], default="month", description="Only month for now"
            ),
            OpenApiParameter(
                "group_by", OpenApiTypes.STR, enum=list(stats.GROUPABLE), description="Split each month by this"
            ),
            *FILTER_PARAMETERS,
        ],
        responses={200: TimeseriesSerializer, 400: INVALID},
    )
    def get(self, request: Request) -> Response:
        interval = request.query_params.get("interval", "month")
        group_by = request.query_params.get("group_by", "")
        problems: dict[str, list[str]] = {}
        if interval != "month":
            problems["interval"] = ["Only interval=month is offered."]
        if group_by and group_by not in stats.GROUPABLE:
            problems["group_by"] = [f"Choose one of: {', '.join(stats.GROUPABLE)}."]
        filters = _filters(request, problems)
        series = stats.timeseries(filters, group_by)
        return Response(
            {
                "interval": interval,
                "group_by": group_by,
                "refreshed_at": series.refreshed_at,
                "filters": filters.params(),
                "counts": COUNTS,
                "suppression": suppression.EXPLANATION + " Suppressed counts are null.",
                "total": series.months.total.shown,
                "groups": _counts(series.table.columns) if series.table else [],
                "series": _series(series.months, series.table),
            }
        )


def _series(months: Breakdown, table: CrossTab | None) -> list[dict]:
    points = []
    for i, (key, _, cell) in enumerate(months.rows()):
        point: dict = {"month": key, "total": cell.shown}
        if table is not None:
            row = table.cells[i]
            point["values"] = {k: c.shown for k, c in zip(table.columns.keys, row, strict=True)}
            point["suppressed"] = [k for k, c in zip(table.columns.keys, row, strict=True) if c.hidden]
        points.append(point)
    return points
