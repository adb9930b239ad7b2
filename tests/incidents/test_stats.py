import pytest
from django.utils import timezone

from incidents import stats
from incidents.models import Incident, Status

pytestmark = pytest.mark.django_db


def test_it_counts_published_incidents_only(client, make_incident):
    make_incident(Status.PUBLISHED, override_type="coercion")
    make_incident(Status.RESOLVED, override_type="coercion")
    make_incident(Status.PUBLISHED, override_type="deception")
    for status in (Status.SUBMITTED, Status.CONFIRMED, Status.VENDOR_RESPONDED):
        make_incident(status, override_type="coercion")
    by_type = {row.label: row.count for row in stats.by_override_type()}
    assert by_type["Coercion or manipulation"] == 2
    assert by_type["Deception about actions"] == 1
    assert sum(by_type.values()) == stats.total() == 3


def test_it_groups_by_month_of_publication(make_incident):
    first, second = make_incident(Status.PUBLISHED), make_incident(Status.PUBLISHED)
    Incident.objects.filter(pk=first.pk).update(published_at=timezone.datetime(2026, 1, 15, tzinfo=timezone.UTC))
    Incident.objects.filter(pk=second.pk).update(published_at=timezone.datetime(2026, 3, 2, tzinfo=timezone.UTC))
    assert [(row.label, row.count) for row in stats.by_month()] == [("2026-01", 1), ("2026-03", 1)]


def test_it_renders_tables_with_the_figures(client, make_incident):
    make_incident(Status.PUBLISHED, override_type="reward_hacking")
    make_incident(Status.TRIAGE, override_type="reward_hacking")
    response = client.get("/stats/")
    assert response.status_code == 200
    rows = {row.label: row.count for row in response.context["by_type"]}
    assert rows["Reward hacking / specification gaming"] == 1
    assert b"published and resolved incidents only" in response.content
