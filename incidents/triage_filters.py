"""The staff queue's filters and sorts: a FilterSet for /triage/.

Every filter here narrows on an indexed column or an indexed expression (status, assignee,
created, modified, disclosure_deadline, the full-text index), so the queue stays fast with
100,000 open incidents; sorting and paging are keyset-based (see ``views.triage.QueueKeyset``).
"""

from __future__ import annotations

import re
from datetime import timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from incidents import severity
from incidents.models import Environment, Incident, OverrideType, Status, Transcript, Vendor, severity_rank

# What "the queue" means when no status is chosen: everything not yet closed or published.
OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.TRIAGE,
    Status.CONFIRMED,
    Status.VENDOR_NOTIFIED,
    Status.VENDOR_RESPONDED,
)
# Under coordinated disclosure: these have a deadline that can pass.
DISCLOSURE_STATUSES = (Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED)

ALL = "all"
UNRATED = "unrated"
MINE = "mine"
UNASSIGNED = "unassigned"

# Sort name -> keyset: (field, descending) pairs, the last one unique so every row has one place.
SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "age": (("created", False), ("id", False)),
    "-age": (("created", True), ("id", True)),
    # Unrated incidents sort last: severity_rank is the score, or -1 when there is none.
    "severity": (("severity_rank", True), ("created", False), ("id", False)),
    "activity": (("modified", True), ("id", True)),
}
SORT_CHOICES = [
    ("age", "Oldest first"),
    ("-age", "Newest first"),
    ("severity", "Most severe first"),
    ("activity", "Most recent activity first"),
]
DEFAULT_SORT = "age"

AGE_CHOICES = [
    ("day", "Less than a day"),
    ("week", "1 to 7 days"),
    ("month", "7 to 30 days"),
    ("older", "More than 30 days"),
]
# Age bucket -> (at least, less than) how old.
AGE_BOUNDS: dict[str, tuple[timedelta | None, timedelta | None]] = {
    "day": (None, timedelta(days=1)),
    "week": (timedelta(days=1), timedelta(days=7)),
    "month": (timedelta(days=7), timedelta(days=30)),
    "older": (timedelta(days=30), None),
}

PUBLIC_ID = re.compile(r"^AIO-\d{4}-\d+$", re.IGNORECASE)


def staff_users() -> QuerySet:
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


class AnyYesNoSelect(forms.NullBooleanSelect):
    """Yes / No, or "Any" (no filter) instead of the default "Unknown"."""

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", "Any"), ("true", "Yes"), ("false", "No")]


class AssigneeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class AssigneeFilter(django_filters.ModelChoiceFilter):
    field_class = AssigneeChoiceField


class TriageFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_search", max_length=200)
    view = django_filters.ChoiceFilter(
        label="Show",
        choices=[(MINE, "Assigned to me"), (UNASSIGNED, "Unassigned")],
        empty_label="Everyone's",
        method="filter_view",
    )
    status = django_filters.ChoiceFilter(
        choices=[(ALL, "Any status"), *Status.choices],
        empty_label="Open (not published or closed)",
        method="filter_status",
    )
    override_type = django_filters.ChoiceFilter(label="Override type", choices=OverrideType.choices, empty_label="Any")
    severity_band = django_filters.ChoiceFilter(
        label="Severity",
        # The stored values are severity's band names (lowercase): built from there, not SeverityBand.
        choices=[*severity.BAND_LABELS.items(), (UNRATED, "Unrated")],
        empty_label="Any",
        method="filter_severity_band",
    )
    environment = django_filters.ChoiceFilter(choices=Environment.choices, empty_label="Any")
    vendor = django_filters.ModelChoiceFilter(
        queryset=Vendor.objects.only("name", "slug"), to_field_name="slug", empty_label="Any"
    )
    assignee = AssigneeFilter(queryset=lambda request: staff_users(), empty_label="Anyone")
    age = django_filters.ChoiceFilter(label="Age", choices=AGE_CHOICES, empty_label="Any age", method="filter_age")
    has_transcript = django_filters.BooleanFilter(
        label="Has a transcript", method="filter_has_transcript", widget=AnyYesNoSelect
    )
    overdue = django_filters.BooleanFilter(
        label="Past its disclosure deadline", method="filter_overdue", widget=forms.CheckboxInput
    )
    sort = django_filters.ChoiceFilter(label="Sort", choices=SORT_CHOICES, empty_label=None, method="filter_sort")

    class Meta:
        model = Incident
        fields = [
            "q",
            "view",
            "status",
            "override_type",
            "severity_band",
            "environment",
            "vendor",
            "assignee",
            "age",
            "has_transcript",
            "overdue",
            "sort",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.form.fields["sort"].required = False
        self.form.fields["q"].widget.attrs.update({"type": "search", "data-triage-search": ""})

    # Filters. Each returns the queryset narrowed, or unchanged.

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        text = value.strip()
        if not text:
            return queryset
        if PUBLIC_ID.match(text):
            return queryset.filter(public_id=text.upper())
        return queryset.search(text)

    def filter_view(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == MINE:
            return queryset.filter(assignee=self.request.user if self.request else None)
        return queryset.filter(assignee__isnull=True)

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Empty (the open queue) is handled in filter_queryset: method filters never see empty values.
        return queryset if value == ALL else queryset.filter(status=value)

    def filter_severity_band(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(severity_band="" if value == UNRATED else value)

    def filter_age(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        now = timezone.now()
        at_least, less_than = AGE_BOUNDS[value]
        if at_least is not None:
            queryset = queryset.filter(created__lte=now - at_least)
        if less_than is not None:
            queryset = queryset.filter(created__gt=now - less_than)
        return queryset

    def filter_has_transcript(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        # A semi-join on the transcript's incident index: no join fan-out, no DISTINCT.
        has = Exists(Transcript.objects.filter(incident=OuterRef("pk")))
        return queryset.filter(has) if value else queryset.exclude(has)

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if not value:
            return queryset
        # Served by the (status, disclosure_deadline) index.
        return queryset.filter(status__in=DISCLOSURE_STATUSES, disclosure_deadline__lt=timezone.now())

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # ordering is the paginator's job: see sort_keys()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status__in=OPEN_STATUSES)
        if self.sort_name == "severity":
            # Served by the incident_open_severity index while the queue is the open statuses.
            queryset = queryset.annotate(severity_rank=severity_rank())
        return queryset

    @property
    def sort_name(self) -> str:
        cleaned = getattr(self.form, "cleaned_data", {}) if self.is_bound else {}
        return cleaned.get("sort") or DEFAULT_SORT

    def sort_keys(self) -> tuple[tuple[str, bool], ...]:
        return SORTS[self.sort_name]
