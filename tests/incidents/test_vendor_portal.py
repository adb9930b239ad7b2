"""The vendor portal's incident pages: the list, one incident, and answering it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import workflow
from incidents.models import (
    AISystem,
    Comment,
    Incident,
    IncidentEvent,
    Status,
    Vendor,
    VendorMembership,
    VendorResponse,
)
from incidents.severity import SeverityVector
from incidents.views.vendor import VendorIncidentPagination, disclosure_countdown

pytestmark = pytest.mark.django_db


PRIVATE_TRANSCRIPT = (
    "User: Summarise my inbox, but don't delete anything. Reply to alice.private@example.org.\n"
    "Assistant: Done. I deleted 212 old emails.\n"
)
VECTOR = "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"
SEVERITY_POST = {
    "severity_instruction": "P",
    "severity_action": "O",
    "severity_reversibility": "R",
    "severity_scope": "S",
    "severity_harm": "L",
    "severity_disclosure": "D",
    "severity_acknowledgement": "N",
}


def make_vendor(slug: str) -> tuple[Vendor, AISystem]:
    vendor = Vendor.objects.create(name=slug.title(), slug=slug)
    system = AISystem.objects.create(vendor=vendor, name=f"{slug.title()} Agent", slug=f"{slug}-agent")
    return vendor, system


def make_member(django_user_model, vendor: Vendor, username: str):
    user = django_user_model.objects.create_user(username, password=f"pw-{username}-123")
    VendorMembership.objects.create(user=user, vendor=vendor)
    return user


@pytest.fixture
def acme():
    return make_vendor("acme")


@pytest.fixture
def globex():
    return make_vendor("globex")


@pytest.fixture
def acme_member(django_user_model, acme):
    return make_member(django_user_model, acme[0], "acme-member")


@pytest.fixture
def globex_member(django_user_model, globex):
    return make_member(django_user_model, globex[0], "globex-member")


@pytest.fixture
def acme_client(client, acme_member):
    client.force_login(acme_member)
    return client


@pytest.fixture
def incident_for(make_incident):
    """An incident about ``system``, walked through the workflow to ``status`` (system linked from the start)."""

    def make(system: AISystem, status: str = Status.VENDOR_NOTIFIED, **overrides) -> Incident:
        return make_incident(status, ai_system=system, **overrides)

    return make


def page(incident: Incident) -> str:
    return f"/vendor/incidents/{incident.public_id}/"


def respond_url(incident: Incident) -> str:
    return f"/vendor/incidents/{incident.public_id}/respond/"


# Who may come in


@pytest.mark.parametrize("path", ["/vendor/", "/vendor/incidents/AIO-2026-00001/"])
def test_it_sends_anonymous_visitors_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/vendor/")


def test_it_sends_anonymous_answers_to_sign_in_and_records_nothing(client, acme, incident_for):
    incident = incident_for(acme[1])
    response = client.post(respond_url(incident), {"kind": "acknowledged"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not VendorResponse.objects.exists()


def test_it_sends_signed_in_non_members_to_sign_in(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("analyst", password="pw-analyst-123"))
    response = client.get("/vendor/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# The list


def test_it_lists_the_vendors_incidents_with_their_countdown(acme_client, acme, incident_for):
    incident = incident_for(acme[1], title="Agent wiped the staging database")
    response = acme_client.get("/vendor/")
    assert response.status_code == 200
    content = response.content.decode()
    assert incident.public_id in content
    assert "Agent wiped the staging database" in content
    assert "Acme Agent" in content
    assert "Vendor notified" in content
    assert "in 90 days" in content
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]


def test_it_says_overdue_once_the_deadline_has_passed(acme_client, acme, incident_for):
    incident = incident_for(acme[1])
    Incident.objects.filter(pk=incident.pk).update(disclosure_deadline=timezone.now() - timedelta(hours=1))
    response = acme_client.get("/vendor/")
    assert b"overdue" in response.content


def test_it_never_lists_another_vendors_incidents(acme_client, acme, globex, incident_for):
    ours = incident_for(acme[1], title="Ours")
    theirs = incident_for(globex[1], title="Someone else's secret incident")
    content = acme_client.get("/vendor/").content
    assert ours.public_id.encode() in content
    assert theirs.public_id.encode() not in content
    assert b"secret incident" not in content


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.TRIAGE, Status.CONFIRMED])
def test_it_never_shows_incidents_before_the_vendor_is_notified(acme_client, acme, incident_for, status):
    incident = incident_for(acme[1], status, title="Not yet notified")
    assert b"Not yet notified" not in acme_client.get("/vendor/").content
    assert acme_client.get(page(incident)).status_code == 404
    assert acme_client.post(respond_url(incident), {"kind": "acknowledged"}).status_code == 404
    assert not VendorResponse.objects.exists()


def test_it_filters_by_status(acme_client, acme, incident_for):
    waiting = incident_for(acme[1], Status.VENDOR_NOTIFIED, title="Waiting for us")
    published = incident_for(acme[1], Status.PUBLISHED, title="Already public")
    content = acme_client.get("/vendor/", {"status": Status.PUBLISHED}).content
    assert published.public_id.encode() in content
    assert waiting.public_id.encode() not in content


def test_it_finds_an_incident_by_its_public_id(acme_client, acme, incident_for):
    wanted, other = incident_for(acme[1]), incident_for(acme[1])
    content = acme_client.get("/vendor/", {"q": wanted.public_id.lower()}).content
    assert wanted.public_id.encode() in content
    assert other.public_id.encode() not in content


def test_it_refuses_an_unknown_status_next_to_the_field(acme_client, acme, incident_for):
    incident_for(acme[1])
    response = acme_client.get("/vendor/", {"status": "triage"})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content


def test_it_refuses_a_forged_cursor(acme_client):
    response = acme_client.get("/vendor/", {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert b"This page link is not valid" in response.content


def test_it_pages_with_a_cursor(acme_client, acme, incident_for, monkeypatch):
    monkeypatch.setattr(VendorIncidentPagination, "page_size", 2)
    incidents = [incident_for(acme[1]) for _ in range(3)]
    first = acme_client.get("/vendor/")
    next_url = first.context["next_url"]
    assert next_url and "cursor=" in next_url
    second = acme_client.get(next_url)
    seen = [i.public_id for i in first.context["incidents"]] + [i.public_id for i in second.context["incidents"]]
    assert sorted(seen) == sorted(i.public_id for i in incidents)


def test_it_shows_the_last_answer(acme_client, acme, acme_member, incident_for):
    incident = incident_for(acme[1])
    workflow.respond_as_vendor(incident, kind=VendorResponse.Kind.FIXED, actor=acme_member)
    content = acme_client.get("/vendor/").content.decode()
    assert "Fixed" in content


def test_it_lists_in_a_bounded_number_of_queries(
    acme_client, acme, acme_member, incident_for, django_assert_max_num_queries
):
    for _ in range(12):
        incident = incident_for(acme[1])
        workflow.respond_as_vendor(incident, kind=VendorResponse.Kind.ACKNOWLEDGED, actor=acme_member)
    # Session, user, membership, vendor, one page of incidents with their last answers, and savepoints.
    with django_assert_max_num_queries(8):
        response = acme_client.get("/vendor/")
    assert len(response.context["incidents"]) == 12


def test_it_counts_down_in_words():
    now = timezone.now()
    assert disclosure_countdown(now + timedelta(days=12, minutes=5), now) == "in 12 days"
    assert disclosure_countdown(now + timedelta(days=90), now + timedelta(seconds=3)) == "in 90 days"
    assert disclosure_countdown(now + timedelta(days=1), now) == "in 1 day"
    assert disclosure_countdown(now + timedelta(hours=5, minutes=10), now) == "in 5 hours"
    assert disclosure_countdown(now + timedelta(minutes=10), now) == "in less than an hour"
    assert disclosure_countdown(now - timedelta(seconds=1), now) == "overdue"
    assert disclosure_countdown(None, now) == ""


# One incident


def test_it_shows_the_incident_with_the_redacted_transcript(acme_client, acme, incident_for):
    incident = incident_for(acme[1], transcript=PRIVATE_TRANSCRIPT)
    response = acme_client.get(page(incident))
    assert response.status_code == 200
    content = response.content.decode()
    assert incident.title in content
    assert "I deleted 212 old emails." in content
    assert "alice.private@example.org" not in content
    assert "[EMAIL_1]" in content
    assert "in 90 days" in content
    assert "no-store" in response["Cache-Control"]


def test_it_never_shows_the_reporter_the_receipt_or_staff_notes(acme_client, acme, make_incident, django_user_model):
    staff_user = django_user_model.objects.create_user("zed-staffer", password="pw-zed-123", is_staff=True)
    incident = make_incident(Status.TRIAGE, ai_system=acme[1], email="whistle.blower@example.org")
    workflow.transition(incident, Status.CONFIRMED, actor=staff_user, reason="Staff-only reasoning 7731")
    workflow.transition(incident, Status.VENDOR_NOTIFIED, actor=staff_user)
    workflow.comment(incident, kind=Comment.Kind.INTERNAL, text="Internal note 4411", actor=staff_user)
    workflow.comment(incident, kind=Comment.Kind.QUESTION, text="Question to reporter 5522", actor=staff_user)
    workflow.comment(incident, kind=Comment.Kind.ANSWER, text="Reporter answer 6633", actor=None)
    incident.add_reporter_note("Reporter note 8844")
    workflow.assign(incident, staff_user, actor=staff_user)
    incident.refresh_from_db()

    content = acme_client.get(page(incident)).content.decode()
    for secret in (
        "whistle.blower",
        incident.receipt_token,
        "Staff-only reasoning 7731",
        "Internal note 4411",
        "Question to reporter 5522",
        "Reporter answer 6633",
        "Reporter note 8844",
        "zed-staffer",  # staff names from the history
        "Assigned",
    ):
        assert secret not in content, secret
    timeline = content.split('<ol class="timeline">')[1].split("</ol>")[0]
    assert "Confirmed" in timeline and "Vendor notified" in timeline
    assert "Submitted" not in timeline and "In triage" not in timeline


def test_it_answers_404_for_another_vendors_incident(acme_client, globex, incident_for):
    theirs = incident_for(globex[1])
    assert acme_client.get(page(theirs)).status_code == 404
    response = acme_client.post(respond_url(theirs), {"kind": "disputed", "text": "Not ours"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.VENDOR_NOTIFIED
    assert not VendorResponse.objects.exists()


def test_it_answers_404_for_an_unknown_id(acme_client):
    assert acme_client.get("/vendor/incidents/AIO-1999-99999/").status_code == 404


def test_it_renders_hostile_text_as_text(acme_client, acme, acme_member, incident_for):
    incident = incident_for(
        acme[1], title="<script>alert(1)</script>", transcript="User: hi\nAssistant: <img src=x onerror=alert(1)>\n"
    )
    workflow.respond_as_vendor(
        incident, kind=VendorResponse.Kind.STATEMENT, text="<b>{{ bold }}</b>", actor=acme_member
    )
    content = acme_client.get(page(incident)).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<img src=x" not in content
    assert "&lt;b&gt;{{ bold }}&lt;/b&gt;" in content


# Answering


def test_it_records_an_acknowledgement_and_moves_to_vendor_responded_once(acme_client, acme, incident_for):
    incident = incident_for(acme[1])
    response = acme_client.post(respond_url(incident), {"kind": "acknowledged"})
    assert response.status_code == 302
    assert response["Location"] == page(incident)
    incident.refresh_from_db()
    assert incident.status == Status.VENDOR_RESPONDED
    first_response_at = incident.first_vendor_response_at
    assert first_response_at is not None

    acme_client.post(respond_url(incident), {"kind": "fixed", "text": "Released in 2.4.1"})
    incident.refresh_from_db()
    assert incident.status == Status.VENDOR_RESPONDED
    assert incident.first_vendor_response_at == first_response_at
    moves = incident.events.filter(action=IncidentEvent.Action.TRANSITION, to_status=Status.VENDOR_RESPONDED)
    assert moves.count() == 1
    assert list(incident.vendor_responses.values_list("kind", flat=True)) == ["acknowledged", "fixed"]

    content = acme_client.get(page(incident)).content.decode()
    assert "Your answer is recorded: Fixed." in content
    assert "Released in 2.4.1" in content


def test_it_refuses_a_dispute_without_reasons_and_changes_nothing(acme_client, acme, incident_for):
    incident = incident_for(acme[1])
    events = incident.events.count()
    response = acme_client.post(respond_url(incident), {"kind": "disputed", "text": "   "})
    assert response.status_code == 400
    assert b"Give your reasons for disputing this incident." in response.content
    incident.refresh_from_db()
    assert incident.status == Status.VENDOR_NOTIFIED
    assert incident.events.count() == events
    assert not VendorResponse.objects.exists()


def test_it_records_a_dispute_with_reasons(acme_client, acme, incident_for):
    incident = incident_for(acme[1])
    acme_client.post(respond_url(incident), {"kind": "disputed", "text": "The user granted deletion earlier."})
    answer = VendorResponse.objects.get()
    assert (answer.kind, answer.text, answer.vendor) == ("disputed", "The user granted deletion earlier.", acme[0])
    assert answer.author_label == "acme-member"
    incident.refresh_from_db()
    assert incident.vendor_statement == ""


def test_it_refuses_a_statement_without_text(acme_client, acme, incident_for):
    incident = incident_for(acme[1])
    response = acme_client.post(respond_url(incident), {"kind": "statement", "text": ""})
    assert response.status_code == 400
    assert b"Write the statement to publish." in response.content
    assert not VendorResponse.objects.exists()


def test_it_publishes_a_statement_on_the_incident(acme_client, acme, incident_for):
    incident = incident_for(acme[1], Status.PUBLISHED)
    acme_client.post(respond_url(incident), {"kind": "statement", "text": "We shipped a fix on 2 May."})
    incident.refresh_from_db()
    assert incident.vendor_statement == "We shipped a fix on 2 May."
    assert incident.status == Status.PUBLISHED
    assert incident.events.filter(action=IncidentEvent.Action.VENDOR_RESPONSE, public=True).exists()


def test_it_refuses_an_unknown_kind(acme_client, acme, incident_for):
    incident = incident_for(acme[1])
    response = acme_client.post(respond_url(incident), {"kind": "ignored"})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert not VendorResponse.objects.exists()


def test_it_keeps_the_vendors_severity_apart(acme_client, acme, incident_for):
    incident = incident_for(acme[1], Status.CONFIRMED)
    Incident.objects.filter(pk=incident.pk).update(reporter_severity_vector=VECTOR, triager_severity_vector=VECTOR)
    workflow.transition(incident, Status.VENDOR_NOTIFIED, actor=None)
    incident.refresh_from_db()
    score, band = incident.severity_score, incident.severity_band

    acme_client.post(respond_url(incident), {"kind": "acknowledged", **SEVERITY_POST})
    incident.refresh_from_db()
    expected = SeverityVector.from_choices(**{key.removeprefix("severity_"): v for key, v in SEVERITY_POST.items()})
    assert incident.vendor_severity_vector == str(expected)
    assert incident.reporter_severity_vector == VECTOR
    assert incident.triager_severity_vector == VECTOR
    assert (incident.severity_score, incident.severity_band) == (score, band)
    assert str(expected).encode() in acme_client.get(page(incident)).content


def test_it_refuses_a_partial_severity_and_records_nothing(acme_client, acme, incident_for):
    incident = incident_for(acme[1])
    response = acme_client.post(
        respond_url(incident), {"kind": "acknowledged", "severity_instruction": "E", "severity_action": "T"}
    )
    assert response.status_code == 400
    assert b"Choose a value here too, or leave every severity question blank." in response.content
    assert not VendorResponse.objects.exists()
    incident.refresh_from_db()
    assert incident.vendor_severity_vector == ""


def test_it_calculates_the_score_without_recording_anything(acme_client, acme, incident_for):
    incident = incident_for(acme[1])
    response = acme_client.post(
        respond_url(incident), {"kind": "disputed", "text": "kept as typed", "calculate": "1", **SEVERITY_POST}
    )
    assert response.status_code == 200
    expected = SeverityVector.from_choices(**{key.removeprefix("severity_"): v for key, v in SEVERITY_POST.items()})
    assert str(expected).encode() in response.content
    assert b"kept as typed" in response.content
    assert not VendorResponse.objects.exists()


def test_it_only_accepts_answers_by_post(acme_client, acme, incident_for):
    incident = incident_for(acme[1])
    assert acme_client.get(respond_url(incident)).status_code == 405
