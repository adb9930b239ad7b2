"""The incident list builds its items from rows (``list_items``); they must be what the serializer writes.

``IncidentListSerializer`` is the documented response and serves the detail endpoint; the list's
fast path writes the same items without it. These tests compare the two byte for byte, through the
standard DRF JSON renderer, for every kind of caller, so that neither can change without the other.
"""

from datetime import UTC, datetime

import pytest
from rest_framework.renderers import JSONRenderer

from api.serializers import IncidentListSerializer
from incidents.models import Incident, Status

pytestmark = pytest.mark.django_db

HIGH = "OVR:1.0/IN:E/AC:M/RV:I/SC:T/HM:C/DC:C/AK:Y"
LOW = "OVR:1.0/IN:I/AC:O/RV:R/SC:S/HM:N/DC:D/AK:Y"


@pytest.fixture
def incidents(make_incident, acme_system, globex_system) -> dict[str, Incident]:
    """Every shape an item takes: rated by one, two or three parties or not at all, with and without
    a linked system, odd text, a missing version, times with and without microseconds."""
    made = {
        "rated_by_all": make_incident(Status.PUBLISHED, ai_system=acme_system, system_version_reported="2.1"),
        "unrated": make_incident(Status.RESOLVED, ai_system=globex_system, system_version_reported=""),
        "odd_text": make_incident(
            Status.PUBLISHED,
            title='Agent wrote "done"\u2028then \\ deleted <all> — ünïcode 🙂',
            system_name_reported="Ünï\u2029Bot",
        ),
        "acme_notified": make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system),
        "acme_responded": make_incident(Status.VENDOR_RESPONDED, ai_system=acme_system),
        "globex_notified": make_incident(Status.VENDOR_NOTIFIED, ai_system=globex_system),
        "triage": make_incident(Status.TRIAGE),
        "submitted": make_incident(Status.SUBMITTED, environment="evaluation", context="coding_agent"),
    }
    ratings = {
        "rated_by_all": {
            "reporter_severity_vector": LOW,
            "triager_severity_vector": HIGH,
            "vendor_severity_vector": LOW,
        },
        "odd_text": {"reporter_severity_vector": HIGH},
        "acme_responded": {"vendor_severity_vector": HIGH},
        "triage": {"reporter_severity_vector": LOW, "triager_severity_vector": LOW},
    }
    for name, vectors in ratings.items():
        for field, vector in vectors.items():
            setattr(made[name], field, vector)
        made[name].save()  # the effective score and band follow from the vectors
    # A publication time on a whole second: written without microseconds.
    Incident.objects.filter(pk=made["unrated"].pk).update(published_at=datetime(2026, 2, 1, 12, 0, tzinfo=UTC))
    return made


def serialized(response) -> bytes:
    """The same page as IncidentListSerializer writes it, rendered by DRF's own JSON renderer."""
    body = response.json()
    ids = [item["public_id"] for item in body["results"]]
    by_id = {i.public_id: i for i in Incident.objects.select_related("vendor", "ai_system").filter(public_id__in=ids)}
    items = IncidentListSerializer(
        [by_id[public_id] for public_id in ids], many=True, context={"request": response.wsgi_request}
    ).data
    return JSONRenderer().render({"next": body["next"], "previous": body["previous"], "results": items})


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("anonymous", {"rated_by_all", "unrated", "odd_text"}),
        ("acme_member", {"rated_by_all", "unrated", "odd_text", "acme_notified", "acme_responded"}),
        ("staff", None),  # everything
    ],
)
def test_it_writes_what_the_serializer_writes_for_every_caller(api, incidents, who, sees, request):
    headers = {} if who == "anonymous" else request.getfixturevalue(who).headers
    response = api.get("/api/v1/incidents/", {"page_size": 100}, **headers)
    assert response.status_code == 200
    expected = {incidents[name].public_id for name in (sees or incidents)}
    assert {item["public_id"] for item in response.json()["results"]} == expected
    assert response.content == serialized(response)


@pytest.mark.parametrize("ordering", ["-published_at", "severity", "modified"])
def test_it_writes_what_the_serializer_writes_on_every_page(api, incidents, staff, ordering):
    url, params, pages = "/api/v1/incidents/", {"page_size": 3, "ordering": ordering}, 0
    while url:
        response = api.get(url, params, **staff.headers)
        assert response.content == serialized(response)
        url, params, pages = response.json()["next"], None, pages + 1
    assert pages == 3
