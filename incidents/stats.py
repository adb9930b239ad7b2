"""Public statistics, read from the maintained rollups (``incidents.rollup``), never from incidents.

Everything counts published and resolved incidents only, duplicates once (on their canonical
incident). Small counts are suppressed (``incidents.suppression``):

- Breakdowns by reporter type and intake channel are always protected: they say something about
  who reported.
- Every cross-tab (month × kind, month × severity, vendor × critical) is protected.
- Once any filter is applied, every figure is a cell of a cross-tab (the filter is one more
  dimension), so every figure is protected, the headline total included.
- Unfiltered one-dimensional breakdowns of public attributes (and the unfiltered total) are shown
  as they are: anyone can count them in the public incident list.

A table's totals are the one-dimensional breakdowns shown next to it. They are suppressed once
per request and passed to every table as fixed, so a figure is shown, or hidden, the same way
everywhere on a page and in the API.

The figures of one request are read in one snapshot (REPEATABLE READ on PostgreSQL) and cached
under the id of the latest ``StatsRefresh``: a refresh makes a new id, so a cached answer never
outlives the figures it came from.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from django import forms
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, Q, Sum, Value, When
from django.db.models.fields import CharField

from incidents import rollup, severity, suppression
from incidents.models import (
    AISystem,
    Context,
    Environment,
    IntakeChannel,
    OverrideType,
    ReporterType,
    ResponseTimeRollup,
    StatsRefresh,
    StatsRollup,
    Vendor,
)

CACHE_SECONDS = 24 * 3600
# Stored bands are the severity module's codes ("critical"); models.SeverityBand's values are its labels.
BAND_CHOICES = list(severity.BAND_LABELS.items())
TOP = 10  # vendors and systems shown by name; the rest are one "other" row
UNRATED = "unrated"  # the filter value for incidents without a severity rating
OTHER = "other"
MAX_MONTHS = 600
NONE = "none"


# Filters ---------------------------------------------------------------------------------------


class MonthField(forms.CharField):
    """A month as YYYY-MM (what <input type=month> sends)."""

    widget = forms.TextInput(attrs={"type": "month", "pattern": r"\d{4}-\d{2}", "placeholder": "YYYY-MM"})

    def to_python(self, value) -> date | None:
        value = super().to_python(value).strip()
        if not value:
            return None
        try:
            year, month = value.split("-")
            return date(int(year), int(month), 1)
        except ValueError:
            raise forms.ValidationError(f"“{value}” is not a month: write it as YYYY-MM, e.g. 2026-03.") from None


def _any(label: str, choices) -> list[tuple[str, str]]:
    return [("", label), *choices]


class StatsFilterForm(forms.Form):
    """The filters of the statistics page and API; every value lives in the URL."""

    vendor = forms.ModelChoiceField(
        queryset=Vendor.objects.all(), to_field_name="slug", required=False, empty_label="Any vendor"
    )
    system = forms.ModelChoiceField(
        label="AI system", queryset=AISystem.objects.select_related("vendor"), required=False, empty_label="Any system"
    )
    override_type = forms.ChoiceField(
        label="Kind of override", choices=_any("Any kind", OverrideType.choices), required=False
    )
    environment = forms.ChoiceField(choices=_any("Any environment", Environment.choices), required=False)
    context = forms.ChoiceField(
        label="Deployment context", choices=_any("Any context", Context.choices), required=False
    )
    severity_band = forms.ChoiceField(
        label="Severity",
        choices=_any("Any severity", [*BAND_CHOICES, (UNRATED, "Not rated")]),
        required=False,
    )
    exclude_lab = forms.BooleanField(label="Leave out lab demonstrations (evaluation / red-team)", required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword, so these two are added here; the URL keeps the plain names.
        fields = {
            "from": MonthField(label="From month", required=False),
            "to": MonthField(label="To month", required=False),
        }
        self.fields = {**fields, **self.fields}

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", "“To” must be the same month as “From” or later.")
        elif start and end and (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
            self.add_error("to", f"Choose a period of at most {MAX_MONTHS // 12} years.")
        vendor, system = cleaned.get("vendor"), cleaned.get("system")
        if vendor and system and system.vendor_id != vendor.pk:
            self.add_error("system", f"{system.name} is not one of {vendor.name}'s systems.")
        if cleaned.get("environment") == Environment.EVALUATION and cleaned.get("exclude_lab"):
            self.add_error("exclude_lab", "Lab demonstrations are the evaluation environment: choose one or the other.")
        return cleaned

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            start=data.get("from"),
            end=data.get("to"),
            vendor=data.get("vendor"),
            system=data.get("system"),
            override_type=data.get("override_type") or "",
            environment=data.get("environment") or "",
            context=data.get("context") or "",
            severity_band=data.get("severity_band") or "",
            exclude_lab=bool(data.get("exclude_lab")),
        )


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None
    vendor: Vendor | None = None
    system: AISystem | None = None
    override_type: str = ""
    environment: str = ""
    context: str = ""
    severity_band: str = ""
    exclude_lab: bool = False

    @property
    def active(self) -> bool:
        return bool(self.params())

    def params(self) -> dict[str, str]:
        """The filters as URL parameters, in a fixed order (permalinks, cache keys)."""
        params = {
            "from": f"{self.start:%Y-%m}" if self.start else "",
            "to": f"{self.end:%Y-%m}" if self.end else "",
            "vendor": self.vendor.slug if self.vendor else "",
            "system": str(self.system.pk) if self.system else "",
            "override_type": self.override_type,
            "environment": self.environment,
            "context": self.context,
            "severity_band": self.severity_band,
            "exclude_lab": "on" if self.exclude_lab else "",
        }
        return {k: v for k, v in params.items() if v}

    def query_string(self) -> str:
        return urlencode(self.params())

    def rollup_q(self) -> Q:
        q = Q()
        if self.start:
            q &= Q(month__gte=self.start)
        if self.end:
            q &= Q(month__lte=self.end)
        if self.vendor:
            q &= Q(vendor_id=self.vendor.pk)
        if self.system:
            q &= Q(ai_system_id=self.system.pk)
        for name in ("override_type", "environment", "context"):
            if getattr(self, name):
                q &= Q(**{name: getattr(self, name)})
        if self.severity_band:
            q &= Q(severity_band="" if self.severity_band == UNRATED else self.severity_band)
        if self.exclude_lab:
            q &= ~Q(environment=Environment.EVALUATION)
        return q

    def response_q(self) -> Q:
        """Response times are kept per month and vendor only; the other filters do not apply."""
        q = Q()
        if self.start:
            q &= Q(month__gte=self.start)
        if self.end:
            q &= Q(month__lte=self.end)
        if self.vendor or self.system:
            q &= Q(vendor_id=(self.vendor or self.system.vendor).pk)
        return q

    @property
    def response_filters_ignored(self) -> bool:
        return any(
            (self.system, self.override_type, self.environment, self.context, self.severity_band, self.exclude_lab)
        )

    def describe(self) -> list[str]:
        parts = []
        if self.start or self.end:
            parts.append(
                f"published {f'from {self.start:%B %Y}' if self.start else ''}"
                f"{' ' if self.start and self.end else ''}{f'to {self.end:%B %Y}' if self.end else ''}".strip()
            )
        if self.vendor:
            parts.append(f"vendor {self.vendor.name}")
        if self.system:
            parts.append(f"AI system {self.system}")
        if self.override_type:
            parts.append(OverrideType(self.override_type).label.lower())
        if self.environment:
            parts.append(f"{Environment(self.environment).label.lower()} environment")
        if self.context:
            parts.append(Context(self.context).label.lower())
        if self.severity_band:
            band = "not rated" if self.severity_band == UNRATED else severity.BAND_LABELS[self.severity_band].lower()
            parts.append(f"severity {band}")
        if self.exclude_lab:
            parts.append("lab demonstrations left out")
        return parts


# Figures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A published count, or a suppressed one (its value is never shown, serialised or cached for display)."""

    value: int
    hidden: bool = False

    @property
    def shown(self) -> int | None:
        return None if self.hidden else self.value

    def __str__(self) -> str:
        return suppression.MARKER if self.hidden else f"{self.value:,}"


