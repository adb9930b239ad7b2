"""GET /api/v1/stats/summary/ and /api/v1/stats/timeseries/."""

from collections import Counter

import pytest

from incidents import rollup, suppression
from incidents.models import Status
from tests.incidents.test_stats import counted, generate, month_of

pytestmark = pytest.mark.django_db


def test_it_summarises_published_incidents(client):
    incidents = generate(800, seed=11)
    rollup.rebuild()
    body = client.get("/api/v1/stats/summary/").json()
    public = counted(incidents)
    assert body["total"] == len(public)
    assert body["refreshed_at"]
    for name in ("override_type", "environment", "context"):
        expected = Counter(getattr(i, name) for i in public)
        assert {c["key"]: c["incidents"] for c in body[name]} == {
            k: expected[k] for k in (c["key"] for c in body[name])
        }
    bands = Counter(i.severity_band or "unrated" for i in public)
    assert {c["key"]: c["incidents"] for c in body["severity_band"]} == {
        k: bands[k] for k in ("none", "low", "medium", "high", "critical", "unrated")
    }


def test_it_suppresses_small_counts_when_filtered(client):
    incidents = generate(600, seed=12)
    rollup.rebuild()
    body = client.get("/api/v1/stats/summary/", {"vendor": "vendor-d"}).json()
    public = [i for i in counted(incidents) if i.vendor_id and i.vendor.slug == "vendor-d"]
    expected = Counter(i.override_type for i in public)
    for count in body["override_type"]:
        if suppression.is_small(expected[count["key"]]):
            assert count["suppressed"] and count["incidents"] is None
        if not count["suppressed"]:
            assert count["incidents"] == expected[count["key"]]


def test_it_gives_the_series_behind_each_chart(client):
    incidents = generate(700, seed=13)
    rollup.rebuild()
    body = client.get("/api/v1/stats/timeseries/", {"interval": "month", "group_by": "environment"}).json()
    public = counted(incidents)
    months = Counter(month_of(i) for i in public)
    cells = Counter((month_of(i), i.environment) for i in public)
    assert body["total"] == len(public)
    for point in body["series"]:
        assert point["total"] == months[point["month"]]
        for key, value in point["values"].items():
            if key in point["suppressed"]:
                assert (value is None and cells[(point["month"], key)] > 0) or value is None
            else:
                assert value == cells[(point["month"], key)]
    plain = client.get("/api/v1/stats/timeseries/").json()
    assert [p["month"] for p in plain["series"]] == sorted(months)


def test_it_names_every_bad_parameter_like_the_rest_of_the_api(client):
    response = client.get("/api/v1/stats/timeseries/", {"interval": "week", "group_by": "mood", "from": "2026-13"})
    assert response.status_code == 400
    assert response.json() == {
        "from": ["“2026-13” is not a month: write it as YYYY-MM, e.g. 2026-03."],
        "interval": ["Only interval=month is offered."],
        "group_by": [
            "Choose one of: override_type, severity_band, environment, context, intake_channel, reporter_type, "
            "vendor, ai_system."
        ],
    }
    summary = client.get("/api/v1/stats/summary/", {"environment": "moon"})
    assert summary.status_code == 400
    assert summary.json() == {"environment": ["Select a valid choice. moon is not one of the available choices."]}


def test_it_never_counts_unpublished_incidents(client, make_incident):
    make_incident(Status.PUBLISHED)
    make_incident(Status.VENDOR_NOTIFIED)
    make_incident(Status.TRIAGE)
    rollup.rebuild()
    assert client.get("/api/v1/stats/summary/").json()["total"] == 1


def test_it_is_cached_until_the_rollup_is_refreshed(client, make_incident, django_assert_max_num_queries):
    make_incident(Status.PUBLISHED)
    rollup.rebuild()
    assert client.get("/api/v1/stats/summary/").json()["total"] == 1
    make_incident(Status.PUBLISHED)
    with django_assert_max_num_queries(1):
        assert client.get("/api/v1/stats/summary/").json()["total"] == 1
    rollup.rebuild()
    assert client.get("/api/v1/stats/summary/").json()["total"] == 2


def test_it_is_documented_in_the_schema(client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="config.urls").get_schema(request=None, public=True)
    assert "/api/v1/stats/summary/" in schema["paths"]
    timeseries = schema["paths"]["/api/v1/stats/timeseries/"]["get"]
    assert {"interval", "group_by", "vendor", "from"} <= {p["name"] for p in timeseries["parameters"]}
