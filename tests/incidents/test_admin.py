import pytest

from incidents.models import AISystem, IncidentEvent, Status, Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def change_data(incident, **overrides):
    data = {
        "title": incident.title,
        "system_name_reported": incident.system_name_reported,
        "system_version_reported": "",
        "agent_framework": "",
        "tool_permissions": "",
        "instruction": incident.instruction,
        "instruction_source": incident.instruction_source,
        "action_taken": incident.action_taken,
        "reversibility": incident.reversibility,
        "acknowledged": incident.acknowledged,
        "override_type": incident.override_type,
        "secondary_override_types": "[]",
        "harms": "",
        "context": incident.context,
        "environment": incident.environment,
        "occurred_on": incident.occurred_on.isoformat(),
        "references": "",
        "reporter_severity_vector": "",
        "triager_severity_vector": "",
        "vendor_severity_vector": "",
        "reporter_type": incident.reporter_type,
        "intake_channel": incident.intake_channel,
        "ai_system": "",
        "transition_to": "",
        "transition_reason": "",
    }
    for prefix in ("reporter_contact", "reporter_notes", "transcripts", "events"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(overrides)
    return data


def test_it_moves_an_incident_through_the_workflow(staff_client, make_incident):
    incident = make_incident()
    response = staff_client.post(
        f"/admin/incidents/incident/{incident.pk}/change/", change_data(incident, transition_to="triage")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident.refresh_from_db()
    assert incident.status == Status.TRIAGE
    assert incident.events.filter(action=IncidentEvent.Action.TRANSITION, to_status=Status.TRIAGE).count() == 1


def test_it_refuses_a_rejection_without_reason(staff_client, make_incident):
    incident = make_incident()
    response = staff_client.post(
        f"/admin/incidents/incident/{incident.pk}/change/", change_data(incident, transition_to="rejected")
    )
    assert response.status_code == 200
    assert "needs a reason" in str(response.context["adminform"].form.errors)
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_it_links_the_canonical_system_and_rates_severity(staff_client, make_incident):
    vendor = Vendor.objects.create(name="Acme", slug="acme")
    system = AISystem.objects.create(vendor=vendor, name="Agent", slug="agent")
    incident = make_incident()
    vector = "OVR:1.0/IN:E/AC:M/RV:I/SC:T/HM:C/DC:C/AK:Y"
    response = staff_client.post(
        f"/admin/incidents/incident/{incident.pk}/change/",
        change_data(incident, ai_system=str(system.pk), triager_severity_vector=vector),
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.vendor == vendor
    assert incident.triager_severity_vector == vector
    assert incident.severity_band == "critical"
    assert incident.events.filter(action=IncidentEvent.Action.SYSTEM_LINKED).count() == 1


def test_it_refuses_a_bad_vector(staff_client, make_incident):
    incident = make_incident()
    response = staff_client.post(
        f"/admin/incidents/incident/{incident.pk}/change/",
        change_data(incident, triager_severity_vector="OVR:1.0/IN:Q"),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["triager_severity_vector"]


def test_it_never_deletes_incidents(staff_client, make_incident):
    incident = make_incident()
    response = staff_client.get(f"/admin/incidents/incident/{incident.pk}/delete/")
    assert response.status_code in (302, 403)
    assert incident.__class__.objects.filter(pk=incident.pk).exists()


def test_it_is_for_staff_only(client, make_incident):
    incident = make_incident()
    response = client.get(f"/admin/incidents/incident/{incident.pk}/change/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_it_shows_transcript_marks_and_terms_read_only(staff_client, make_incident):
    """Marks and redaction terms change on the triage page, where the history records them."""
    incident = make_incident()
    transcript = incident.transcripts.get()
    response = staff_client.get(f"/admin/incidents/incident/{incident.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="transcripts-0-instruction_turn"' not in html
    assert 'name="transcripts-0-redaction_terms"' not in html
    response = staff_client.post(
        f"/admin/incidents/incident/{incident.pk}/change/",
        change_data(
            incident,
            **{
                "transcripts-TOTAL_FORMS": "1",
                "transcripts-INITIAL_FORMS": "1",
                "transcripts-0-id": str(transcript.pk),
                "transcripts-0-incident": str(incident.pk),
                "transcripts-0-instruction_turn": "1",
                "transcripts-0-redaction_terms": '["Jane"]',
            },
        ),
    )
    assert response.status_code in (200, 302)
    transcript.refresh_from_db()
    assert transcript.instruction_turn is None and transcript.redaction_terms == []
