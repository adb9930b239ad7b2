"""The maintained aggregates: rebuilt in one statement, refreshed by month, scheduled after publication."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db.models import Sum

from incidents import rollup, workflow
from incidents.models import ResponseTimeRollup, StatsRefresh, StatsRollup, Status
from tests.incidents.test_stats import counted, generate

pytestmark = pytest.mark.django_db


def test_it_counts_exactly_the_published_canonical_incidents():
    incidents = generate(900, seed=31)
    refresh = rollup.rebuild()
    public = counted(incidents)
    assert StatsRollup.objects.aggregate(n=Sum("incidents"))["n"] == len(public)
    assert StatsRollup.objects.aggregate(n=Sum("reproductions"))["n"] == sum(i.reproduction_count for i in public)
    grouped = Counter(
        (date(i.published_at.year, i.published_at.month, 1), i.vendor_id, i.override_type) for i in public
    )
    found = Counter()
    for row in StatsRollup.objects.all():
        found[(row.month, row.vendor_id, row.override_type)] += row.incidents
    assert found == grouped
    assert refresh.rows == StatsRollup.objects.count() + ResponseTimeRollup.objects.count()
    assert StatsRefresh.objects.latest() == refresh


def test_it_histograms_vendor_response_times():
    incidents = generate(900, seed=32)
    rollup.rebuild()
    notified = [i for i in counted(incidents) if i.vendor_notified_at]
    assert ResponseTimeRollup.objects.aggregate(n=Sum("incidents"))["n"] == len(notified)
    in_time = sum(
        1 for i in notified if i.first_vendor_response_at and i.first_vendor_response_at <= i.disclosure_deadline
    )
    assert ResponseTimeRollup.objects.aggregate(n=Sum("before_deadline"))["n"] == in_time
    unanswered = sum(1 for i in notified if not i.first_vendor_response_at)
    assert ResponseTimeRollup.objects.filter(days=rollup.NO_ANSWER).aggregate(n=Sum("incidents"))["n"] == unanswered
    days = Counter(
        (i.first_vendor_response_at - i.vendor_notified_at).days for i in notified if i.first_vendor_response_at
    )
    found = Counter()
    for row in ResponseTimeRollup.objects.exclude(days=rollup.NO_ANSWER):
        found[row.days] += row.incidents
    assert found == days


def test_it_refreshes_one_month_without_touching_the_others(make_incident):
    first = make_incident(Status.PUBLISHED)
    rollup.rebuild()
    month = rollup._as_month(first.published_at)
    other = StatsRollup.objects.create(
        month=date(2001, 1, 1),
        override_type="other",
        environment="production",
        context="other",
        severity_band="",
        intake_channel="web",
        reporter_type="end_user",
        incidents=5,
        reproductions=0,
    )
    make_incident(Status.PUBLISHED)
    rollup.refresh([month.isoformat()])
    assert StatsRollup.objects.filter(month=month).aggregate(n=Sum("incidents"))["n"] == 2
    assert StatsRollup.objects.filter(pk=other.pk).exists()


def test_it_refreshes_after_publication(make_incident, django_capture_on_commit_callbacks):
    cache.clear()
    incident = make_incident(Status.VENDOR_RESPONDED)
    rollup.rebuild()
    with django_capture_on_commit_callbacks(execute=True):
        event = workflow.transition(incident, Status.PUBLISHED, actor=None)
    month = rollup._as_month(incident.published_at)
    assert rollup.months_affected(event) == [month]
    # With no broker the refresh task runs in-process after the commit, and clears its pending mark.
    assert StatsRollup.objects.aggregate(n=Sum("incidents"))["n"] == 1
    assert cache.get(rollup._pending_key(month)) is None


def test_it_schedules_one_refresh_for_a_burst(make_incident, django_capture_on_commit_callbacks, monkeypatch):
    from incidents import tasks

    scheduled = []
    monkeypatch.setattr(
        tasks,
        "refresh_statistics",
        type("Task", (), {"apply_async": lambda *a, **k: scheduled.append(k)})(),
        raising=False,
    )
    cache.clear()
    incidents = [make_incident(Status.VENDOR_RESPONDED) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for incident in incidents:
            rollup.on_transition(workflow.transition(incident, Status.PUBLISHED, actor=None))
    assert len(scheduled) == 1  # the task has not started yet, so the pending mark holds


def test_it_schedules_nothing_for_changes_outside_publication(make_incident):
    incident = make_incident(Status.TRIAGE)
    event = workflow.transition(incident, Status.CONFIRMED, actor=None)
    assert rollup.months_affected(event) == []


def test_it_refreshes_the_canonical_month_when_a_duplicate_is_merged(make_incident):
    canonical = make_incident(Status.PUBLISHED)
    duplicate = make_incident(Status.TRIAGE)
    event = workflow.merge_duplicate(duplicate, canonical, actor=None, reproduction=True)
    assert rollup.months_affected(event) == [rollup._as_month(canonical.published_at)]
    rollup.rebuild()
    assert StatsRollup.objects.aggregate(n=Sum("reproductions"))["n"] == 1
    assert StatsRollup.objects.aggregate(n=Sum("incidents"))["n"] == 1


def test_it_leaves_reopened_incidents_out(make_incident):
    incident = make_incident(Status.PUBLISHED)
    workflow.transition(incident, Status.TRIAGE, actor=None, reason="New evidence")
    rollup.rebuild()
    assert not StatsRollup.objects.exists()


def test_it_rebuilds_month_by_month_with_progress():
    generate(300, seed=33)
    calls = []
    refresh = rollup.rebuild(progress=lambda done, total: calls.append((done, total)))
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 0
    by_month = StatsRollup.objects.aggregate(n=Sum("incidents"))["n"]
    rollup.rebuild()
    assert StatsRollup.objects.aggregate(n=Sum("incidents"))["n"] == by_month
    assert refresh.rows > 0


def test_it_puts_each_month_in_utc():
    assert rollup._as_month(datetime(2026, 3, 31, 23, 30, tzinfo=UTC) + timedelta(hours=1)) == date(2026, 4, 1)
    assert rollup._as_month("2026-02-01") == date(2026, 2, 1)