@dataclass
class Breakdown:
    """A one-dimensional breakdown with its total."""

    dimension: str
    keys: list[str]
    labels: list[str]
    cells: list[Figure]
    total: Figure

    def rows(self) -> Iterator[tuple[str, str, Figure]]:
        yield from zip(self.keys, self.labels, self.cells, strict=True)

    def get(self, key: str) -> Figure:
        return self.cells[self.keys.index(key)]


@dataclass
class CrossTab:
    """Rows × columns, with the breakdowns of each as margins."""

    rows: Breakdown
    columns: Breakdown
    cells: list[list[Figure]]

    @property
    def total(self) -> Figure:
        return self.rows.total


@dataclass
class ResponseTimes:
    vendors: CrossTab  # vendor × (answered before the deadline, not)
    medians: list[float | None]  # per vendor row: median days to first answer, when enough answered
    overall_median: float | None


@dataclass
class StatsPage:
    filters_query: str
    refreshed_at: datetime
    refresh_id: int
    total: Figure
    lab: Figure  # incidents in the evaluation environment among those counted
    by_month: CrossTab  # month × override type
    severity_by_month: CrossTab  # month × severity band
    vendors: CrossTab  # vendor × (critical, not critical)
    systems: Breakdown
    environment: Breakdown
    context: Breakdown
    intake_channel: Breakdown
    reporter_type: Breakdown
    reproductions: Breakdown  # confirmed independent reproductions by override type
    responses: ResponseTimes

    @property
    def critical_share(self) -> list[str]:
        """Per vendor row: the share of its incidents that are critical, or why it is not shown."""
        shares = []
        for row_total, (critical, _) in zip(self.vendors.rows.cells, self.vendors.cells, strict=True):
            if row_total.hidden or critical.hidden:
                shares.append(suppression.MARKER)
            elif row_total.value == 0:
                shares.append("–")
            else:
                shares.append(f"{critical.value / row_total.value:.0%}")
        return shares


