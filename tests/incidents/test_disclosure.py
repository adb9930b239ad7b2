from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import disclosure, tasks, workflow
from incidents.models import Incident, OutboxMessage, Status, WebhookDelivery, WebhookEndpoint
from tests.conftest import default_system

pytestmark = pytest.mark.django_db


def overdue(make_incident, status: str = Status.VENDOR_NOTIFIED, **fields) -> Incident:
    incident = make_incident(status, ai_system=default_system(), **fields)
    Incident.objects.filter(pk=incident.pk).update(disclosure_deadline=timezone.now() - timedelta(hours=1))
    return Incident.objects.get(pk=incident.pk)


def test_it_publishes_an_unanswered_incident_after_its_deadline_and_says_why(make_incident):
    incident = overdue(make_incident)
    assert disclosure.publish_overdue() == 1
    incident.refresh_from_db()
    assert incident.status == Status.PUBLISHED and incident.published_at is not None
    event = incident.events.latest("created")
    assert (event.from_status, event.to_status, event.actor, event.actor_label) == (
        Status.VENDOR_NOTIFIED,
        Status.PUBLISHED,
        None,
        "System",
    )
    assert event.reason == (
        f"Disclosure deadline passed on {incident.disclosure_deadline:%-d %B %Y} without a response from "
        "the vendor; published automatically."
    )
    assert event.data == {"disclosure_deadline": incident.disclosure_deadline.isoformat(), "automatic": True}
    assert event.public


def test_it_publishes_an_answered_incident_with_the_vendors_response(make_incident):
    incident = overdue(make_incident, Status.VENDOR_RESPONDED)
    assert disclosure.publish_overdue() == 1
    event = incident.events.latest("created")
    assert event.to_status == Status.PUBLISHED
    assert "published automatically with the vendor's response" in event.reason


def test_it_leaves_incidents_before_their_deadline_and_those_without_one(make_incident):
    waiting = make_incident(Status.VENDOR_NOTIFIED, ai_system=default_system())
    confirmed = make_incident(Status.CONFIRMED)
    assert disclosure.publish_overdue() == 0
    # The deadline counts, not the clock of whoever runs the job.
    assert disclosure.publish_overdue(now=waiting.disclosure_deadline + timedelta(seconds=1)) == 1
    assert Incident.objects.get(pk=confirmed.pk).status == Status.CONFIRMED


def test_an_extended_deadline_holds_publication(make_incident, staff_user):
    incident = overdue(make_incident)
    workflow.extend_deadline(incident, timezone.now() + timedelta(days=14), actor=staff_user, reason="Fix shipping")
    assert disclosure.publish_overdue() == 0
    assert Incident.objects.get(pk=incident.pk).status == Status.VENDOR_NOTIFIED


def test_running_twice_publishes_once(make_incident):
    incident = overdue(make_incident)
    assert disclosure.publish_overdue() == 1
    assert disclosure.publish_overdue() == 0
    assert incident.events.filter(to_status=Status.PUBLISHED).count() == 1


def test_publication_tells_the_reporter_and_the_vendors_webhooks(make_incident, django_user_model):
    owner = django_user_model.objects.create_user("vendor-admin")
    WebhookEndpoint.objects.create(url="https://hooks.example/ow", owner=owner, vendor=default_system().vendor)
    incident = overdue(make_incident, email="me@example.org")
    OutboxMessage.objects.all().delete()
    disclosure.publish_overdue()
    [to_reporter] = [m.payload for m in OutboxMessage.objects.filter(kind=OutboxMessage.Kind.EMAIL)]
    assert to_reporter["to"] == ["me@example.org"] and "Disclosure deadline passed" in to_reporter["body"]
    [webhook] = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.WEBHOOK)
    delivery = WebhookDelivery.objects.get(pk=webhook.payload["delivery"])
    assert delivery.event == "incident.published"
    assert delivery.payload["incident"]["public_id"] == incident.public_id


def test_the_hourly_task_publishes_overdue_incidents(make_incident):
    overdue(make_incident)
    assert tasks.publish_overdue_incidents.delay().get() == 1
