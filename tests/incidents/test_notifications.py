from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from incidents import notifications, workflow
from incidents.models import Comment, Incident, OutboxMessage, Status, VendorMembership
from tests.conftest import default_system

pytestmark = pytest.mark.django_db


def emails(to: str | None = None) -> list[dict]:
    """The emails queued so far, oldest first."""
    payloads = [m.payload for m in OutboxMessage.objects.filter(kind=OutboxMessage.Kind.EMAIL).order_by("pk")]
    return [p for p in payloads if to is None or p["to"] == [to]]


@pytest.fixture
def members(django_user_model):
    vendor = default_system().vendor
    users = [
        django_user_model.objects.create_user("alice", email="alice@mailpilot.example"),
        django_user_model.objects.create_user("bob", email="bob@mailpilot.example"),
        django_user_model.objects.create_user("gone", email="gone@mailpilot.example", is_active=False),
        django_user_model.objects.create_user("no-email"),
    ]
    for user in users:
        VendorMembership.objects.create(user=user, vendor=vendor)
    return users


def test_it_acknowledges_a_report_to_the_reporter(make_incident):
    incident = make_incident(email="me@example.org")
    [ack] = emails()
    assert ack["to"] == ["me@example.org"]
    assert ack["subject"] == f"[Override Watch] {incident.public_id}: we received your report"
    assert incident.get_receipt_url() in ack["body"]


def test_it_emails_nobody_when_the_reporter_left_no_address(make_incident, staff_user):
    incident = make_incident()
    workflow.transition(incident, Status.TRIAGE, actor=staff_user)
    assert emails() == []


def test_it_tells_the_reporter_of_every_status_change(make_incident, staff_user):
    incident = make_incident(email="me@example.org")
    workflow.transition(incident, Status.TRIAGE, actor=staff_user)
    workflow.transition(incident, Status.CONFIRMED, actor=staff_user)
    subjects = [e["subject"] for e in emails("me@example.org")]
    assert subjects[1:] == [
        f"[Override Watch] {incident.public_id}: status is now in triage",
        f"[Override Watch] {incident.public_id}: status is now confirmed",
    ]


def test_it_tells_the_reporter_why_their_report_was_rejected(make_incident, staff_user):
    incident = make_incident(email="me@example.org")
    workflow.transition(incident, Status.REJECTED, actor=staff_user, reason="The transcript shows no instruction.")
    rejection = emails("me@example.org")[-1]
    assert rejection["subject"].endswith("not taken further")
    assert "Why: The transcript shows no instruction." in rejection["body"]
    assert incident.get_receipt_url() in rejection["body"]


def test_it_stops_emailing_a_reporter_who_asked_to_be_erased(make_incident, staff_user):
    incident = make_incident(email="me@example.org")
    workflow.erase_reporter_contact(incident, actor=None)
    workflow.transition(incident, Status.TRIAGE, actor=staff_user)
    workflow.comment(incident, kind=Comment.Kind.QUESTION, text="Which version?", actor=staff_user)
    assert len(emails()) == 1  # the acknowledgement, sent before the erasure


def test_notifications_are_part_of_the_change(make_incident, staff_user):
    incident = make_incident(email="me@example.org")
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.transition(incident, Status.TRIAGE, actor=staff_user)
        raise RuntimeError("the request failed after the transition")
    assert len(emails()) == 1


def test_it_emails_each_vendor_member_separately_without_the_reporter(make_incident, members):
    incident = make_incident(Status.VENDOR_NOTIFIED, email="me@example.org", ai_system=default_system())
    to_vendor = [e for e in emails() if e["subject"].endswith("an incident about your AI system")]
    assert [e["to"] for e in to_vendor] == [["alice@mailpilot.example"], ["bob@mailpilot.example"]]
    body = to_vendor[0]["body"]
    assert incident.public_id in body and "/vendor/" in body
    incident.refresh_from_db()
    assert f"{incident.disclosure_deadline:%-d %B %Y}" in body
    assert "me@example.org" not in body and incident.receipt_token not in body


