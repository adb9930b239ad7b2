"""The incident list's filters: one FilterSet for the public web list and the API.

Filters only ever narrow the queryset they are given, which the caller's visibility has already
scoped (``access.visible_incidents``). The status filter offers only the statuses the caller can see.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone
from django_filters.fields import IsoDateTimeField

from incidents import access, severity
from incidents.models import PUBLIC_STATUSES, Context, Environment, Incident, OverrideType, Status, Vendor


def status_choices_for(user: AbstractBaseUser | AnonymousUser | None) -> list[tuple[str, str]]:
    if access.is_staff(user):
        visible = list(Status)
    elif access.vendor_of(user) is not None:
        visible = list(access.VENDOR_STATUSES)
    else:
        visible = list(PUBLIC_STATUSES)
    return [(status.value, status.label) for status in visible]


class IncidentFilterForm(forms.Form):
    """Checks that each range runs forwards, next to the field that ends it."""

    RANGES = (
        ("score_min", "score_max", "The highest score must not be below the lowest."),
        ("occurred_after", "occurred_before", "This date is before the start of the range."),
        ("published_after", "published_before", "This date is before the start of the range."),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        for low, high, message in self.RANGES:
            start, end = cleaned.get(low), cleaned.get(high)
            if start is not None and end is not None and end < start:
                self.add_error(high, message)
        return cleaned


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, as UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows."""

    def to_python(self, value: object) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is in the year 0 in UTC
            raise forms.ValidationError("Give a time from the year 1 to 9999 in UTC.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_search", max_length=200)
    vendor = django_filters.ModelChoiceFilter(
        queryset=Vendor.objects.all(), to_field_name="slug", empty_label="Any vendor"
    )
    system = django_filters.CharFilter(
        label="AI system",
        field_name="ai_system__slug",
        max_length=100,
        help_text="The system's short name (slug), e.g. “claude-opus-4”.",
    )
    override_type = django_filters.ChoiceFilter(choices=OverrideType.choices, empty_label="Any type")
    severity_band = django_filters.ChoiceFilter(
        # The stored values ("critical"), from the severity module: the band column holds these.
        label="Severity",
        choices=list(severity.BAND_LABELS.items()),
        empty_label="Any severity",
    )
    score_min = django_filters.NumberFilter(
        label="Score from",
        field_name="severity_score",
        lookup_expr="gte",
        min_value=0,
        max_value=10,
        widget=forms.NumberInput(attrs={"step": "0.1", "min": "0", "max": "10"}),
    )
    score_max = django_filters.NumberFilter(
        label="Score up to",
        field_name="severity_score",
        lookup_expr="lte",
        min_value=0,
        max_value=10,
        widget=forms.NumberInput(attrs={"step": "0.1", "min": "0", "max": "10"}),
    )
    environment = django_filters.ChoiceFilter(choices=Environment.choices, empty_label="Any environment")
    context = django_filters.ChoiceFilter(choices=Context.choices, empty_label="Any context")
    exclude_lab = django_filters.BooleanFilter(
        label="Leave out lab demonstrations", method="filter_exclude_lab", widget=forms.CheckboxInput
    )
    status = django_filters.ChoiceFilter(choices=Status.choices, empty_label="Any status")
    occurred_after = django_filters.DateFilter(
        label="Occurred on or after",
        field_name="occurred_on",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    occurred_before = django_filters.DateFilter(
        label="Occurred on or before",
        field_name="occurred_on",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    published_after = django_filters.DateFilter(
        label="Published on or after",
        method="filter_published_after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    published_before = django_filters.DateFilter(
        label="Published on or before",
        method="filter_published_before",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    modified_since = UtcIsoDateTimeFilter(
        label="Changed since",
        field_name="modified",
        lookup_expr="gte",
        help_text="An ISO 8601 time such as 2026-05-01T12:00:00Z; for incremental sync.",
    )

    class Meta:
        model = Incident
        form = IncidentFilterForm
        fields = [
            "q",
            "vendor",
            "system",
            "override_type",
            "severity_band",
            "score_min",
            "score_max",
            "environment",
            "context",
            "exclude_lab",
            "status",
            "occurred_after",
            "occurred_before",
            "published_after",
            "published_before",
            "modified_since",
        ]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.status_choices = status_choices_for(getattr(request, "user", None))

    @property
    def form(self) -> forms.Form:
        form = super().form
        # Only statuses the caller can see are offered (the queryset is scoped anyway).
        form.fields["status"].choices = [("", "Any status"), *self.status_choices]
        return form

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.search(value.strip()) if value.strip() else queryset

    def filter_exclude_lab(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.exclude(environment=Environment.EVALUATION) if value else queryset

    # Whole days, as ranges on the timestamp, so the (…, published_at) indexes still serve them.
    def filter_published_after(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(published_at__gte=_start_of(value))

    def filter_published_before(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        if value >= date.max:
            return queryset
        return queryset.filter(published_at__lt=_start_of(value + timedelta(days=1)))