@dataclass
class Summary:
    refreshed_at: datetime
    refresh_id: int
    total: Figure
    severity_band: Breakdown
    override_type: Breakdown
    environment: Breakdown
    context: Breakdown


@dataclass
class Timeseries:
    refreshed_at: datetime
    refresh_id: int
    table: CrossTab | None  # month × group (None when not grouped)
    months: Breakdown
    group_by: str = ""
    extra: dict = field(default_factory=dict)


# Dimensions: rollup column, labels, and whether a breakdown by it says something about the reporter.


@dataclass(frozen=True)
class Dimension:
    name: str
    column: str
    title: str
    choices: Callable[[], list[tuple[str, str]]]
    identifying: bool = False


def _band_choices() -> list[tuple[str, str]]:
    return [*BAND_CHOICES, ("", "Not rated")]


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("override_type", "override_type", "Kind of override", lambda: list(OverrideType.choices)),
        Dimension("severity_band", "severity_band", "Severity", _band_choices),
        Dimension("environment", "environment", "Environment", lambda: list(Environment.choices)),
        Dimension("context", "context", "Deployment context", lambda: list(Context.choices)),
        Dimension(
            "intake_channel", "intake_channel", "Intake channel", lambda: list(IntakeChannel.choices), identifying=True
        ),
        Dimension(
            "reporter_type", "reporter_type", "Reporter type", lambda: list(ReporterType.choices), identifying=True
        ),
        Dimension("vendor", "vendor_id", "Vendor", lambda: []),
        Dimension("ai_system", "ai_system_id", "AI system", lambda: []),
    )
}


# Reading ---------------------------------------------------------------------------------------


