import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Status

pytestmark = pytest.mark.django_db


def test_it_lists_published_incidents_only(client, make_incident):
    published = make_incident(Status.PUBLISHED)
    hidden = make_incident(Status.VENDOR_RESPONDED)
    body = client.get("/api/v1/incidents/").json()
    ids = [item["public_id"] for item in body["results"]]
    assert ids == [published.public_id]
    assert hidden.public_id not in str(body)
    item = body["results"][0]
    assert item["url"].endswith(f"/api/v1/incidents/{published.public_id}/")
    assert set(item["severity"]) == {"score", "band", "reporter_vector", "triager_vector", "vendor_vector"}


def test_it_hides_unpublished_incidents_as_404(client, make_incident):
    incident = make_incident(Status.VENDOR_NOTIFIED)
    assert client.get(f"/api/v1/incidents/{incident.public_id}/").status_code == 404


def test_it_never_exposes_the_reporter(client, make_incident):
    incident = make_incident(Status.PUBLISHED, email="hidden.reporter@example.org")
    detail = client.get(f"/api/v1/incidents/{incident.public_id}/")
    assert detail.status_code == 200
    assert b"hidden.reporter" not in detail.content
    assert incident.receipt_token.encode() not in detail.content


def test_it_filters_and_rejects_bad_filters(client, make_incident):
    make_incident(Status.PUBLISHED, environment="evaluation")
    make_incident(Status.PUBLISHED, environment="production")
    assert len(client.get("/api/v1/incidents/", {"environment": "evaluation"}).json()["results"]) == 1
    assert client.get("/api/v1/incidents/", {"environment": "moon"}).status_code == 400


def test_it_lists_a_page_in_one_query(client, make_incident, django_assert_num_queries):
    for _ in range(30):
        make_incident(Status.PUBLISHED)
    # One statement: the page's ids in a subquery, and those rows with their joins.
    with django_assert_num_queries(1):
        first = client.get("/api/v1/incidents/").json()
    assert len(first["results"]) == 25
    with django_assert_num_queries(1):
        assert len(client.get(first["next"]).json()["results"]) == 5


def test_it_keeps_the_browsable_api(client, make_incident):
    incident = make_incident(Status.PUBLISHED, title="Agent ignored <stop> & kept going")
    page = client.get("/api/v1/incidents/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert incident.public_id.encode() in page.content
    # The title is shown as text inside the indented JSON, never as markup.
    assert b"&lt;stop&gt; &amp; kept going" in page.content and b"<stop>" not in page.content


def test_it_publishes_an_openapi_schema_and_offline_docs(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert b"/api/v1/incidents/" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"//cdn" not in docs.content and b"unpkg" not in docs.content


# ---------------------------------------------------------------------------------------------
# Who sees what


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["public_id"] for item in response.json()["results"]}


@pytest.fixture
def spread(make_incident, acme_system, globex_system):
    """Acme's incidents at every status from confirmed on, one of Globex's, and a public one."""
    return {
        "acme_confirmed": make_incident(Status.CONFIRMED, ai_system=acme_system),
        "acme_notified": make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system),
        "acme_responded": make_incident(Status.VENDOR_RESPONDED, ai_system=acme_system),
        "globex_notified": make_incident(Status.VENDOR_NOTIFIED, ai_system=globex_system),
        "submitted": make_incident(Status.SUBMITTED),
        "published": make_incident(Status.PUBLISHED, ai_system=globex_system),
    }


def test_it_shows_anonymous_callers_public_incidents_only(api, spread):
    assert _ids(api.get("/api/v1/incidents/")) == {spread["published"].public_id}


def test_it_shows_a_vendor_its_own_incidents_from_notification_on(api, spread, acme_member):
    ids = _ids(api.get("/api/v1/incidents/", **acme_member.headers))
    expected = {spread[name].public_id for name in ("acme_notified", "acme_responded", "published")}
    assert ids == expected