def test_it_tells_the_assignee(make_incident, staff_user, django_user_model):
    triager = django_user_model.objects.create_user("tess", email="tess@overridewatch.example", is_staff=True)
    incident = make_incident()
    workflow.assign(incident, triager, actor=staff_user)
    [message] = emails()
    assert message["to"] == ["tess@overridewatch.example"]
    assert f"/triage/{incident.public_id}/" in message["body"]


def test_it_asks_the_reporter_a_question(make_incident, staff_user):
    incident = make_incident(email="me@example.org")
    workflow.comment(incident, kind=Comment.Kind.QUESTION, text="Which version?", actor=staff_user)
    question = emails("me@example.org")[-1]
    assert "Which version?" in question["body"] and incident.get_receipt_url() in question["body"]


class TestDisclosureReminders:
    @pytest.fixture
    def incident(self, make_incident, members) -> Incident:
        incident = make_incident(Status.VENDOR_NOTIFIED, ai_system=default_system())
        OutboxMessage.objects.all().delete()
        return Incident.objects.get(pk=incident.pk)

    def reminders(self) -> list[dict]:
        return [e for e in emails() if "disclosure in" in e["subject"]]

    def test_it_reminds_each_member_30_and_7_days_before_the_deadline_once_each(self, incident):
        deadline = incident.disclosure_deadline
        assert notifications.disclosure_reminders(deadline - timedelta(days=31)) == 0
        assert notifications.disclosure_reminders(deadline - timedelta(days=30)) == 2
        assert notifications.disclosure_reminders(deadline - timedelta(days=29)) == 0
        assert notifications.disclosure_reminders(deadline - timedelta(days=7)) == 2
        assert notifications.disclosure_reminders(deadline - timedelta(days=1)) == 0
        assert [(e["to"], e["subject"].split(": ")[1]) for e in self.reminders()] == [
            (["alice@mailpilot.example"], "disclosure in 30 days"),
            (["bob@mailpilot.example"], "disclosure in 30 days"),
            (["alice@mailpilot.example"], "disclosure in 7 days"),
            (["bob@mailpilot.example"], "disclosure in 7 days"),
        ]
        assert f"{deadline:%-d %B %Y}" in self.reminders()[0]["body"]

    def test_a_late_run_sends_only_the_nearest_reminder_and_says_how_long_is_left(self, incident):
        assert notifications.disclosure_reminders(incident.disclosure_deadline - timedelta(days=5)) == 2
        assert [e["subject"].split(": ")[1] for e in self.reminders()] == ["disclosure in 5 days"] * 2
        assert notifications.disclosure_reminders(incident.disclosure_deadline - timedelta(days=4)) == 0

    def test_an_extended_deadline_gets_fresh_reminders(self, incident, staff_user):
        old = incident.disclosure_deadline
        notifications.disclosure_reminders(old - timedelta(days=7))
        new = old + timedelta(days=30)
        workflow.extend_deadline(incident, new, actor=staff_user, reason="Fix in progress")
        assert notifications.disclosure_reminders(new - timedelta(days=30)) == 2
        assert len(self.reminders()) == 4

    def test_it_skips_a_reminder_that_was_due_before_the_vendor_was_told(self, incident):
        Incident.objects.filter(pk=incident.pk).update(
            disclosure_deadline=incident.vendor_notified_at + timedelta(days=20)
        )
        incident.refresh_from_db()
        assert notifications.disclosure_reminders(incident.vendor_notified_at + timedelta(days=1)) == 0
        assert notifications.disclosure_reminders(incident.disclosure_deadline - timedelta(days=7)) == 2

    def test_it_does_not_remind_about_a_published_incident(self, incident):
        workflow.transition(incident, Status.PUBLISHED, actor=None, reason="Published early")
        assert notifications.disclosure_reminders(incident.disclosure_deadline - timedelta(days=7)) == 0

    def test_the_daily_task_uses_the_current_time(self, incident):
        from incidents import tasks

        now = timezone.now()
        Incident.objects.filter(pk=incident.pk).update(
            vendor_notified_at=now - timedelta(days=84), disclosure_deadline=now + timedelta(days=6)
        )
        assert tasks.send_disclosure_reminders.delay().get() == 2