@contextmanager
def _snapshot() -> Iterator[None]:
    """All reads of one answer see the same committed rollup, even if a refresh commits meanwhile."""
    if connection.in_atomic_block or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _version(refresh: StatsRefresh) -> str:
    # The time as well as the id: a database whose ids restart (SQLite after a rollback) never
    # meets an answer cached for another refresh with the same id.
    return f"{refresh.pk}-{refresh.finished_at.timestamp():.6f}"


def _cached(kind: str, filters: Filters, build: Callable[[StatsRefresh], object], extra: str = ""):
    refresh = rollup.ensure_built()
    digest = hashlib.sha256(f"{filters.query_string()}|{extra}".encode()).hexdigest()[:32]
    key = f"stats:{kind}:{_version(refresh)}:{digest}"
    found = cache.get(key)
    if found is not None:
        return found
    with _snapshot():
        latest = rollup.latest_refresh() or refresh
        value = build(latest)
    cache.set(f"stats:{kind}:{_version(latest)}:{digest}", value, CACHE_SECONDS)
    return value


def _groups(filters: Filters, *columns: str, **expressions) -> list[dict]:
    return list(
        StatsRollup.objects.filter(filters.rollup_q())
        .values(*columns, **expressions)
        .annotate(n=Sum("incidents"), r=Sum("reproductions"))
        .order_by()
    )


# Computed grouping columns, as SQL for GROUPING SETS and as ORM expressions otherwise.
_COMPUTED = {"critical": "CASE WHEN severity_band = 'critical' THEN 'critical' ELSE '' END"}


def _computed(name: str):
    return Case(When(severity_band="critical", then=Value("critical")), default=Value(""), output_field=CharField())


def _grouping_sets(filters: Filters, *sets: tuple[str, ...]) -> list[list[dict]]:
    """One ``_groups`` answer per set of columns, from a single scan of the rollup on PostgreSQL.

    The rollup is large (a row per combination of every dimension), so one GROUPING SETS scan
    instead of one scan per breakdown is most of the cost of a cold answer.
    """
    if connection.vendor != "postgresql" or len(sets) == 1:
        return [
            _groups(
                filters, *[c for c in cols if c not in _COMPUTED], **{c: _computed(c) for c in cols if c in _COMPUTED}
            )
            for cols in sets
        ]
    columns = list(dict.fromkeys(c for cols in sets for c in cols))
    queryset = StatsRollup.objects.filter(filters.rollup_q())
    compiler = queryset.query.get_compiler(using=queryset.db)
    where, params = compiler.compile(queryset.query.where) if queryset.query.where else ("", [])
    qn = connection.ops.quote_name
    select = [f"{_COMPUTED[c]} AS {qn(c)}" if c in _COMPUTED else qn(c) for c in columns]
    grouping = ", ".join(_COMPUTED.get(c, qn(c)) for c in columns)
    group_sets = ", ".join("(" + ", ".join(_COMPUTED.get(c, qn(c)) for c in cols) + ")" for cols in sets)
    sql = (
        f"SELECT {', '.join(select)}, GROUPING({grouping}) AS grouping_mask, "
        f"SUM(incidents) AS n, SUM(reproductions) AS r FROM {qn(StatsRollup._meta.db_table)}"
        f"{f' WHERE {where}' if where else ''} GROUP BY GROUPING SETS ({group_sets})"
    )
    width = len(columns)
    masks = [sum(1 << (width - 1 - i) for i, c in enumerate(columns) if c not in cols) for cols in sets]
    answers: list[list[dict]] = [[] for _ in sets]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            mask = row[width]
            index = masks.index(mask)
            found = {c: row[i] for i, c in enumerate(columns) if c in sets[index]}
            found["n"], found["r"] = int(row[width + 1]), int(row[width + 2])
            answers[index].append(found)
    return answers


def _figure(value: int, *, protected: bool) -> Figure:
    return Figure(value, protected and suppression.is_small(value))