def test_it_never_shows_a_vendor_another_vendors_incidents(api, spread, globex_member, acme_member):
    ids = _ids(api.get("/api/v1/incidents/", **globex_member.headers))
    assert ids == {spread["globex_notified"].public_id, spread["published"].public_id}
    for name in ("acme_notified", "acme_responded"):
        public_id = spread[name].public_id
        assert api.get(f"/api/v1/incidents/{public_id}/", **globex_member.headers).status_code == 404
        assert api.get(f"/api/v1/incidents/{public_id}/transcript/", **globex_member.headers).status_code == 404
    hidden = spread["globex_notified"].public_id
    assert api.get(f"/api/v1/incidents/{hidden}/", **acme_member.headers).status_code == 404


def test_it_shows_analysts_what_the_public_sees(api, spread, analyst):
    assert _ids(api.get("/api/v1/incidents/", **analyst.headers)) == {spread["published"].public_id}


def test_it_shows_staff_everything(api, spread, staff):
    assert _ids(api.get("/api/v1/incidents/", **staff.headers)) == {i.public_id for i in spread.values()}
    detail = api.get(f"/api/v1/incidents/{spread['submitted'].public_id}/", **staff.headers)
    assert detail.status_code == 200


def test_it_answers_404_for_an_unknown_id(api, staff):
    assert api.get("/api/v1/incidents/AIO-1999-00001/", **staff.headers).status_code == 404


# ---------------------------------------------------------------------------------------------
# Filters


def test_it_offers_status_only_within_what_the_caller_sees(api, spread, acme_member, staff):
    # The public cannot even name an unpublished status.
    response = api.get("/api/v1/incidents/", {"status": "submitted"})
    assert response.status_code == 400 and "status" in response.json()
    assert _ids(api.get("/api/v1/incidents/", {"status": "published"})) == {spread["published"].public_id}
    vendor = api.get("/api/v1/incidents/", {"status": "vendor_notified"}, **acme_member.headers)
    assert _ids(vendor) == {spread["acme_notified"].public_id}
    assert _ids(api.get("/api/v1/incidents/", {"status": "submitted"}, **staff.headers)) == {
        spread["submitted"].public_id
    }


def test_it_filters_by_vendor_system_type_environment_and_context(api, make_incident, acme_system, globex_system):
    acme = make_incident(
        Status.PUBLISHED,
        ai_system=acme_system,
        override_type="shutdown_resisted",
        environment="evaluation",
        context="coding_agent",
    )
    globex = make_incident(Status.PUBLISHED, ai_system=globex_system)
    assert _ids(api.get("/api/v1/incidents/", {"vendor": "acme"})) == {acme.public_id}
    assert _ids(api.get("/api/v1/incidents/", {"system": "globex-agent"})) == {globex.public_id}
    assert _ids(api.get("/api/v1/incidents/", {"override_type": "shutdown_resisted"})) == {acme.public_id}
    assert _ids(api.get("/api/v1/incidents/", {"environment": "production"})) == {globex.public_id}
    assert _ids(api.get("/api/v1/incidents/", {"context": "coding_agent"})) == {acme.public_id}
    assert _ids(api.get("/api/v1/incidents/", {"exclude_lab": "true"})) == {globex.public_id}
    assert api.get("/api/v1/incidents/", {"vendor": "nobody"}).status_code == 400


def _rated(incident, vector: str):
    incident.triager_severity_vector = vector
    incident.save()
    return incident


def test_it_filters_by_severity_score_and_band(api, make_incident):
    low = _rated(make_incident(Status.PUBLISHED), "OVR:1.0/IN:I/AC:O/RV:R/SC:S/HM:N/DC:D/AK:Y")
    high = _rated(make_incident(Status.PUBLISHED), "OVR:1.0/IN:E/AC:M/RV:I/SC:T/HM:C/DC:C/AK:Y")
    unrated = make_incident(Status.PUBLISHED)
    assert low.severity_score < 4 and high.severity_score >= 9
    assert _ids(api.get("/api/v1/incidents/", {"score_min": "5"})) == {high.public_id}
    assert _ids(api.get("/api/v1/incidents/", {"score_max": "4"})) == {low.public_id}
    assert _ids(api.get("/api/v1/incidents/", {"severity_band": "critical"})) == {high.public_id}
    assert unrated.public_id not in _ids(api.get("/api/v1/incidents/", {"score_min": "0"}))
    backwards = api.get("/api/v1/incidents/", {"score_min": "8", "score_max": "2"})
    assert backwards.status_code == 400 and "score_max" in backwards.json()
    assert api.get("/api/v1/incidents/", {"score_min": "11"}).status_code == 400


