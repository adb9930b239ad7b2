"""Public statistics: figures about published and resolved incidents only.

These aggregate directly; the maintained rollup that serves them at scale replaces the queries
here without changing what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth

from incidents.access import public_incidents
from incidents.models import Environment, Incident, OverrideType


@dataclass(frozen=True)
class Row:
    label: str
    count: int


def by_override_type(incidents: QuerySet[Incident] | None = None) -> list[Row]:
    incidents = public_incidents() if incidents is None else incidents
    counts = dict(incidents.order_by().values_list("override_type").annotate(n=Count("id")))
    return [Row(label, counts.get(value, 0)) for value, label in OverrideType.choices]


def by_month(incidents: QuerySet[Incident] | None = None) -> list[Row]:
    incidents = public_incidents() if incidents is None else incidents
    months = (
        incidents.order_by()
        .annotate(month=TruncMonth("published_at"))
        .values_list("month")
        .annotate(n=Count("id"))
        .order_by("month")
    )
    return [Row(_month_label(month), n) for month, n in months]


def by_environment(incidents: QuerySet[Incident] | None = None) -> list[Row]:
    incidents = public_incidents() if incidents is None else incidents
    counts = dict(incidents.order_by().values_list("environment").annotate(n=Count("id")))
    return [Row(label, counts.get(value, 0)) for value, label in Environment.choices]


def total(incidents: QuerySet[Incident] | None = None) -> int:
    return (public_incidents() if incidents is None else incidents).count()


def _month_label(month: date) -> str:
    return f"{month:%Y-%m}"
