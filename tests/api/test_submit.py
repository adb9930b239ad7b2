import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.models import Incident, IntakeChannel, ReporterContact, Status

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"
VECTOR = "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"
TRANSCRIPT = "User: Summarise my inbox but don't delete anything.\nAssistant: Done. I deleted 212 emails.\n"


def report(**overrides) -> dict:
    body = {
        "title": "Email agent deleted mail after being told not to",
        "system_name_reported": "MailPilot",
        "instruction": "Summarise my inbox but don't delete anything.",
        "instruction_source": "user_turn",
        "action_taken": "It deleted 212 emails.",
        "reversibility": "irreversible",
        "acknowledged": "yes",
        "override_type": "prohibited_action",
        "context": "email_agent",
        "environment": "production",
        "occurred_on": "2026-03-01",
        "reporter_type": "end_user",
        "transcript": TRANSCRIPT,
        "instruction_turn": 0,
        "violation_turns": [1],
        "severity": VECTOR,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def test_it_files_an_anonymous_report(api, client):
    response = api.post(URL, report(secondary_override_types=["deception"]), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    incident = Incident.objects.get(public_id=body["public_id"])
    assert body["status"] == "submitted" and body["receipt_url"].endswith(incident.get_receipt_url())
    assert incident.intake_channel == IntakeChannel.API and incident.status == Status.SUBMITTED
    assert incident.reporter_severity_vector == VECTOR
    assert incident.secondary_override_types == ["deception"]
    transcript = incident.transcripts.get()
    assert transcript.format == "plain-text" and len(transcript.turns) == 2
    assert transcript.instruction_turn == 0 and transcript.violation_turns == [1]
    assert incident.events.get().action == "incident.submitted"
    assert client.get(incident.get_receipt_url()).status_code == 200


def test_it_files_a_monitors_report_through_its_token(api, monitor):
    response = api.post(URL, report(reporter_type="monitor"), format="json", **monitor.headers)
    assert response.status_code == 201
    assert Incident.objects.get(public_id=response.json()["public_id"]).intake_channel == IntakeChannel.MONITOR


def test_it_accepts_the_severity_as_seven_metrics(api):
    metrics = {
        "instruction": "E",
        "action": "T",
        "reversibility": "I",
        "scope": "U",
        "harm": "S",
        "disclosure": "O",
        "acknowledgement": "Y",
    }
    response = api.post(URL, report(severity=metrics), format="json")
    assert response.status_code == 201
    assert Incident.objects.get().reporter_severity_vector == VECTOR


def test_it_accepts_a_report_without_transcript_or_severity(api):
    response = api.post(
        URL, report(transcript=..., instruction_turn=..., violation_turns=..., severity=...), format="json"
    )
    assert response.status_code == 201
    incident = Incident.objects.get()
    assert incident.reporter_severity_vector == "" and not incident.transcripts.exists()


def test_it_accepts_references_as_a_list_or_lines(api):
    api.post(URL, report(references=["https://a.example/1", "https://b.example/2"]), format="json")
    api.post(URL, report(references="https://a.example/1\nhttps://b.example/2"), format="json")
    assert [i.reference_urls for i in Incident.objects.all()] == [["https://a.example/1", "https://b.example/2"]] * 2


def test_it_takes_the_transcript_as_a_multipart_file(api):
    body = report(transcript=..., severity=VECTOR, secondary_override_types=["deception", "scope_exceeded"])
    body["transcript_file"] = SimpleUploadedFile("chat.txt", TRANSCRIPT.encode())
    response = api.post(URL, body, format="multipart")
    assert response.status_code == 201, response.content
    incident = Incident.objects.get()
    transcript = incident.transcripts.get()
    assert transcript.original_filename == "chat.txt" and transcript.violation_turns == [1]
    assert incident.secondary_override_types == ["deception", "scope_exceeded"]


def test_it_keeps_the_reporters_email_for_staff_only(api, staff):
    response = api.post(URL, report(reporter_email="me@example.org"), format="json")
    assert b"me@example.org" not in response.content
    incident = Incident.objects.get()
    assert ReporterContact.objects.get(incident=incident).email == "me@example.org"
    detail = api.get(f"{URL}{incident.public_id}/", **staff.headers).json()
    assert detail["staff"]["reporter_contact"]["email"] == "me@example.org"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ...}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"override_type": "moon"}, "override_type"),
        ({"occurred_on": "2999-01-01"}, "occurred_on"),
        ({"occurred_on": "yesterday"}, "occurred_on"),
        ({"reporter_email": "not-an-email"}, "reporter_email"),
        ({"instruction": "x" * 10_001}, "instruction"),
        ({"title": ["a", "list"]}, "title"),
        ({"violation_turns": "1"}, "violation_turns"),
        ({"violation_turns": [True]}, "violation_turns"),
        ({"instruction_turn": 1.5}, "instruction_turn"),
        ({"severity": "OVR:1.0/IN:E"}, "severity"),
        ({"severity": {"instruction": "E"}}, "severity"),
        ({"severity": {"instruction": "Q", "action": "T"}}, "severity"),
        ({"severity": 7}, "severity"),
        ({"transcript": "no speaker labels at all", "transcript_format": "plain-text"}, "transcript"),
        ({"transcript_format": "klingon"}, "transcript_format"),
        ({"violation_turns": [9]}, "non_field_errors"),
        ({"severity_vector": VECTOR}, "severity_vector"),
        ({"website": "http://spam.example"}, "website"),
        ({"transcript_file": "not a file"}, "transcript_file"),
    ],
)
def test_it_refuses_bad_reports_naming_the_field(api, overrides, field):
    response = api.post(URL, report(**overrides), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors and all(isinstance(m, str) and m for m in errors[field]), errors
    assert not Incident.objects.exists()


def test_it_reports_every_error_at_once(api):
    response = api.post(URL, report(title=..., context="moon", severity={"instruction": "E"}), format="json")
    assert response.status_code == 400
    assert {"title", "context", "severity"} <= set(response.json())


def test_it_refuses_both_a_pasted_and_an_uploaded_transcript(api):
    body = report(severity=VECTOR)
    body["transcript_file"] = SimpleUploadedFile("chat.txt", TRANSCRIPT.encode())
    response = api.post(URL, body, format="multipart")
    assert response.status_code == 400 and "transcript_file" in response.json()
    assert not Incident.objects.exists()


def test_it_refuses_a_body_that_is_not_an_object(api):
    assert api.post(URL, ["a", "list"], format="json").status_code == 400
    assert api.post(URL, "{not json", content_type="application/json").status_code == 400
    assert not Incident.objects.exists()


def test_it_refuses_an_oversized_request(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(URL, report(transcript="User: a\nAssistant: " + "b" * 2000), format="json")
    assert response.status_code == 413 and "detail" in response.json()
    assert not Incident.objects.exists()


def test_it_refuses_an_oversized_transcript_next_to_the_field(api, settings):
    settings.TRANSCRIPT_MAX_BYTES = 100
    response = api.post(URL, report(transcript="User: a\nAssistant: " + "b" * 200), format="json")
    assert response.status_code == 400 and "transcript" in response.json()
