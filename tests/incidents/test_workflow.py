from datetime import timedelta

import pytest

from incidents import workflow
from incidents.models import IncidentEvent, Status
from incidents.workflow import TransitionError
from tests.conftest import incident_fields

pytestmark = pytest.mark.django_db


def test_it_moves_an_incident_and_writes_one_history_row(make_incident, staff_user):
    incident = make_incident()
    before = incident.events.count()
    event = workflow.transition(incident, Status.TRIAGE, actor=staff_user)
    incident.refresh_from_db()
    assert incident.status == Status.TRIAGE
    assert incident.events.count() == before + 1
    assert (event.from_status, event.to_status, event.actor, event.actor_label) == (
        Status.SUBMITTED,
        Status.TRIAGE,
        staff_user,
        "triager",
    )


def test_it_refuses_a_transition_not_in_the_table_and_changes_nothing(make_incident, staff_user):
    incident = make_incident()
    with pytest.raises(TransitionError) as error:
        workflow.transition(incident, Status.PUBLISHED, actor=staff_user, reason="why not")
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED
    assert incident.published_at is None
    assert set(error.value.allowed) == {Status.TRIAGE, Status.REJECTED, Status.DUPLICATE}
    assert incident.events.count() == 1


def test_it_requires_a_reason_to_reject(make_incident, staff_user):
    incident = make_incident()
    with pytest.raises(TransitionError, match="needs a reason"):
        workflow.transition(incident, Status.REJECTED, actor=staff_user, reason="   ")
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_it_stamps_the_first_publication_only(make_incident, staff_user):
    incident = make_incident(Status.PUBLISHED)
    first = incident.published_at
    assert first is not None
    workflow.transition(incident, Status.TRIAGE, actor=staff_user, reason="New evidence")
    for step in (Status.CONFIRMED,):
        workflow.transition(incident, step, actor=staff_user)
    workflow.transition(incident, Status.PUBLISHED, actor=staff_user, reason="No vendor known")
    incident.refresh_from_db()
    assert incident.published_at == first


def test_it_reopens_a_rejected_incident_with_a_reason(make_incident, staff_user):
    incident = make_incident()
    workflow.transition(incident, Status.REJECTED, actor=staff_user, reason="Spam")
    workflow.transition(incident, Status.TRIAGE, actor=staff_user, reason="Not spam after all")
    assert incident.status == Status.TRIAGE


def test_it_tells_the_reporter_about_status_changes(
    make_incident, staff_user, mailoutbox, django_capture_on_commit_callbacks
):
    incident = make_incident(email="me@example.org")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.transition(incident, Status.REJECTED, actor=staff_user, reason="Not an override.")
    assert len(mailoutbox) == 1
    assert "Not an override." in mailoutbox[0].body
    assert mailoutbox[0].to == ["me@example.org"]


def test_it_keeps_history_append_only(make_incident):
    event = make_incident().events.get()
    event.reason = "rewritten"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    assert IncidentEvent.objects.get(pk=event.pk).reason == ""


def test_it_offers_only_allowed_transitions():
    assert [t.target for t in workflow.allowed_transitions(Status.PUBLISHED)] == [
        Status.RESOLVED,
        Status.TRIAGE,
    ]
    assert workflow.allowed_transitions(Status.RESOLVED)[0].reason_required


