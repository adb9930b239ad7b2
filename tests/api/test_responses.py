import pytest

from incidents.models import IncidentEvent, Status, VendorResponse

pytestmark = pytest.mark.django_db

VECTOR = "OVR:1.0/IN:P/AC:T/RV:C/SC:U/HM:L/DC:D/AK:N"


def url(incident) -> str:
    return f"/api/v1/incidents/{incident.public_id}/responses/"


@pytest.fixture
def notified(make_incident, acme_system):
    return make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system)


def test_it_records_the_vendors_first_answer(api, notified, acme_member):
    response = api.post(url(notified), {"kind": "acknowledged"}, format="json", **acme_member.headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "vendor_responded" and body["response"]["kind"] == "acknowledged"
    notified.refresh_from_db()
    assert notified.status == Status.VENDOR_RESPONDED
    assert VendorResponse.objects.get().author == acme_member.user
    assert notified.events.filter(action=IncidentEvent.Action.VENDOR_RESPONSE).count() == 1


def test_it_publishes_a_statement_and_keeps_the_vendors_severity(api, notified, acme_member):
    body = {"kind": "statement", "text": "Fixed in version 2.1.", "severity": VECTOR}
    response = api.post(url(notified), body, format="json", **acme_member.headers)
    assert response.status_code == 201
    assert response.json()["vendor_vector"] == VECTOR
    notified.refresh_from_db()
    assert notified.vendor_statement == "Fixed in version 2.1." and notified.vendor_severity_vector == VECTOR


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "shrug"}, "kind"),
        ({}, "kind"),
        ({"kind": "fixed", "severity": "OVR:9"}, "severity"),
        ({"kind": "disputed"}, "detail"),
        ({"kind": "statement", "text": "   "}, "detail"),
    ],
)
def test_it_refuses_bad_answers_and_changes_nothing(api, notified, acme_member, body, field):
    response = api.post(url(notified), body, format="json", **acme_member.headers)
    assert response.status_code == 400 and field in response.json()
    notified.refresh_from_db()
    assert notified.status == Status.VENDOR_NOTIFIED and not VendorResponse.objects.exists()


def test_it_hides_another_vendors_embargoed_incident_as_404(api, notified, globex_member):
    response = api.post(url(notified), {"kind": "acknowledged"}, format="json", **globex_member.headers)
    assert response.status_code == 404
    assert not VendorResponse.objects.exists()


def test_it_refuses_other_callers_on_a_public_incident_with_403(
    api, make_incident, acme_system, globex_member, analyst, staff
):
    published = make_incident(Status.PUBLISHED, ai_system=acme_system)
    for caller in (globex_member, analyst, staff):
        response = api.post(url(published), {"kind": "acknowledged"}, format="json", **caller.headers)
        assert response.status_code == 403, caller.user
    assert not VendorResponse.objects.exists()


def test_it_asks_anonymous_callers_to_authenticate_only_where_they_can_see(api, notified, make_incident, acme_system):
    assert api.post(url(notified), {"kind": "acknowledged"}, format="json").status_code == 404
    published = make_incident(Status.PUBLISHED, ai_system=acme_system)
    assert api.post(url(published), {"kind": "acknowledged"}, format="json").status_code == 401


def test_it_does_not_let_a_vendor_answer_before_notification(api, make_incident, acme_system, acme_member):
    confirmed = make_incident(Status.CONFIRMED, ai_system=acme_system)
    response = api.post(url(confirmed), {"kind": "acknowledged"}, format="json", **acme_member.headers)
    assert response.status_code == 404
