import pytest

from incidents import workflow
from incidents.models import IncidentEvent, Status
from incidents.workflow import TransitionError

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
