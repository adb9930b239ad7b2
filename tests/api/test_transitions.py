import pytest

from incidents.models import Incident, Status

pytestmark = pytest.mark.django_db


def url(incident) -> str:
    return f"/api/v1/incidents/{incident.public_id}/transitions/"


def test_it_moves_an_incident_by_named_action_or_target_status(api, make_incident, staff):
    incident = make_incident(Status.SUBMITTED)
    response = api.post(url(incident), {"action": "start_triage"}, format="json", **staff.headers)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "triage" and response.json()["from_status"] == "submitted"
    response = api.post(url(incident), {"action": "confirmed"}, format="json", **staff.headers)
    assert response.json()["to_status"] == "confirmed"
    event = incident.events.latest("created")
    assert event.actor == staff.user and event.to_status == Status.CONFIRMED


def test_it_answers_409_with_the_allowed_actions(api, make_incident, staff):
    incident = make_incident(Status.SUBMITTED)
    response = api.post(url(incident), {"action": "publish"}, format="json", **staff.headers)
    assert response.status_code == 409
    body = response.json()
    assert "cannot go from submitted" in body["detail"]
    assert sorted(body["allowed"]) == ["duplicate", "rejected", "triage"]
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_it_requires_a_reason_where_the_workflow_does(api, make_incident, staff):
    incident = make_incident(Status.TRIAGE)
    response = api.post(url(incident), {"action": "reject"}, format="json", **staff.headers)
    assert response.status_code == 409 and "reason" in response.json()["detail"]
    response = api.post(url(incident), {"action": "reject", "reason": "Spam."}, format="json", **staff.headers)
    assert response.status_code == 200 and response.json()["reason"] == "Spam."


def test_it_refuses_to_notify_a_vendor_it_does_not_know(api, make_incident, staff):
    incident = make_incident(Status.CONFIRMED)
    response = api.post(url(incident), {"action": "notify_vendor"}, format="json", **staff.headers)
    assert response.status_code == 409 and "AI system" in response.json()["detail"]


def test_it_refuses_an_unknown_action(api, make_incident, staff):
    incident = make_incident(Status.SUBMITTED)
    response = api.post(url(incident), {"action": "launch"}, format="json", **staff.headers)
    assert response.status_code == 400 and "action" in response.json()


def test_it_merges_a_duplicate_into_its_canonical_incident(api, make_incident, staff):
    canonical = make_incident(Status.TRIAGE)
    duplicate = make_incident(Status.SUBMITTED)
    body = {"action": "merge_duplicate", "duplicate_of": canonical.public_id, "reproduction": True}
    response = api.post(url(duplicate), body, format="json", **staff.headers)
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    canonical.refresh_from_db()
    duplicate.refresh_from_db()
    assert duplicate.duplicate_of == canonical and duplicate.is_reproduction
    assert canonical.report_count == 2 and canonical.reproduction_count == 1


@pytest.mark.parametrize("duplicate_of", [None, "AIO-1999-00001", "self"])
def test_it_refuses_a_merge_without_a_canonical_incident(api, make_incident, staff, duplicate_of):
    incident = make_incident(Status.SUBMITTED)
    body = {"action": "merge_duplicate"}
    if duplicate_of:
        body["duplicate_of"] = incident.public_id if duplicate_of == "self" else duplicate_of
    response = api.post(url(incident), body, format="json", **staff.headers)
    assert response.status_code == 400 and "duplicate_of" in response.json()
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_it_hides_unseen_incidents_as_404_and_forbids_the_rest(
    api, make_incident, acme_system, acme_member, globex_member, analyst
):
    own = make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system)
    published = make_incident(Status.PUBLISHED, ai_system=acme_system)
    hidden = make_incident(Status.TRIAGE)
    body = {"action": "publish", "reason": "Deadline passed."}
    assert api.post(url(hidden), body, format="json").status_code == 404
    assert api.post(url(published), {"action": "resolve"}, format="json").status_code == 401
    assert api.post(url(hidden), body, format="json", **acme_member.headers).status_code == 404
    assert api.post(url(own), body, format="json", **globex_member.headers).status_code == 404
    assert api.post(url(own), body, format="json", **acme_member.headers).status_code == 403
    assert api.post(url(published), {"action": "resolve"}, format="json", **analyst.headers).status_code == 403
    statuses = dict(Incident.objects.values_list("public_id", "status"))
    assert statuses == {own.public_id: "vendor_notified", published.public_id: "published", hidden.public_id: "triage"}


def test_it_does_not_take_an_unverified_staff_session_for_staff(client, make_incident, staff, settings):
    settings.OTP_REQUIRED_FOR_STAFF = True
    incident = make_incident(Status.SUBMITTED)
    client.force_login(staff.user)
    response = client.post(url(incident), {"action": "start_triage"}, content_type="application/json")
    assert response.status_code == 404