def test_it_filters_by_occurred_and_published_dates(api, make_incident):
    from datetime import date, datetime, timedelta

    from django.utils import timezone

    from incidents.models import Incident

    old = make_incident(Status.PUBLISHED, occurred_on=date(2025, 1, 10))
    new = make_incident(Status.PUBLISHED, occurred_on=date(2026, 2, 10))
    Incident.objects.filter(pk=old.pk).update(published_at=timezone.make_aware(datetime(2025, 2, 1, 23, 30)))
    Incident.objects.filter(pk=new.pk).update(published_at=timezone.now() - timedelta(days=1))
    assert _ids(api.get("/api/v1/incidents/", {"occurred_after": "2026-01-01"})) == {new.public_id}
    assert _ids(api.get("/api/v1/incidents/", {"occurred_before": "2025-12-31"})) == {old.public_id}
    # Whole days: the day given is included at both ends.
    assert _ids(api.get("/api/v1/incidents/", {"published_before": "2025-02-01"})) == {old.public_id}
    assert _ids(api.get("/api/v1/incidents/", {"published_after": "2025-02-02"})) == {new.public_id}
    assert api.get("/api/v1/incidents/", {"occurred_after": "yesterday"}).status_code == 400
    assert api.get("/api/v1/incidents/", {"published_before": "9999-12-31"}).status_code == 200


