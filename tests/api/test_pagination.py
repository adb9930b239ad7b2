"""Keyset pages of GET /api/v1/incidents/: every row the caller may see, exactly once, in order.

Pages are read as index ranges: a bound on the sort field besides the exact keyset test, and the
missing values (sorted as the largest) as a block of their own. These tests walk whole lists across
ties, missing values and the boundary between the two blocks, forwards and back.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db.models import Q

from incidents.models import PUBLIC_STATUSES, Incident, Status

pytestmark = pytest.mark.django_db

SAME_TIME = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
ORDERINGS = ["-published_at", "published_at", "-severity", "severity"]


@pytest.fixture
def incidents(make_incident, acme_system, globex_system) -> list[Incident]:
    """Public incidents sharing a publication time and a score, unrated ones, and unpublished ones."""
    public = [make_incident(Status.PUBLISHED, ai_system=acme_system) for _ in range(4)]
    public += [make_incident(Status.RESOLVED, ai_system=globex_system) for _ in range(2)]
    hidden = [
        make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system),
        make_incident(Status.VENDOR_RESPONDED, ai_system=acme_system),
        make_incident(Status.VENDOR_NOTIFIED, ai_system=globex_system),
        make_incident(Status.TRIAGE),
        make_incident(Status.SUBMITTED),
    ]
    # Ties on both sort fields, so pages break inside a run of equal values.
    Incident.objects.filter(pk__in=[i.pk for i in public[1:5]]).update(published_at=SAME_TIME)
    rated = [public[0], public[2], public[3], hidden[0], hidden[3]]
    Incident.objects.filter(pk__in=[i.pk for i in rated]).update(severity_score=Decimal("7.5"))
    Incident.objects.filter(pk=public[5].pk).update(severity_score=Decimal("2.0"))
    return [*public, *hidden]


def expected(ordering: str, rows) -> list[str]:
    """The list's order: the field (a missing value is the largest), then the id, both the same way."""
    field = {"published_at": "published_at", "severity": "severity_score"}[ordering.lstrip("-")]
    present = sorted((getattr(r, field), r.pk, r.public_id) for r in rows if getattr(r, field) is not None)
    missing = sorted((r.pk, r.public_id) for r in rows if getattr(r, field) is None)
    ascending = [public_id for *_, public_id in present] + [public_id for _, public_id in missing]
    return ascending[::-1] if ordering.startswith("-") else ascending


def walk(api, headers: dict, ordering: str, page_size: int) -> tuple[list[str], list[str]]:
    """Every page by its next link, then back from the last page by the previous links."""
    forward, pages = [], []
    url, params = "/api/v1/incidents/", {"page_size": page_size, "ordering": ordering}
    while url:
        response = api.get(url, params, **headers)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body)
        forward += [item["public_id"] for item in body["results"]]
        url, params = body["next"], None
    backward = [item["public_id"] for item in pages[-1]["results"]]
    url = pages[-1]["previous"]
    while url:
        body = api.get(url, **headers).json()
        backward = [item["public_id"] for item in body["results"]] + backward
        url = body["previous"]
    return forward, backward


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("page_size", [1, 2, 4])
def test_it_gives_staff_every_incident_once_across_missing_values_and_ties(api, incidents, staff, ordering, page_size):
    forward, backward = walk(api, staff.headers, ordering, page_size)
    assert forward == expected(ordering, Incident.objects.all())
    assert len(set(forward)) == len(incidents) == 11
    assert backward == forward


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_it_gives_the_public_every_public_incident_once(api, incidents, ordering):
    forward, backward = walk(api, {}, ordering, 2)
    assert forward == expected(ordering, Incident.objects.published())
    assert len(forward) == 6
    assert backward == forward


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_it_gives_a_vendor_its_own_unpublished_incidents_and_the_public_ones_once(
    api, incidents, acme_member, acme_system, ordering
):
    own = Q(ai_system=acme_system, status__in=[Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED])
    forward, backward = walk(api, acme_member.headers, ordering, 3)
    assert forward == expected(ordering, Incident.objects.filter(own | Q(status__in=PUBLIC_STATUSES)))
    assert len(forward) == 8
    assert backward == forward


def test_it_continues_after_a_tie_with_the_rows_of_the_same_time(api, incidents):
    # The first page ends inside the run of four incidents published at the same time.
    first = api.get("/api/v1/incidents/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    shown = [item["public_id"] for item in first["results"] + second["results"]]
    assert shown == expected("-published_at", Incident.objects.published())[:4]
    assert {item["published_at"] for item in second["results"]} == {"2026-02-01T12:00:00Z"}
