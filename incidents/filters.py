"""The incident list's filters: one FilterSet for the public web list and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet

from incidents.models import Context, Environment, Incident, OverrideType, SeverityBand, Vendor


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_search", max_length=200)
    vendor = django_filters.ModelChoiceFilter(
        queryset=Vendor.objects.all(), to_field_name="slug", empty_label="Any vendor"
    )
    override_type = django_filters.ChoiceFilter(choices=OverrideType.choices, empty_label="Any type")
    severity_band = django_filters.ChoiceFilter(
        label="Severity", choices=SeverityBand.choices, empty_label="Any severity"
    )
    environment = django_filters.ChoiceFilter(choices=Environment.choices, empty_label="Any environment")
    context = django_filters.ChoiceFilter(choices=Context.choices, empty_label="Any context")
    exclude_lab = django_filters.BooleanFilter(
        label="Leave out lab demonstrations", method="filter_exclude_lab", widget=forms.CheckboxInput
    )

    class Meta:
        model = Incident
        fields = ["q", "vendor", "override_type", "severity_band", "environment", "context", "exclude_lab"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.search(value.strip()) if value.strip() else queryset

    def filter_exclude_lab(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        return queryset.exclude(environment=Environment.EVALUATION) if value else queryset
