import pytest

from incidents.models import Status

pytestmark = pytest.mark.django_db


def test_it_shows_the_latest_published_incidents_and_counts(client, make_incident):
    published = make_incident(Status.PUBLISHED, title="Visible one")
    hidden = make_incident(Status.VENDOR_NOTIFIED, title="Embargoed one")
    response = client.get("/")
    assert response.status_code == 200
    assert b"Visible one" in response.content
    assert b"Embargoed one" not in response.content
    assert response.context["total"] == 1
    assert published.public_id.encode() in response.content
    assert hidden.public_id.encode() not in response.content
