import pytest

from incidents import workflow
from incidents.models import IncidentEvent, Status

pytestmark = pytest.mark.django_db


def test_it_shows_the_reporter_their_incident(client, make_incident):
    incident = make_incident()
    response = client.get(incident.get_receipt_url())
    assert response.status_code == 200
    assert incident.public_id.encode() in response.content
    assert b"Submitted" in response.content
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_it_tells_the_reporter_why_it_was_rejected(client, make_incident):
    incident = make_incident()
    workflow.transition(incident, Status.REJECTED, actor=None, reason="Not an override: the user never said no.")
    response = client.get(incident.get_receipt_url())
    assert b"Not an override: the user never said no." in response.content


def test_it_adds_information_and_records_it(client, make_incident):
    incident = make_incident()
    response = client.post(incident.get_receipt_url(), {"text": "It happened again <b>today</b>."})
    assert response.status_code == 302
    assert incident.reporter_notes.get().text == "It happened again <b>today</b>."
    assert incident.events.filter(action=IncidentEvent.Action.REPORTER_NOTE).count() == 1
    page = client.get(incident.get_receipt_url())
    assert b"It happened again &lt;b&gt;today&lt;/b&gt;." in page.content


def test_it_refuses_an_empty_note(client, make_incident):
    incident = make_incident()
    response = client.post(incident.get_receipt_url(), {"text": ""})
    assert response.status_code == 400
    assert not incident.reporter_notes.exists()


def test_it_answers_404_to_a_wrong_token(client, make_incident):
    make_incident()
    assert client.get("/receipt/not-a-real-token/").status_code == 404
    assert client.get("/receipt/" + "x" * 500 + "/").status_code == 404


def test_it_gives_each_incident_its_own_unguessable_token(make_incident):
    first, second = make_incident(), make_incident()
    assert first.receipt_token != second.receipt_token
    assert len(first.receipt_token) >= 43


def test_it_shows_staff_questions_and_takes_the_answer(client, make_incident, staff_user):
    from incidents.models import Comment

    incident = make_incident()
    workflow.comment(incident, kind=Comment.Kind.QUESTION, text="Which <version>?", actor=staff_user)
    workflow.comment(incident, kind=Comment.Kind.INTERNAL, text="secret staff note", actor=staff_user)
    page = client.get(incident.get_receipt_url())
    assert b"Which &lt;version&gt;?" in page.content
    assert b"secret staff note" not in page.content
    assert b"triager" not in page.content
    response = client.post(incident.get_receipt_url(), {"action": "answer", "text": "2.3.1"})
    assert response.status_code == 302
    answer = incident.comments.get(kind=Comment.Kind.ANSWER)
    assert answer.text == "2.3.1" and answer.author is None


def test_it_erases_the_reporters_contact_and_keeps_the_report(client, make_incident):
    incident = make_incident(email="me@example.org")
    response = client.post(incident.get_receipt_url(), {"action": "erase"})
    assert response.status_code == 302
    incident.reporter_contact.refresh_from_db()
    assert incident.reporter_contact.email == ""
    assert client.get(incident.get_receipt_url()).status_code == 200
    again = client.post(incident.get_receipt_url(), {"action": "erase"})
    assert again.status_code == 400
