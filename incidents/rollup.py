"""The maintained aggregates behind every public statistic.

``StatsRollup`` counts published incidents per month of publication and per every dimension the
statistics break down by; ``ResponseTimeRollup`` is a histogram of vendor response times. Both
are built with one ``INSERT … SELECT … GROUP BY`` per table, compiled from the ORM, so the
database does the work in one statement (PostgreSQL and SQLite alike). Requests read only these
tables, never the incidents table.

What counts: published and resolved incidents that are not duplicates (a duplicate counts once,
through its canonical incident's report and reproduction counts). Nothing embargoed, rejected or
duplicate is ever selected.

How it stays fresh: a workflow change to a public incident schedules ``refresh`` for the months
it touches (debounced through the cache, run by the Celery task ``refresh_statistics``, after
the transaction commits); a nightly run rebuilds everything. With no broker (the embedded
default) tasks run in-process right after the commit, so the rollup is current when the page
reads it. If no refresh ever ran, the first read builds it (``ensure_built``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, Count, DateField, F, Func, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Greatest, Least, TruncMonth
from django.utils import timezone

from incidents.models import (
    PUBLIC_STATUSES,
    Incident,
    IncidentEvent,
    ResponseTimeRollup,
    StatsRefresh,
    StatsRollup,
    Status,
)

logger = logging.getLogger(__name__)

# Days stored for an incident the vendor never answered (the column is a small integer).
NO_ANSWER = 32767
# Publications in a burst share one refresh: the first schedules it this many seconds ahead.
DEBOUNCE_SECONDS = 30
# Serialises rebuilds on PostgreSQL (two overlapping month refreshes would both insert rows).
_LOCK_ID = 0x57A75
ROLLUP_COLUMNS = (
    "month",
    "vendor_id",
    "ai_system_id",
    "override_type",
    "environment",
    "context",
    "severity_band",
    "intake_channel",
    "reporter_type",
    "incidents",
    "reproductions",
)
RESPONSE_COLUMNS = ("month", "vendor_id", "days", "incidents", "before_deadline")


def counted_incidents() -> QuerySet[Incident]:
    """The incidents every statistic counts: public, canonical, with a publication date."""
    return Incident.objects.filter(
        status__in=PUBLIC_STATUSES, duplicate_of__isnull=True, published_at__isnull=False
    ).order_by()


class DaysBetween(Func):
    """Whole days from the first datetime to the second."""

    output_field = IntegerField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL
        (start, start_params), (end, end_params) = (compiler.compile(e) for e in self.source_expressions)
        return f"FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 86400)::integer", [*end_params, *start_params]

    def as_sqlite(self, compiler, connection, **extra):
        (start, start_params), (end, end_params) = (compiler.compile(e) for e in self.source_expressions)
        return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)", [*end_params, *start_params]


def _month() -> TruncMonth:
    return TruncMonth("published_at", output_field=DateField())


def _in_months(months: Iterable[date] | None) -> Q:
    if months is None:
        return Q()
    q = Q(pk__in=[])
    for month in months:
        q |= Q(published_at__gte=_month_start(month), published_at__lt=_month_start(_next_month(month)))
    return q


def rollup_select(months: Iterable[date] | None = None) -> QuerySet:
    """One row per combination of dimensions, in ROLLUP_COLUMNS order."""
    return (
        counted_incidents()
        .filter(_in_months(months))
        .values(
            m=_month(),
            v=F("vendor_id"),
            s=F("ai_system_id"),
            t=F("override_type"),
            e=F("environment"),
            c=F("context"),
            b=F("severity_band"),
            i=F("intake_channel"),
            r=F("reporter_type"),
        )
        .annotate(n=Count("id"), repro=Sum("reproduction_count"))
    )


def response_select(months: Iterable[date] | None = None) -> QuerySet:
    """Vendor response times of counted incidents whose vendor was notified, in RESPONSE_COLUMNS order."""
    days = Case(
        When(first_vendor_response_at__isnull=True, then=Value(NO_ANSWER)),
        default=Least(
            Greatest(DaysBetween("vendor_notified_at", "first_vendor_response_at"), Value(0)), Value(NO_ANSWER - 1)
        ),
        output_field=IntegerField(),
    )
    answered_in_time = Case(
        When(first_vendor_response_at__lte=F("disclosure_deadline"), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return (
        counted_incidents()
        .filter(_in_months(months), vendor_notified_at__isnull=False, vendor_id__isnull=False)
        .values(m=_month(), v=F("vendor_id"), d=days)
        .annotate(n=Count("id"), before=Sum(answered_in_time))
    )


def _insert(table: str, columns: tuple[str, ...], select: QuerySet) -> int:
    sql, params = select.query.sql_with_params()
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) {sql}", params)
        return max(cursor.rowcount, 0)


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])


def _write(months: list[date] | None) -> int:
    if months is None:
        StatsRollup.objects.all().delete()
        ResponseTimeRollup.objects.all().delete()
    else:
        StatsRollup.objects.filter(month__in=months).delete()
        ResponseTimeRollup.objects.filter(month__in=months).delete()
    rows = _insert(StatsRollup._meta.db_table, ROLLUP_COLUMNS, rollup_select(months))
    return rows + _insert(ResponseTimeRollup._meta.db_table, RESPONSE_COLUMNS, response_select(months))


def rebuild(*, progress: Callable[[int, int], None] | None = None) -> StatsRefresh:
    """Rebuild both rollups from scratch in one transaction; readers see the old figures until it commits.

    With ``progress`` (called as ``progress(done, total)``) the work goes month by month, still in
    one transaction, so a command can show how far it got.
    """
    started = time.monotonic()
    with transaction.atomic():
        _lock()
        if progress is None:
            rows = _write(None)
        else:
            StatsRollup.objects.all().delete()
            ResponseTimeRollup.objects.all().delete()
            months = published_months()
            rows = 0
            progress(0, len(months))
            for done, month in enumerate(months, start=1):
                rows += _insert(StatsRollup._meta.db_table, ROLLUP_COLUMNS, rollup_select([month]))
                rows += _insert(ResponseTimeRollup._meta.db_table, RESPONSE_COLUMNS, response_select([month]))
                progress(done, len(months))
        return StatsRefresh.objects.create(seconds=time.monotonic() - started, rows=rows)


def refresh(months: Iterable[date | str] | None = None) -> StatsRefresh:
    """Recompute the given months (all of them when None); what the Celery task runs."""
    if months is None:
        return rebuild()
    months = sorted({_as_month(m) for m in months})
    for month in months:
        # Cleared before the work starts, so a change committed while this runs schedules another.
        cache.delete(_pending_key(month))
    started = time.monotonic()
    with transaction.atomic():
        _lock()
        rows = _write(months)
        return StatsRefresh.objects.create(seconds=time.monotonic() - started, rows=rows)


def published_months() -> list[date]:
    found = counted_incidents().annotate(m=_month()).values_list("m", flat=True).distinct().order_by("m")
    return [_as_month(m) for m in found]


def latest_refresh() -> StatsRefresh | None:
    return StatsRefresh.objects.order_by("-id").first()


def ensure_built() -> StatsRefresh:
    """The latest refresh; builds the rollup first if it was never built (a fresh installation)."""
    return latest_refresh() or rebuild()


# Scheduling: called by the workflow inside the transaction that changed an incident.


def schedule_refresh(months: Iterable[date | datetime | None]) -> None:
    """Refresh these months once the current transaction commits, at most once per burst."""
    wanted = sorted({_as_month(m) for m in months if m is not None})
    if wanted:
        transaction.on_commit(lambda: _enqueue(wanted))


def _enqueue(months: list[date]) -> None:
    # cache.add is atomic: of many publications in a burst, the first schedules the task.
    pending = [m for m in months if cache.add(_pending_key(m), True, timeout=10 * DEBOUNCE_SECONDS)]
    if not pending:
        return
    from incidents.tasks import refresh_statistics

    try:
        refresh_statistics.apply_async(args=[[m.isoformat() for m in pending]], countdown=DEBOUNCE_SECONDS, retry=False)
    except Exception:
        # Figures may lag until the nightly rebuild; a broker outage must not fail the request.
        logger.warning("Could not schedule a statistics refresh for %s.", pending, exc_info=True)


def months_affected(event: IncidentEvent) -> list[date]:
    """The months whose figures a history event changes (none for most events)."""
    incident = event.incident
    months: list[datetime | None] = []
    touches_public = event.to_status in PUBLIC_STATUSES or event.from_status in PUBLIC_STATUSES
    if touches_public:
        months.append(Incident.objects.filter(pk=incident.pk).values_list("published_at", flat=True).first())
    if event.to_status == Status.DUPLICATE and event.data.get("duplicate_of"):
        # The canonical incident's reproduction count changes with the merge.
        canonical = Incident.objects.filter(public_id=event.data["duplicate_of"], status__in=PUBLIC_STATUSES)
        months.append(canonical.values_list("published_at", flat=True).first())
    return sorted({_as_month(m) for m in months if m is not None})


def on_transition(event: IncidentEvent) -> None:
    """Hook for incidents.notifications.on_transition."""
    schedule_refresh(months_affected(event))


def incident_changed(incident: Incident) -> None:
    """Hook for workflow.edit: a public incident's dimensions (type, severity, system) changed."""
    if incident.status in PUBLIC_STATUSES:
        schedule_refresh([incident.published_at])


def _pending_key(month: date) -> str:
    return f"stats:refresh-pending:{month:%Y-%m}"


def _as_month(value: date | datetime | str) -> date:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if timezone.is_aware(value) else value
    return date(value.year, value.month, 1)


def _month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)