def test_it_syncs_incrementally_with_modified_since(api, make_incident):
    from datetime import timedelta

    from django.utils import timezone

    from incidents.models import Incident

    before = make_incident(Status.PUBLISHED)
    Incident.objects.filter(pk=before.pk).update(modified=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    after = make_incident(Status.PUBLISHED)
    response = api.get("/api/v1/incidents/", {"modified_since": since, "ordering": "modified"})
    assert _ids(response) == {after.public_id}
    assert api.get("/api/v1/incidents/", {"modified_since": "last week"}).status_code == 400


def test_it_takes_modified_since_with_any_offset(api, make_incident):
    incident = make_incident(Status.PUBLISHED)
    # ISO 8601 allows offsets that PostgreSQL refuses (beyond ±15:59): the time is compared in UTC.
    assert _ids(api.get("/api/v1/incidents/", {"modified_since": "2000-01-01T00:00:00-21:33"})) == {incident.public_id}
    refused = api.get("/api/v1/incidents/", {"modified_since": "0001-01-01T00:00:00+01:00"})
    assert refused.status_code == 400
    assert refused.json() == {"modified_since": ["Give a time from the year 1 to 9999 in UTC."]}


def test_it_searches_full_text(api, make_incident):
    match = make_incident(Status.PUBLISHED, title="Agent rewrote the shutdown script")
    make_incident(Status.PUBLISHED, title="Agent deleted mail", instruction="keep it", action_taken="deleted")
    assert _ids(api.get("/api/v1/incidents/", {"q": "shutdown"})) == {match.public_id}


# ---------------------------------------------------------------------------------------------
# Ordering and pages


def test_it_walks_pages_forwards_and_back(api, make_incident):
    made = [make_incident(Status.PUBLISHED, title=f"Incident {n}").public_id for n in range(5)]
    first = api.get("/api/v1/incidents/", {"page_size": 2}).json()
    assert [i["public_id"] for i in first["results"]] == made[::-1][:2]
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    assert [i["public_id"] for i in second["results"] + third["results"]] == made[::-1][2:]
    assert third["next"] is None
    back = api.get(third["previous"]).json()
    assert back["results"] == second["results"]


def test_it_pages_through_missing_values_without_losing_rows(api, make_incident, staff):
    published = [make_incident(Status.PUBLISHED) for _ in range(3)]
    unpublished = [make_incident(Status.TRIAGE) for _ in range(3)]
    # Some rated, some not: ties and missing values on every page boundary.
    _rated(published[0], "OVR:1.0/IN:E/AC:M/RV:I/SC:T/HM:C/DC:C/AK:Y")
    _rated(unpublished[1], "OVR:1.0/IN:E/AC:M/RV:I/SC:T/HM:C/DC:C/AK:Y")
    for ordering in ("-published_at", "published_at", "-severity", "severity"):
        seen, url, params = [], "/api/v1/incidents/", {"page_size": 2, "ordering": ordering}
        while url:
            body = api.get(url, params, **staff.headers).json()
            seen += [item["public_id"] for item in body["results"]]
            url, params = body["next"], None
        assert sorted(seen) == sorted(i.public_id for i in published + unpublished), ordering
        assert len(seen) == 6


def test_it_orders_by_the_fields_it_names(api, make_incident):
    from datetime import date

    early = make_incident(Status.PUBLISHED, occurred_on=date(2024, 1, 1))
    late = make_incident(Status.PUBLISHED, occurred_on=date(2025, 1, 1))
    ascending = api.get("/api/v1/incidents/", {"ordering": "occurred_on"}).json()["results"]
    assert [i["public_id"] for i in ascending] == [early.public_id, late.public_id]
    response = api.get("/api/v1/incidents/", {"ordering": "title"})
    assert response.status_code == 400 and "ordering" in response.json()


def test_it_refuses_bad_cursors_and_page_sizes(api, make_incident):
    make_incident(Status.PUBLISHED)
    make_incident(Status.PUBLISHED)
    assert api.get("/api/v1/incidents/", {"cursor": "garbage"}).status_code == 400
    assert api.get("/api/v1/incidents/", {"page_size": "lots"}).status_code == 400
    assert api.get("/api/v1/incidents/", {"page_size": "0"}).status_code == 400
    next_url = api.get("/api/v1/incidents/", {"page_size": 1}).json()["next"]
    # A cursor made for one ordering is refused under another.
    assert api.get(next_url + "&ordering=created").status_code == 400


def test_it_caps_the_page_size(rf):
    from rest_framework.request import Request

    from api.pagination import IncidentCursorPagination

    paginator = IncidentCursorPagination()
    assert paginator._page_size(Request(rf.get("/", {"page_size": "100000"}))) == 100
    assert paginator._page_size(Request(rf.get("/"))) == 25


# ---------------------------------------------------------------------------------------------
# Fields


def test_it_lists_the_documented_fields(api, make_incident, acme_system):
    incident = make_incident(Status.PUBLISHED, ai_system=acme_system)
    item = api.get("/api/v1/incidents/").json()["results"][0]
    assert {
        "public_id",
        "url",
        "status",
        "title",
        "vendor",
        "ai_system",
        "override_type",
        "environment",
        "context",
        "severity",
        "occurred_on",
        "published_at",
        "modified",
    } <= set(item)
    assert item["vendor"] == "acme" and item["ai_system"] == "acme-agent"
    assert item["public_id"] == incident.public_id and item["status"] == "published"


def test_it_gives_the_full_public_record(api, make_incident, acme_system):
    incident = make_incident(Status.PUBLISHED, ai_system=acme_system, references="https://example.org/a\n")
    incident.vendor_statement = "We fixed it in 2.1."
    incident.save()
    body = api.get(f"/api/v1/incidents/{incident.public_id}/").json()
    assert body["instruction"] == incident.instruction and body["action_taken"] == incident.action_taken
    assert body["references"] == ["https://example.org/a"]
    assert body["vendor_statement"] == "We fixed it in 2.1."
    assert [step["to_status"] for step in body["timeline"]] == [
        "confirmed",
        "vendor_notified",
        "vendor_responded",
        "published",
    ]
    assert body["transcript_url"].endswith(f"/api/v1/incidents/{incident.public_id}/transcript/")
    for staff_only in ("staff", "disclosure", "vendor_responses"):
        assert staff_only not in body


def test_it_gives_staff_only_fields_to_staff_only(api, make_incident, acme_system, acme_member, analyst, staff):
    from incidents import workflow

    incident = make_incident(Status.PUBLISHED, ai_system=acme_system, email="hidden.reporter@example.org")
    workflow.comment(incident, kind="internal", text="Internal: looks real.", actor=staff.user)
    url = f"/api/v1/incidents/{incident.public_id}/"
    for headers in ({}, acme_member.headers, analyst.headers):
        response = api.get(url, **headers)
        assert response.status_code == 200
        assert b"hidden.reporter" not in response.content
        assert b"Internal: looks real." not in response.content
        assert incident.receipt_token.encode() not in response.content
        assert "staff" not in response.json()
    body = api.get(url, **staff.headers).json()
    assert body["staff"]["reporter_contact"]["email"] == "hidden.reporter@example.org"
    assert [c["text"] for c in body["staff"]["comments"]] == ["Internal: looks real."]
    assert body["staff"]["history"][0]["action"] == "incident.submitted"


def test_it_shows_the_vendor_its_disclosure_deadline(api, make_incident, acme_system, acme_member, globex_member):
    incident = make_incident(Status.PUBLISHED, ai_system=acme_system)
    own = api.get(f"/api/v1/incidents/{incident.public_id}/", **acme_member.headers).json()
    assert own["disclosure"]["deadline"] and own["vendor_responses"] == []
    other = api.get(f"/api/v1/incidents/{incident.public_id}/", **globex_member.headers).json()
    assert "disclosure" not in other


def test_it_reads_a_detail_in_a_few_queries(api, make_incident, staff, django_assert_max_num_queries):
    incident = make_incident(Status.PUBLISHED)
    with django_assert_max_num_queries(3):
        assert api.get(f"/api/v1/incidents/{incident.public_id}/").status_code == 200
    # Token lookup, last-use stamp, incident, events, comments, notes, vendor responses.
    with django_assert_max_num_queries(8):
        assert api.get(f"/api/v1/incidents/{incident.public_id}/", **staff.headers).status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "acme_member", "staff"])