def breakdown(
    dimension: str,
    keys: list[str],
    labels: list[str],
    values: list[int],
    total: Figure,
    *,
    protected: bool,
) -> Breakdown:
    hidden = suppression.suppress_vector(values, total.value, protected=protected, total_hidden=total.hidden)
    cells = [Figure(v, h) for v, h in zip(values, hidden, strict=True)]
    return Breakdown(dimension, keys, labels, cells, total)


def crosstab(rows: Breakdown, columns: Breakdown, counts: dict[tuple[str, str], int]) -> CrossTab:
    values = [[counts.get((r, c), 0) for c in columns.keys] for r in rows.keys]
    hidden = suppression.suppress_table(
        values,
        row_totals=[f.value for f in rows.cells],
        row_hidden=[f.hidden for f in rows.cells],
        column_totals=[f.value for f in columns.cells],
        column_hidden=[f.hidden for f in columns.cells],
        total=rows.total.value,
        total_hidden=rows.total.hidden,
    )
    cells = [[Figure(v, h) for v, h in zip(vr, hr, strict=True)] for vr, hr in zip(values, hidden, strict=True)]
    return CrossTab(rows, columns, cells)


def _choice_breakdown(
    name: str, counts: dict[str, int], total: Figure, filters: Filters, *, key_map: Callable[[str], str] = str
) -> Breakdown:
    dimension = DIMENSIONS[name]
    choices = dimension.choices()
    if name == "environment" and filters.exclude_lab:
        choices = [c for c in choices if c[0] != Environment.EVALUATION]
    keys = [key_map(value) for value, _ in choices]
    values = [counts.get(value, 0) for value, _ in choices]
    protected = filters.active or dimension.identifying
    return breakdown(name, keys, [label for _, label in choices], values, total, protected=protected)


def _band_key(value: str) -> str:
    return value or UNRATED


def _month_keys(filters: Filters, present: set[date]) -> list[date]:
    """Every month from the first to the last published one; both bounds given, exactly that period."""
    if filters.start and filters.end:
        first, last = filters.start, filters.end
    elif not present:
        return []
    else:
        first, last = min(present), max(present)
    months, month = [], first
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _month_breakdown(filters: Filters, counts: dict[date, int], total: Figure) -> Breakdown:
    months = _month_keys(filters, {m for m, n in counts.items() if n})
    return breakdown(
        "month",
        [f"{m:%Y-%m}" for m in months],
        [f"{m:%b %Y}" for m in months],
        [counts.get(m, 0) for m in months],
        total,
        protected=filters.active,
    )


def _bucketed(
    name: str,
    counts: dict[int | None, int],
    names: dict[int, str],
    slugs: dict[int, str],
    total: Figure,
    filters: Filters,
    *,
    protected: bool,
    none_label: str,
    other_label: str,
) -> Breakdown:
    """The TOP largest by name, the rest as one row, and the unlinked as another."""
    named = sorted(((n, pk) for pk, n in counts.items() if pk is not None and n), key=lambda x: (-x[0], names[x[1]]))
    top = [pk for _, pk in named[:TOP]]
    rest = sum(n for n, _ in named[TOP:])
    keys, labels, values = [slugs[pk] for pk in top], [names[pk] for pk in top], [counts[pk] for pk in top]
    if rest:
        keys.append(OTHER)
        labels.append(other_label)
        values.append(rest)
    if counts.get(None):
        keys.append(NONE)
        labels.append(none_label)
        values.append(counts[None])
    return breakdown(name, keys, labels, values, total, protected=protected)


def _vendor_names(ids) -> tuple[dict[int, str], dict[int, str]]:
    rows = Vendor.objects.filter(pk__in=[i for i in ids if i is not None]).values_list("pk", "name", "slug")
    return {pk: name for pk, name, _ in rows}, {pk: slug for pk, _, slug in rows}


def _system_names(ids) -> tuple[dict[int, str], dict[int, str]]:
    rows = AISystem.objects.filter(pk__in=[i for i in ids if i is not None]).values_list("pk", "vendor__name", "name")
    return {pk: f"{vendor} {name}" for pk, vendor, name in rows}, {pk: str(pk) for pk, _, _ in rows}


