import pytest

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


def test_it_lists_with_bounded_queries(client, make_incident, django_assert_max_num_queries):
    for _ in range(20):
        make_incident(Status.PUBLISHED)
    with django_assert_max_num_queries(3):
        assert len(client.get("/api/v1/incidents/").json()["results"]) == 20


def test_it_publishes_an_openapi_schema_and_offline_docs(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert b"/api/v1/incidents/" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"//cdn" not in docs.content and b"unpkg" not in docs.content