def test_it_lists_in_a_bounded_number_of_queries(
    api, make_incident, acme_system, who, request, django_assert_max_num_queries
):
    for n in range(15):
        make_incident(Status.PUBLISHED if n % 2 else Status.VENDOR_NOTIFIED, ai_system=acme_system)
    headers = {} if who == "anonymous" else request.getfixturevalue(who).headers
    api.get("/api/v1/incidents/", **headers)  # the token's last-use stamp is written once a minute
    # The token, the vendor filter's slug, then the page in one statement.
    with django_assert_max_num_queries(2 if who == "anonymous" else 3):
        body = api.get("/api/v1/incidents/", {"vendor": "acme", "page_size": 100}, **headers).json()
    assert len(body["results"]) >= 7
    with CaptureQueriesContext(connection) as small_page:
        api.get("/api/v1/incidents/", {"vendor": "acme", "page_size": 2}, **headers)
    with CaptureQueriesContext(connection) as large_page:
        api.get("/api/v1/incidents/", {"vendor": "acme", "page_size": 100}, **headers)
    assert len(small_page) == len(large_page)


# ---------------------------------------------------------------------------------------------
# Transcripts


def test_it_gives_the_redacted_transcript_with_its_marks(api, make_incident, acme_system, acme_member, staff):
    secret_line = "User: mail me at jane.doe@example.org but don't delete anything.\nAssistant: Deleted.\n"
    incident = make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system, transcript=secret_line)
    incident.transcripts.update(instruction_turn=0, violation_turns=[1])
    url = f"/api/v1/incidents/{incident.public_id}/transcript/"
    assert api.get(url).status_code == 404
    body = api.get(url, **acme_member.headers).json()
    transcript = body["transcripts"][0]
    assert transcript["redacted"] is True
    assert transcript["instruction_turn"] == 0 and transcript["violation_turns"] == [1]
    assert "jane.doe@example.org" not in str(transcript["turns"]) and "[EMAIL_1]" in transcript["turns"][0]["content"]
    original = api.get(url, **staff.headers).json()["transcripts"][0]
    assert original["redacted"] is False and "jane.doe@example.org" in original["turns"][0]["content"]


def test_it_publishes_a_schema_that_validates(api):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = schema["paths"]
    assert "post" in paths["/api/v1/incidents/"]
    assert {"/api/v1/incidents/{public_id}/responses/", "/api/v1/incidents/{public_id}/transitions/"} <= set(paths)
    assert "bearerAuth" in schema["components"]["securitySchemes"]
    parameters = {p["name"] for p in paths["/api/v1/incidents/"]["get"]["parameters"]}
    assert {"cursor", "ordering", "modified_since", "status", "score_min", "q"} <= parameters