def page(filters: Filters) -> StatsPage:
    return _cached("page", filters, lambda refresh: _build_page(filters, refresh))


def _build_page(filters: Filters, refresh: StatsRefresh) -> StatsPage:
    # Three scans: one GROUPING SETS scan over these wide sets sorts instead of hashing, and is slower.
    by_time, by_owner, by_kind = (
        _grouping_sets(filters, columns)[0]
        for columns in (
            ("month", "override_type", "severity_band"),
            ("vendor_id", "ai_system_id", "critical"),
            ("environment", "context", "intake_channel", "reporter_type"),
        )
    )

    total = _figure(sum(g["n"] for g in by_time), protected=filters.active)
    months: dict[date, int] = defaultdict(int)
    types: dict[str, int] = defaultdict(int)
    bands: dict[str, int] = defaultdict(int)
    month_type: dict[tuple[str, str], int] = defaultdict(int)
    month_band: dict[tuple[str, str], int] = defaultdict(int)
    reproductions: dict[str, int] = defaultdict(int)
    for g in by_time:
        month = rollup._as_month(g["month"])
        months[month] += g["n"]
        types[g["override_type"]] += g["n"]
        bands[g["severity_band"]] += g["n"]
        month_type[(f"{month:%Y-%m}", g["override_type"])] += g["n"]
        month_band[(f"{month:%Y-%m}", _band_key(g["severity_band"]))] += g["n"]
        reproductions[g["override_type"]] += g["r"]

    month_breakdown = _month_breakdown(filters, months, total)
    type_breakdown = _choice_breakdown("override_type", types, total, filters)
    band_breakdown = _choice_breakdown("severity_band", bands, total, filters, key_map=_band_key)

    vendors: dict[int | None, int] = defaultdict(int)
    systems: dict[int | None, int] = defaultdict(int)
    vendor_critical: dict[int | None, int] = defaultdict(int)
    for g in by_owner:
        vendors[g["vendor_id"]] += g["n"]
        systems[g["ai_system_id"]] += g["n"]
        if g["critical"]:
            vendor_critical[g["vendor_id"]] += g["n"]
    vendor_names, vendor_slugs = _vendor_names(vendors)
    system_names, system_keys = _system_names(systems)
    vendor_breakdown = _bucketed(
        "vendor",
        vendors,
        vendor_names,
        vendor_slugs,
        total,
        filters,
        protected=filters.active,
        none_label="Not linked to a vendor yet",
        other_label="All other vendors",
    )
    system_breakdown = _bucketed(
        "ai_system",
        systems,
        system_names,
        system_keys,
        total,
        filters,
        protected=filters.active,
        none_label="Not linked to a system yet",
        other_label="All other systems",
    )
    critical_figure = band_breakdown.get("critical")
    not_critical = Figure(total.value - critical_figure.value, critical_figure.hidden or total.hidden)
    severity_columns = Breakdown(
        "critical", ["critical", "other"], ["Critical", "Not critical"], [critical_figure, not_critical], total
    )
    vendor_rows = {slug: pk for pk, slug in vendor_slugs.items()}
    critical_counts: dict[tuple[str, str], int] = {}
    for key in vendor_breakdown.keys:
        if key == OTHER:
            shown = {vendor_rows[k] for k in vendor_breakdown.keys if k in vendor_rows}
            crit = sum(n for pk, n in vendor_critical.items() if pk is not None and pk not in shown)
            count = sum(n for pk, n in vendors.items() if pk is not None and pk not in shown)
        else:
            pk = None if key == NONE else vendor_rows[key]
            crit, count = vendor_critical.get(pk, 0), vendors.get(pk, 0)
        critical_counts[(key, "critical")] = crit
        critical_counts[(key, "other")] = count - crit

    environments: dict[str, int] = defaultdict(int)
    contexts: dict[str, int] = defaultdict(int)
    channels: dict[str, int] = defaultdict(int)
    reporters: dict[str, int] = defaultdict(int)
    for g in by_kind:
        environments[g["environment"]] += g["n"]
        contexts[g["context"]] += g["n"]
        channels[g["intake_channel"]] += g["n"]
        reporters[g["reporter_type"]] += g["n"]

    repro_total = _figure(sum(reproductions.values()), protected=filters.active)
    environment = _choice_breakdown("environment", environments, total, filters)
    return StatsPage(
        filters_query=filters.query_string(),
        refreshed_at=refresh.finished_at,
        refresh_id=refresh.pk,
        total=total,
        lab=environment.get(Environment.EVALUATION) if not filters.exclude_lab else Figure(0),
        by_month=crosstab(month_breakdown, type_breakdown, month_type),
        severity_by_month=crosstab(month_breakdown, band_breakdown, month_band),
        vendors=crosstab(vendor_breakdown, severity_columns, critical_counts),
        systems=system_breakdown,
        environment=environment,
        context=_choice_breakdown("context", contexts, total, filters),
        intake_channel=_choice_breakdown("intake_channel", channels, total, filters),
        reporter_type=_choice_breakdown("reporter_type", reporters, total, filters),
        reproductions=_choice_breakdown("override_type", reproductions, repro_total, filters),
        responses=_response_times(filters),
    )