def test_the_database_refuses_to_change_or_delete_history(make_incident):
    from django.db import IntegrityError, connection, transaction

    event = make_incident().events.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        IncidentEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        IncidentEvent.objects.filter(pk=event.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM incidents_incidentevent WHERE id = %s", [event.pk])
        assert cursor.fetchone() == ("",)


def test_deleting_a_user_keeps_their_history_rows(make_incident, django_user_model):
    user = django_user_model.objects.create_user("leaver", is_staff=True)
    incident = make_incident()
    workflow.transition(incident, Status.TRIAGE, actor=user)
    user.delete()
    event = incident.events.get(to_status=Status.TRIAGE)
    assert event.actor is None and event.actor_label == "leaver"


def test_it_sets_the_disclosure_deadline_from_the_vendor(make_incident):
    incident = make_incident(Status.VENDOR_NOTIFIED)
    days = incident.vendor.disclosure_days
    assert incident.vendor_notified_at is not None
    assert incident.disclosure_deadline - incident.vendor_notified_at == timedelta(days=days)


def test_it_refuses_to_notify_without_a_vendor(make_incident, staff_user):
    incident = make_incident(Status.CONFIRMED)
    with pytest.raises(TransitionError, match="Link the incident"):
        workflow.transition(incident, Status.VENDOR_NOTIFIED, actor=staff_user)
    incident.refresh_from_db()
    assert incident.status == Status.CONFIRMED


def test_it_extends_a_deadline_only_later_and_with_a_reason(make_incident, staff_user):
    incident = make_incident(Status.VENDOR_NOTIFIED)
    later = incident.disclosure_deadline + timedelta(days=14)
    with pytest.raises(workflow.WorkflowError, match="needs a reason"):
        workflow.extend_deadline(incident, later, actor=staff_user, reason=" ")
    with pytest.raises(workflow.WorkflowError, match="later than"):
        workflow.extend_deadline(incident, incident.disclosure_deadline, actor=staff_user, reason="Vendor asked")
    event = workflow.extend_deadline(incident, later, actor=staff_user, reason="Vendor is shipping a fix")
    incident.refresh_from_db()
    assert incident.disclosure_deadline == later
    assert event.action == IncidentEvent.Action.DEADLINE_EXTENDED and event.reason == "Vendor is shipping a fix"


def test_it_merges_a_duplicate_and_counts_it_on_the_canonical(make_incident, staff_user):
    canonical = make_incident(Status.CONFIRMED)
    duplicate = make_incident(Status.TRIAGE)
    workflow.merge_duplicate(duplicate, canonical, actor=staff_user, reproduction=True)
    duplicate.refresh_from_db()
    canonical.refresh_from_db()
    assert duplicate.status == Status.DUPLICATE and duplicate.duplicate_of == canonical
    assert (canonical.report_count, canonical.reproduction_count) == (2, 1)
    assert canonical.events.filter(action=IncidentEvent.Action.MERGED).count() == 1


def test_it_refuses_to_merge_into_a_duplicate_or_itself(make_incident, staff_user):
    canonical, first, second = make_incident(Status.TRIAGE), make_incident(Status.TRIAGE), make_incident(Status.TRIAGE)
    workflow.merge_duplicate(first, canonical, actor=staff_user)
    with pytest.raises(workflow.WorkflowError, match="not a canonical incident"):
        workflow.merge_duplicate(second, first, actor=staff_user)
    with pytest.raises(workflow.WorkflowError, match="itself"):
        workflow.merge_duplicate(second, second, actor=staff_user)
    second.refresh_from_db()
    assert second.status == Status.TRIAGE


def test_it_assigns_staff_only(make_incident, staff_user, django_user_model):
    incident = make_incident()
    outsider = django_user_model.objects.create_user("outsider")
    with pytest.raises(workflow.WorkflowError):
        workflow.assign(incident, outsider, actor=staff_user)
    workflow.assign(incident, staff_user, actor=staff_user)
    incident.refresh_from_db()
    assert incident.assignee == staff_user


def test_it_records_field_edits_old_to_new(make_incident, staff_user):
    incident = make_incident()
    event = workflow.edit(incident, {"title": "Better title", "harms": ""}, actor=staff_user)
    assert event.data == {"changes": {"title": [incident_fields()["title"], "Better title"]}}
    assert workflow.edit(incident, {"title": "Better title"}, actor=staff_user) is None
    with pytest.raises(workflow.WorkflowError, match="status"):
        workflow.edit(incident, {"status": Status.PUBLISHED}, actor=staff_user)


def test_it_marks_a_transcript_and_redacts_the_listed_terms_again(make_incident, staff_user):
    incident = make_incident(transcript="User: I am Jane Roe. Keep my files.\nAssistant: Deleted them.\n")
    transcript = incident.transcripts.get()
    before = incident.modified
    event = workflow.edit_transcript(
        transcript, instruction_turn=0, violation_turns=[1, 1], redaction_terms=["Jane Roe"], actor=staff_user
    )
    transcript.refresh_from_db()
    incident.refresh_from_db()
    assert (transcript.instruction_turn, transcript.violation_turns) == (0, [1])
    assert "Jane Roe" not in transcript.redacted_turns[0]["content"]
    assert "Jane Roe" in transcript.turns[0]["content"]  # staff keep the original
    assert incident.modified > before  # so incremental sync sees the new redaction
    # The terms themselves stay out of the history, which can never be erased.
    assert event.data["changes"] == {
        "instruction_turn": [None, 0],
        "violation_turns": [[], [1]],
        "redaction_terms": ["0 terms", "1 term"],
    }
    assert "Jane" not in str(event.data)
    again = workflow.edit_transcript(
        transcript, instruction_turn=0, violation_turns=[1], redaction_terms=["Jane Roe"], actor=staff_user
    )
    assert again is None


def test_it_refuses_a_mark_on_a_turn_that_does_not_exist(make_incident, staff_user):
    incident = make_incident()
    transcript = incident.transcripts.get()
    events = incident.events.count()
    with pytest.raises(workflow.WorkflowError, match="turns 0 to 1"):
        workflow.edit_transcript(
            transcript, instruction_turn=0, violation_turns=[2], redaction_terms=[], actor=staff_user
        )
    transcript.refresh_from_db()
    assert transcript.violation_turns == [] and incident.events.count() == events


def test_a_vendor_answer_moves_the_incident_once(make_incident, django_user_model):
    from incidents.models import VendorMembership, VendorResponse

    incident = make_incident(Status.VENDOR_NOTIFIED)
    member = django_user_model.objects.create_user("vendor-member")
    VendorMembership.objects.create(user=member, vendor=incident.vendor)
    workflow.respond_as_vendor(incident, kind=VendorResponse.Kind.ACKNOWLEDGED, actor=member)
    workflow.respond_as_vendor(incident, kind=VendorResponse.Kind.STATEMENT, text="Fixed in 2.1", actor=member)
    incident.refresh_from_db()
    assert incident.status == Status.VENDOR_RESPONDED
    assert incident.vendor_statement == "Fixed in 2.1"
    assert incident.events.filter(to_status=Status.VENDOR_RESPONDED).count() == 1


def test_another_vendor_cannot_answer(make_incident, django_user_model):
    from incidents.models import Vendor, VendorMembership, VendorResponse

    incident = make_incident(Status.VENDOR_NOTIFIED)
    other = django_user_model.objects.create_user("other-vendor")
    VendorMembership.objects.create(user=other, vendor=Vendor.objects.create(name="Other", slug="other"))
    with pytest.raises(workflow.WorkflowError):
        workflow.respond_as_vendor(incident, kind=VendorResponse.Kind.ACKNOWLEDGED, actor=other)
    assert not incident.vendor_responses.exists()


def test_questions_reach_the_reporter_and_answers_come_back(
    make_incident, staff_user, mailoutbox, django_capture_on_commit_callbacks
):
    from incidents.models import Comment

    incident = make_incident(email="me@example.org")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.comment(incident, kind=Comment.Kind.QUESTION, text="Which version?", actor=staff_user)
    assert "Which version?" in mailoutbox[0].body
    answer = workflow.comment(incident, kind=Comment.Kind.ANSWER, text="2.3", actor=None)
    assert answer.author_label == "Reporter"


def test_erasing_contact_details_keeps_the_incident(make_incident):
    incident = make_incident(email="me@example.org")
    workflow.erase_reporter_contact(incident, actor=None)
    contact = incident.reporter_contact
    contact.refresh_from_db()
    assert contact.email == "" and contact.erased_at is not None
    assert incident.events.filter(action=IncidentEvent.Action.CONTACT_ERASED).exists()
