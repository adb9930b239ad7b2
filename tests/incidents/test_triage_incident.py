"""An incident's triage page: every action goes through the workflow and shows up in the history."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from incidents import workflow
from incidents.models import (
    AISystem,
    Comment,
    Incident,
    IncidentEvent,
    ReporterContact,
    Status,
    Vendor,
    VendorMembership,
)

pytestmark = pytest.mark.django_db

SEVERITY = {
    "severity_instruction": "E",
    "severity_action": "T",
    "severity_reversibility": "I",
    "severity_scope": "U",
    "severity_harm": "S",
    "severity_disclosure": "O",
    "severity_acknowledgement": "Y",
}
VECTOR = "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def colleague(django_user_model):
    return django_user_model.objects.create_user("colleague", password="pw-colleague-123", is_staff=True)


def url(incident: Incident, action: str = "") -> str:
    return f"/triage/{incident.public_id}/{action + '/' if action else ''}"


def edit_data(incident: Incident, **changes) -> dict:
    data = {
        "title": incident.title,
        "system_name_reported": incident.system_name_reported,
        "system_version_reported": incident.system_version_reported,
        "instruction": incident.instruction,
        "instruction_source": incident.instruction_source,
        "action_taken": incident.action_taken,
        "reversibility": incident.reversibility,
        "acknowledged": incident.acknowledged,
        "occurred_on": incident.occurred_on.isoformat(),
        "harms": incident.harms,
        "agent_framework": incident.agent_framework,
        "tool_permissions": incident.tool_permissions,
        "reporter_type": incident.reporter_type,
        "references": incident.references,
    }
    data.update(changes)
    return data


# Who may see it

ACTIONS = [
    ("get", ""),
    ("get", "duplicates"),
    ("post", "claim"),
    ("post", "assign"),
    ("post", "transition"),
    ("post", "edit"),
    ("post", "classify"),
    ("post", "severity"),
    ("post", "system"),
    ("post", "system/new"),
    ("post", "comments"),
    ("post", "deadline"),
    ("post", "reporter/erase"),
    ("post", "merge"),
]


def test_it_keeps_everyone_but_staff_out_of_every_triage_url(client, make_incident, django_user_model):
    incident = make_incident(Status.VENDOR_NOTIFIED, email="reporter@example.org")
    other = make_incident()
    member = django_user_model.objects.create_user("vendor-person", password="x")
    VendorMembership.objects.create(user=member, vendor=Vendor.objects.get())
    analyst = django_user_model.objects.create_user("analyst", password="x")
    before = IncidentEvent.objects.count()
    posted = {"target": "triage", "reason": "x", "text": "x", "kind": "internal", "confirm": "on"}
    for user in (None, member, analyst):
        client.logout()
        if user is not None:
            client.force_login(user)
        for method, action in [*ACTIONS, ("get", f"compare/{other.public_id}")]:
            response = getattr(client, method)(url(incident, action), posted if method == "post" else None)
            assert response.status_code == 302, (user, action)
            assert response["Location"].startswith("/accounts/login/?next=/triage/"), (user, action)
    assert IncidentEvent.objects.count() == before
    assert ReporterContact.objects.get().email == "reporter@example.org"


def test_it_answers_404_for_an_unknown_incident(staff):
    assert staff.get("/triage/AIO-1999-00001/").status_code == 404
    assert staff.post("/triage/AIO-1999-00001/claim/").status_code == 404


def test_it_shows_the_reporter_contact_only_to_staff(staff, client, make_incident):
    incident = make_incident(Status.PUBLISHED, email="whistle@example.org")
    assert b"whistle@example.org" in staff.get(url(incident)).content
    client.logout()
    assert b"whistle@example.org" not in client.get(incident.get_absolute_url()).content
    assert b"whistle@example.org" not in client.get(incident.get_receipt_url()).content


def test_it_refuses_get_on_actions(staff, make_incident):
    incident = make_incident()
    assert staff.get(url(incident, "claim")).status_code == 405


# The page


def test_it_shows_the_report_transcript_and_marks_as_text(staff, make_incident):
    incident = make_incident(
        title='<img src=x onerror="alert(1)">',
        transcript="User: never delete\nAssistant: <script>alert('x')</script> deleted\n",
    )
    transcript = incident.transcripts.get()
    transcript.instruction_turn, transcript.violation_turns = 0, [1]
    transcript.save()
    response = staff.get(url(incident))
    html = response.content.decode()
    assert response.status_code == 200
    assert escape('<img src=x onerror="alert(1)">') in html
    assert "<script>alert" not in html and escape("<script>alert('x')</script>") in html
    assert "mark-instruction" in html and "mark-violation" in html


def test_it_shows_staff_the_original_turns(staff, make_incident):
    incident = make_incident(transcript="User: mail me at jane.doe@example.org\nAssistant: deleted it all\n")
    html = staff.get(url(incident)).content.decode()
    assert "jane.doe@example.org" in html  # the original, for staff
    assert "[EMAIL_1]" in html  # and the redacted version, as vendors will see it


def test_it_uses_a_bounded_number_of_queries(staff, make_incident, staff_user, django_assert_max_num_queries):
    incident = make_incident(email="r@example.org")
    for n in range(20):
        workflow.comment(incident, kind=Comment.Kind.INTERNAL, text=f"note {n}", actor=staff_user)
        workflow.edit(incident, {"title": f"Title {n}"}, actor=staff_user)
    with django_assert_max_num_queries(40):
        response = staff.get(url(incident))
    assert response.status_code == 200


# Transcript marks and redaction terms


def transcript_url(incident: Incident) -> str:
    return url(incident, f"transcripts/{incident.transcripts.get().pk}")


def test_it_marks_the_instruction_and_violation_turns(staff, make_incident, client):
    incident = make_incident(Status.PUBLISHED)
    response = staff.post(transcript_url(incident), {"instruction_turn": "0", "violation_turns": ["1"]})
    assert response.status_code == 302 and response["Location"].endswith("#transcript")
    transcript = incident.transcripts.get()
    assert (transcript.instruction_turn, transcript.violation_turns) == (0, [1])
    page = staff.get(url(incident)).content.decode()
    assert 'name="instruction_turn" value="0" checked' in page
    assert 'name="violation_turns" value="1" checked' in page
    row = staff.get(url(incident)).context["history"][-1]
    assert ("Instruction turn", "—", "0") in row.changes and ("Violation turns", "—", "1") in row.changes
    # The marks are links anyone who can see the incident can share.
    client.logout()
    public = client.get(incident.get_absolute_url()).content.decode()
    assert "mark-instruction" in public and "mark-violation" in public


def test_it_clears_the_marks(staff, make_incident):
    incident = make_incident()
    transcript = incident.transcripts.get()
    transcript.instruction_turn, transcript.violation_turns = 0, [1]
    transcript.save()
    assert staff.post(transcript_url(incident), {"instruction_turn": ""}).status_code == 302
    transcript.refresh_from_db()
    assert (transcript.instruction_turn, transcript.violation_turns) == (None, [])


def test_it_redacts_terms_a_triager_lists_from_what_vendors_and_the_public_see(staff, client, make_incident):
    incident = make_incident(Status.PUBLISHED, transcript="User: I am Jane Roe of 4 Elm Row.\nAssistant: Noted.\n")
    response = staff.post(transcript_url(incident), {"redaction_terms": "Jane Roe\r\n4 Elm Row\r\n\r\n"})
    assert response.status_code == 302
    assert incident.transcripts.get().redaction_terms == ["Jane Roe", "4 Elm Row"]
    client.logout()
    public = client.get(incident.get_absolute_url()).content.decode()
    assert "Jane Roe" not in public and "Elm Row" not in public
    assert "[NAME_1]" in public and "[NAME_2]" in public


def test_it_refuses_a_turn_that_does_not_exist_next_to_the_transcript(staff, make_incident):
    incident = make_incident()
    events = incident.events.count()
    response = staff.post(transcript_url(incident), {"instruction_turn": "0", "violation_turns": ["7"]})
    assert response.status_code == 400
    assert "Turn 7 does not exist: the transcript has turns 0 to 1." in response.content.decode()
    # What was sent stays ticked so it can be corrected.
    assert 'name="instruction_turn" value="0" checked' in response.content.decode()
    transcript = incident.transcripts.get()
    assert transcript.instruction_turn is None and incident.events.count() == events
    assert staff.post(transcript_url(incident), {"instruction_turn": "x"}).status_code == 400


def test_it_answers_404_for_another_incidents_transcript(staff, make_incident):
    incident, other = make_incident(), make_incident()
    response = staff.post(url(incident, f"transcripts/{other.transcripts.get().pk}"), {"instruction_turn": "0"})
    assert response.status_code == 404
    assert other.transcripts.get().instruction_turn is None


def test_it_keeps_everyone_but_staff_from_marking(client, make_incident, django_user_model):
    incident = make_incident(Status.PUBLISHED)
    client.force_login(django_user_model.objects.create_user("analyst", password="x"))
    response = client.post(transcript_url(incident), {"instruction_turn": "0"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert incident.transcripts.get().instruction_turn is None


# Claim and assign


def test_it_claims_an_incident(staff, make_incident, staff_user):
    incident = make_incident()
    response = staff.post(url(incident, "claim"))
    assert response.status_code == 302 and response["Location"] == url(incident)
    incident.refresh_from_db()
    assert incident.assignee == staff_user
    assert incident.events.filter(action=IncidentEvent.Action.ASSIGNED, actor=staff_user).count() == 1


def test_it_will_not_claim_a_colleagues_incident(staff, make_incident, staff_user, colleague):
    incident = make_incident()
    workflow.assign(incident, colleague, actor=staff_user)
    response = staff.post(url(incident, "claim"))
    assert response.status_code == 409
    assert "colleague is already working on this incident" in response.content.decode()
    incident.refresh_from_db()
    assert incident.assignee == colleague


def test_it_assigns_and_unassigns(staff, make_incident, colleague):
    incident = make_incident()
    assert staff.post(url(incident, "assign"), {"assignee": colleague.pk}).status_code == 302
    incident.refresh_from_db()
    assert incident.assignee == colleague
    assert staff.post(url(incident, "assign"), {"assignee": ""}).status_code == 302
    incident.refresh_from_db()
    assert incident.assignee is None


def test_it_refuses_to_assign_someone_who_is_not_staff(staff, make_incident, django_user_model):
    outsider = django_user_model.objects.create_user("outsider", password="x")
    incident = make_incident()
    response = staff.post(url(incident, "assign"), {"assignee": outsider.pk})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    incident.refresh_from_db()
    assert incident.assignee is None


# Transitions


def test_it_starts_triage_and_confirms(staff, make_incident, staff_user):
    incident = make_incident()
    assert staff.post(url(incident, "transition"), {"target": "triage"}).status_code == 302
    assert staff.post(url(incident, "transition"), {"target": "confirmed", "reason": ""}).status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.CONFIRMED
    steps = incident.events.filter(action=IncidentEvent.Action.TRANSITION).values_list("to_status", "actor")
    assert list(steps) == [(Status.TRIAGE, staff_user.pk), (Status.CONFIRMED, staff_user.pk)]


def test_it_offers_only_the_transitions_available_now(staff, make_incident):
    incident = make_incident(Status.VENDOR_NOTIFIED)
    html = staff.get(url(incident)).content.decode()
    assert "Record vendor response" in html and "Publish before vendor response" in html
    assert ">Start triage<" not in html and ">Confirm<" not in html


def test_it_requires_a_reason_to_reject_and_shows_it_by_the_field(staff, make_incident):
    incident = make_incident()
    response = staff.post(url(incident, "transition"), {"target": "rejected", "reason": "  "})
    assert response.status_code == 400
    assert "“Reject” needs a reason." in response.content.decode()
    assert 'id="transition-rejected-reason_error"' in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_it_keeps_a_rejected_incident_as_a_tombstone_with_its_reason(staff, make_incident):
    incident = make_incident()
    response = staff.post(url(incident, "transition"), {"target": "rejected", "reason": "Not an instruction override"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.REJECTED
    page = staff.get(url(incident)).content.decode()
    assert "Kept as a tombstone" in page and "Not an instruction override" in page
    assert "Reopen" in page
    assert staff.get("/triage/", {"status": "rejected"}).context["incidents"] == [incident]


def test_it_refuses_a_transition_not_available_now(staff, make_incident):
    incident = make_incident()
    response = staff.post(url(incident, "transition"), {"target": "published", "reason": "why not"})
    assert response.status_code == 400
    assert "That status change is not available for a submitted incident." in response.content.decode()
    assert "Available: “Start triage”, “Reject”." in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_it_shows_the_workflow_refusal_with_409(staff, make_incident):
    incident = make_incident(Status.CONFIRMED)  # no AI system linked, so no vendor to notify
    response = staff.post(url(incident, "transition"), {"target": "vendor_notified"})
    assert response.status_code == 409
    assert "Link the incident to an AI system with a known vendor" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.CONFIRMED


def test_it_reopens_and_publishes_early_only_with_a_reason(staff, make_incident):
    incident = make_incident(Status.VENDOR_NOTIFIED)
    assert staff.post(url(incident, "transition"), {"target": "published"}).status_code == 400
    assert (
        staff.post(url(incident, "transition"), {"target": "published", "reason": "Actively exploited"}).status_code
        == 302
    )
    assert staff.post(url(incident, "transition"), {"target": "triage"}).status_code == 400
    assert staff.post(url(incident, "transition"), {"target": "triage", "reason": "New evidence"}).status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.TRIAGE


# Editing


def test_it_edits_fields_and_records_old_and_new(staff, make_incident, staff_user):
    incident = make_incident()
    response = staff.post(url(incident, "edit"), edit_data(incident, title="A clearer title", harms="Lost mail"))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "A clearer title" and incident.harms == "Lost mail"
    event = incident.events.get(action=IncidentEvent.Action.EDITED)
    assert event.actor == staff_user
    assert event.data["changes"]["title"] == ["Email agent deleted mail after being told not to", "A clearer title"]
    page = staff.get(url(incident)).content.decode()
    assert "<del>Email agent deleted mail after being told not to</del>" in page
    assert "<ins>A clearer title</ins>" in page


def test_it_records_nothing_when_nothing_changed(staff, make_incident):
    incident = make_incident(instruction="Line one\nline two")
    data = edit_data(incident, instruction="Line one\r\nline two")  # as browsers send textareas
    assert staff.post(url(incident, "edit"), data).status_code == 302
    assert not incident.events.filter(action=IncidentEvent.Action.EDITED).exists()


def test_it_refuses_bad_edits_next_to_the_field(staff, make_incident):
    incident = make_incident()
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = staff.post(url(incident, "edit"), edit_data(incident, occurred_on=future, title=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This date is in the future" in html and 'id="id_title_error"' in html
    incident.refresh_from_db()
    assert incident.title == "Email agent deleted mail after being told not to"


def test_it_classifies(staff, make_incident):
    incident = make_incident()
    response = staff.post(
        url(incident, "classify"),
        {
            "override_type": "deception",
            "secondary_override_types": ["deception", "prohibited_action"],
            "context": "coding_agent",
            "environment": "pilot",
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.override_type == "deception"
    assert incident.secondary_override_types == ["prohibited_action"]  # the primary is not repeated
    changes = incident.events.get(action=IncidentEvent.Action.EDITED).data["changes"]
    assert changes["override_type"] == ["prohibited_action", "deception"]
    assert set(changes) == {"override_type", "secondary_override_types", "context", "environment"}


# Severity


def test_it_rates_severity_with_the_calculator(staff, make_incident):
    incident = make_incident()
    response = staff.post(url(incident, "severity"), SEVERITY)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.triager_severity_vector == VECTOR
    assert incident.severity_score is not None and incident.severity_band
    assert incident.events.get(action=IncidentEvent.Action.EDITED).data["changes"]["triager_severity_vector"] == [
        "",
        VECTOR,
    ]


def test_it_calculates_without_saving(staff, make_incident):
    incident = make_incident()
    response = staff.post(url(incident, "severity"), {**SEVERITY, "calculate": "1"})
    assert response.status_code == 200
    assert VECTOR in response.content.decode()
    incident.refresh_from_db()
    assert incident.triager_severity_vector == ""


def test_it_requires_every_metric(staff, make_incident):
    incident = make_incident()
    response = staff.post(url(incident, "severity"), {"severity_harm": "S"})
    assert response.status_code == 400
    assert "Choose a value here too" in response.content.decode()
    response = staff.post(url(incident, "severity"), {})
    assert response.status_code == 400
    assert "Choose a value for every metric" in response.content.decode()
    incident.refresh_from_db()
    assert incident.triager_severity_vector == ""


# AI systems


def test_it_links_the_typed_system_to_a_canonical_one(staff, make_incident, staff_user):
    vendor = Vendor.objects.create(name="Acme AI", slug="acme-ai")
    system = AISystem.objects.create(vendor=vendor, name="Mailer", slug="mailer")
    incident = make_incident()
    assert staff.post(url(incident, "system"), {"ai_system": system.pk}).status_code == 302
    incident.refresh_from_db()
    assert incident.ai_system == system and incident.vendor == vendor
    event = incident.events.get(action=IncidentEvent.Action.SYSTEM_LINKED)
    assert event.data["changes"]["ai_system"] == [None, "Acme AI Mailer"]
    assert "Linked to AI system" in staff.get(url(incident)).content.decode()


def test_it_suggests_the_system_with_the_reported_name(staff, make_incident):
    vendor = Vendor.objects.create(name="Acme AI", slug="acme-ai")
    system = AISystem.objects.create(vendor=vendor, name="MailPilot", slug="mailpilot")
    incident = make_incident(system_name_reported="mailpilot")
    assert staff.get(url(incident)).context["link_form"]["ai_system"].value() == system.pk


def test_it_creates_a_vendor_and_system_and_links_them(staff, make_incident):
    incident = make_incident()
    response = staff.post(
        url(incident, "system/new"),
        {"new_vendor_name": "Newco", "new_vendor_website": "https://newco.example", "name": "Newco Agent"},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert str(incident.ai_system) == "Newco Newco Agent"
    assert incident.ai_system.vendor.slug == "newco"


def test_it_adds_a_system_to_an_existing_vendor_but_not_twice(staff, make_incident):
    vendor = Vendor.objects.create(name="Acme AI", slug="acme-ai")
    incident = make_incident()
    assert staff.post(url(incident, "system/new"), {"vendor": vendor.pk, "name": "Agent"}).status_code == 302
    response = staff.post(url(incident, "system/new"), {"vendor": vendor.pk, "name": "agent"})
    assert response.status_code == 400
    assert "Acme AI already has a system named “agent”" in response.content.decode()
    response = staff.post(url(incident, "system/new"), {"new_vendor_name": "acme ai", "name": "Other"})
    assert response.status_code == 400
    assert "exists; choose it above" in response.content.decode()
    response = staff.post(url(incident, "system/new"), {"name": "Other"})
    assert b"Choose a vendor, or give a new vendor" in response.content
    assert AISystem.objects.count() == 1 and Vendor.objects.count() == 1


# The thread


def test_it_adds_an_internal_note_never_shown_outside(staff, client, make_incident, staff_user):
    incident = make_incident(Status.PUBLISHED)
    response = staff.post(url(incident, "comments"), {"kind": "internal", "text": "Looks like <b>spam</b>?"})
    assert response.status_code == 302
    note = incident.comments.get()
    assert (note.kind, note.author) == (Comment.Kind.INTERNAL, staff_user)
    assert "Looks like &lt;b&gt;spam&lt;/b&gt;?" in staff.get(url(incident)).content.decode()
    client.logout()
    assert b"Looks like" not in client.get(incident.get_absolute_url()).content
    assert b"Looks like" not in client.get(incident.get_receipt_url()).content


def test_it_asks_the_reporter_a_question_and_shows_the_answer(staff, make_incident):
    incident = make_incident(email="r@example.org")
    response = staff.post(url(incident, "comments"), {"kind": "question", "text": "Which version was it?"})
    assert response.status_code == 302
    assert incident.comments.get().kind == Comment.Kind.QUESTION
    assert incident.events.filter(action=IncidentEvent.Action.QUESTION).exists()
    workflow.comment(incident, kind=Comment.Kind.ANSWER, text="Version 2.1", actor=None)
    page = staff.get(url(incident)).content.decode()
    assert "Which version was it?" in page and "Version 2.1" in page and "Reporter&#x27;s answer" in page


def test_it_refuses_an_empty_note(staff, make_incident):
    incident = make_incident()
    response = staff.post(url(incident, "comments"), {"kind": "internal", "text": "   "})
    assert response.status_code == 400
    assert not incident.comments.exists()


def test_it_refuses_a_comment_kind_staff_do_not_write(staff, make_incident):
    incident = make_incident()
    response = staff.post(url(incident, "comments"), {"kind": "answer", "text": "I am the reporter"})
    assert response.status_code == 400
    assert not incident.comments.exists()


# Disclosure deadline


def test_it_counts_down_to_the_deadline_and_extends_it(staff, make_incident):
    incident = make_incident(Status.VENDOR_NOTIFIED)
    page = staff.get(url(incident)).content.decode()
    assert "left</strong>" in page
    before = incident.disclosure_deadline
    response = staff.post(url(incident, "deadline"), {"days": "30", "reason": "Vendor shipping a fix"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.disclosure_deadline == before + timedelta(days=30)
    event = incident.events.get(action=IncidentEvent.Action.DEADLINE_EXTENDED)
    assert event.reason == "Vendor shipping a fix"


def test_it_shows_an_overdue_deadline(staff, make_incident):
    incident = make_incident(Status.VENDOR_NOTIFIED)
    Incident.objects.filter(pk=incident.pk).update(disclosure_deadline=timezone.now() - timedelta(days=3))
    assert "overdue by 3" in staff.get(url(incident)).content.decode()


def test_it_requires_a_reason_to_extend_the_deadline(staff, make_incident):
    incident = make_incident(Status.VENDOR_NOTIFIED)
    response = staff.post(url(incident, "deadline"), {"days": "30", "reason": ""})
    assert response.status_code == 400
    before = incident.disclosure_deadline
    incident.refresh_from_db()
    assert incident.disclosure_deadline == before


def test_it_refuses_to_extend_a_deadline_an_incident_does_not_have(staff, make_incident):
    incident = make_incident(Status.TRIAGE)
    response = staff.post(url(incident, "deadline"), {"days": "30", "reason": "Because"})
    assert response.status_code == 409
    assert "Only an incident under disclosure has a deadline to extend." in response.content.decode()


# Reporter contact


def test_it_erases_the_reporter_contact_on_request(staff, make_incident):
    incident = make_incident(email="forget.me@example.org")
    assert staff.post(url(incident, "reporter/erase"), {}).status_code == 400
    assert ReporterContact.objects.get().email == "forget.me@example.org"
    assert staff.post(url(incident, "reporter/erase"), {"confirm": "on"}).status_code == 302
    contact = ReporterContact.objects.get()
    assert contact.email == "" and contact.erased_at is not None
    page = staff.get(url(incident)).content.decode()
    assert "forget.me@example.org" not in page and "Contact details erased" in page
    assert staff.post(url(incident, "reporter/erase"), {"confirm": "on"}).status_code == 409
    assert incident.events.filter(action=IncidentEvent.Action.CONTACT_ERASED).count() == 1


# History


def test_it_reads_the_whole_history_back(staff, make_incident, staff_user):
    incident = make_incident()
    workflow.assign(incident, staff_user, actor=staff_user)
    workflow.transition(incident, Status.TRIAGE, actor=staff_user)
    workflow.edit(incident, {"environment": "pilot"}, actor=staff_user)
    workflow.transition(incident, Status.REJECTED, actor=staff_user, reason="Insufficient evidence")
    response = staff.get(url(incident))
    rows = response.context["history"]
    assert [row.event.action for row in rows] == [
        IncidentEvent.Action.SUBMITTED,
        IncidentEvent.Action.ASSIGNED,
        IncidentEvent.Action.TRANSITION,
        IncidentEvent.Action.EDITED,
        IncidentEvent.Action.TRANSITION,
    ]
    assert rows[3].changes == [("Environment", "production", "pilot")]
    assert ("Assignee", "triager") in rows[1].details
    html = response.content.decode()
    assert "Submitted → In triage" in html and "In triage → Rejected" in html
    assert "Reason: Insufficient evidence" in html