def _response_times(filters: Filters) -> ResponseTimes:
    groups = list(
        ResponseTimeRollup.objects.filter(filters.response_q())
        .values("vendor_id", "days")
        .annotate(n=Sum("incidents"), b=Sum("before_deadline"))
        .order_by()
    )
    notified: dict[int, int] = defaultdict(int)
    before: dict[int, int] = defaultdict(int)
    days: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for g in groups:
        notified[g["vendor_id"]] += g["n"]
        before[g["vendor_id"]] += g["b"]
        if g["days"] != rollup.NO_ANSWER:
            days[g["vendor_id"]].append((g["days"], g["n"]))
    protected_total = filters.active
    total = _figure(sum(notified.values()), protected=protected_total)
    names, slugs = _vendor_names(notified)
    # Notified incidents per vendor is a cross-tab (vendor × notified), so always protected.
    rows = _bucketed(
        "vendor",
        notified,
        names,
        slugs,
        total,
        filters,
        protected=True,
        none_label="",
        other_label="All other vendors",
    )
    in_time = sum(before.values())
    column_values = [in_time, total.value - in_time]
    columns = breakdown(
        "answer",
        ["before_deadline", "late_or_never"],
        ["Answered before the deadline", "Answered late, or not at all"],
        column_values,
        total,
        protected=protected_total,
    )
    by_slug = {slug: pk for pk, slug in slugs.items()}
    counts: dict[tuple[str, str], int] = {}
    medians: list[float | None] = []
    for key in rows.keys:
        members = [by_slug[key]] if key in by_slug else [pk for pk in notified if slugs[pk] not in rows.keys]
        b = sum(before[pk] for pk in members)
        counts[(key, "before_deadline")] = b
        counts[(key, "late_or_never")] = sum(notified[pk] for pk in members) - b
        medians.append(_median([d for pk in members for d in days[pk]]))
    table = crosstab(rows, columns, counts)
    medians = [None if row.hidden else m for row, m in zip(rows.cells, medians, strict=True)]
    return ResponseTimes(table, medians, _median([d for pairs in days.values() for d in pairs]))


def _median(pairs: list[tuple[int, int]]) -> float | None:
    """Median of a histogram of (days, incidents); only from enough answers to say nothing about one."""
    answered = sum(n for _, n in pairs)
    if answered < suppression.THRESHOLD:
        return None
    expanded = [d for d, n in sorted(pairs) for _ in range(n)] if answered <= 100_000 else None
    if expanded is not None:
        return float(statistics.median(expanded))
    middle, seen = (answered + 1) / 2, 0
    for d, n in sorted(pairs):
        seen += n
        if seen >= middle:
            return float(d)
    return None


def summary(filters: Filters) -> Summary:
    return _cached("summary", filters, lambda refresh: _build_summary(filters, refresh))


def _build_summary(filters: Filters, refresh: StatsRefresh) -> Summary:
    names = ("severity_band", "override_type", "environment", "context")
    answers = _grouping_sets(filters, *[(name,) for name in names])
    total = _figure(sum(g["n"] for g in answers[0]), protected=filters.active)
    counts = {name: defaultdict(int) for name in names}
    for name, groups in zip(names, answers, strict=True):
        for g in groups:
            counts[name][g[name]] += g["n"]
    return Summary(
        refreshed_at=refresh.finished_at,
        refresh_id=refresh.pk,
        total=total,
        severity_band=_choice_breakdown("severity_band", counts["severity_band"], total, filters, key_map=_band_key),
        override_type=_choice_breakdown("override_type", counts["override_type"], total, filters),
        environment=_choice_breakdown("environment", counts["environment"], total, filters),
        context=_choice_breakdown("context", counts["context"], total, filters),
    )


GROUPABLE = (
    "override_type",
    "severity_band",
    "environment",
    "context",
    "intake_channel",
    "reporter_type",
    "vendor",
    "ai_system",
)


def timeseries(filters: Filters, group_by: str = "") -> Timeseries:
    if group_by and group_by not in GROUPABLE:
        raise ValueError(f"group_by must be one of {', '.join(GROUPABLE)}.")
    return _cached("timeseries", filters, lambda refresh: _build_timeseries(filters, group_by, refresh), group_by)


def _build_timeseries(filters: Filters, group_by: str, refresh: StatsRefresh) -> Timeseries:
    column = DIMENSIONS[group_by].column if group_by else None
    groups = _groups(filters, "month", *([column] if column else []))
    total = _figure(sum(g["n"] for g in groups), protected=filters.active)
    months: dict[date, int] = defaultdict(int)
    by_group: dict[object, int] = defaultdict(int)
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for g in groups:
        month = rollup._as_month(g["month"])
        months[month] += g["n"]
        if column:
            by_group[g[column]] += g["n"]
    month_breakdown = _month_breakdown(filters, months, total)
    if not column:
        return Timeseries(refresh.finished_at, refresh.pk, None, month_breakdown)
    if group_by in ("vendor", "ai_system"):
        ids = [k for k in by_group if k is not None]
        names, slugs = _vendor_names(ids) if group_by == "vendor" else _system_names(ids)
        ordered = sorted(ids, key=lambda pk: (-by_group[pk], names[pk]))
        keys = [slugs[pk] for pk in ordered] + ([NONE] if by_group.get(None) else [])
        labels = [names[pk] for pk in ordered] + (["Not linked yet"] if by_group.get(None) else [])
        values = [by_group[pk] for pk in ordered] + ([by_group[None]] if by_group.get(None) else [])
        group_breakdown = breakdown(group_by, keys, labels, values, total, protected=filters.active)
        key_of = {pk: slugs[pk] for pk in ordered} | {None: NONE}
    else:
        key_map = _band_key if group_by == "severity_band" else str
        group_breakdown = _choice_breakdown(group_by, by_group, total, filters, key_map=key_map)
        key_of = {value: key_map(value) for value in by_group}
    for g in groups:
        cells[(f"{rollup._as_month(g['month']):%Y-%m}", key_of[g[column]])] += g["n"]
    return Timeseries(
        refresh.finished_at, refresh.pk, crosstab(month_breakdown, group_breakdown, cells), month_breakdown, group_by
    )


# What the home page shows (unfiltered, so never suppressed).


@dataclass(frozen=True)
class Row:
    label: str
    count: int


def total() -> int:
    return summary(Filters()).total.value


def by_environment() -> list[Row]:
    return [Row(label, cell.value) for _, label, cell in summary(Filters()).environment.rows()]


def by_override_type() -> list[Row]:
    return [Row(label, cell.value) for _, label, cell in summary(Filters()).override_type.rows()]


def by_month() -> list[Row]:
    months = timeseries(Filters()).months
    return [Row(key, cell.value) for key, _, cell in months.rows()]
