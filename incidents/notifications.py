"""Who is told what, and when: the one place that decides.

Every function runs inside the transaction of the change it reports and only writes outbox rows,
so a notification exists exactly when its change does and is delivered even across a broker
outage. Reporters are told through their email only while they have one and have not asked
for it to be erased; vendors are never told who reported.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.template.loader import render_to_string

from incidents import digests, outbox, rollup, webhooks
from incidents.models import Comment, Incident, IncidentEvent, ReporterContact, Status

# Reminders to the vendor before an unanswered incident is published at its deadline.
REMINDER_DAYS = (30, 7)
DEADLINE_STATUSES = (Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED)


def on_submission(incident: Incident) -> None:
    """Acknowledge a new report to the reporter, with their private receipt link."""
    contact = _reporter_contact(incident)
    if contact is not None:
        _email("acknowledgement", {"incident": incident, **_receipt(incident)}, contact.email, incident)


def on_transition(event: IncidentEvent) -> None:
    """Tell the reporter, the vendor and webhook endpoints about one status change."""
    incident = event.incident
    contact = _reporter_contact(incident)
    if contact is not None:
        template = "rejected" if event.to_status == Status.REJECTED else "status_changed"
        _email(template, {"incident": incident, "event": event, **_receipt(incident)}, contact.email, incident)

    rollup.on_transition(event)
    digests.on_transition(event)
    if event.to_status == Status.VENDOR_NOTIFIED:
        context = {"incident": incident, "portal_url": settings.SITE_URL + "/vendor/"}
        for address in _vendor_addresses(incident):
            _email("vendor_notified", context, address, incident)
        webhooks.queue_event(incident, webhooks.VENDOR_NOTIFIED)
    elif event.to_status == Status.PUBLISHED:
        webhooks.queue_event(incident, webhooks.PUBLISHED)
    else:
        # Only endpoints whose owners may still see the incident hear of it (see endpoints_for).
        webhooks.queue_event(incident, webhooks.STATUS_CHANGED)


def on_assignment(incident: Incident, assignee: AbstractBaseUser) -> None:
    """Tell a triager an incident was assigned to them."""
    if assignee.email:
        _email("assigned", {"incident": incident, "assignee": assignee}, assignee.email, incident)


def on_question(comment: Comment) -> None:
    """A triager asked the reporter something; they answer on their receipt page."""
    incident = comment.incident
    contact = _reporter_contact(incident)
    if contact is not None:
        _email("question", {"incident": incident, "comment": comment, **_receipt(incident)}, contact.email, incident)


def disclosure_reminders(now: datetime) -> int:
    """Remind vendor members 30 and 7 days before publication; returns how many emails were queued.

    Runs daily; each reminder goes out once per deadline (a dedupe key on its outbox rows), and an
    extended deadline earns fresh reminders. A reminder whose moment had passed when the vendor
    was notified is skipped: the notification already said how long they have.
    """
    horizon = now + timedelta(days=max(REMINDER_DAYS))
    candidates = Incident.objects.filter(
        status__in=DEADLINE_STATUSES, disclosure_deadline__gt=now, disclosure_deadline__lte=horizon
    ).values_list("pk", flat=True)
    queued = 0
    for incident_id in candidates:
        with transaction.atomic():
            # The row lock serialises overlapping runs, so the dedupe check cannot race.
            incident = Incident.objects.select_for_update().get(pk=incident_id)
            queued += _remind(incident, now)
    return queued


def _remind(incident: Incident, now: datetime) -> int:
    deadline = incident.disclosure_deadline
    if incident.status not in DEADLINE_STATUSES or deadline is None or not now < deadline:
        return 0
    days = next((d for d in sorted(REMINDER_DAYS) if deadline - now <= timedelta(days=d)), None)
    if days is None:
        return 0
    if incident.vendor_notified_at and incident.vendor_notified_at > deadline - timedelta(days=days):
        return 0
    dedupe = f"disclosure-reminder:{incident.pk}:{days}:{deadline.isoformat()}"
    if outbox.already_enqueued(dedupe):
        return 0
    context = {"incident": incident, "days": math.ceil((deadline - now) / timedelta(days=1))}
    recipients = _vendor_addresses(incident)
    for address in recipients:
        _email("deadline_reminder", context, address, incident, dedupe=dedupe)
    return len(recipients)


def _email(template: str, context: dict, to: str, incident: Incident, *, dedupe: str = "") -> None:
    # One message per recipient: nobody sees anyone else's address, and one refused address
    # does not hold back the others.
    context = {**context, "site_url": settings.SITE_URL}
    subject = render_to_string(f"incidents/email/{template}_subject.txt", context)
    # Collapsed to one line: a newline in a header makes Django refuse the message.
    subject = " ".join(f"[Override Watch] {incident.public_id}: {subject}".split())
    body = render_to_string(f"incidents/email/{template}.txt", context)
    outbox.enqueue_email(to=[to], subject=subject, body=body, dedupe=dedupe)


def _reporter_contact(incident: Incident) -> ReporterContact | None:
    return ReporterContact.objects.filter(incident=incident, erased_at__isnull=True).exclude(email="").first()


def _vendor_addresses(incident: Incident) -> list[str]:
    if not incident.vendor_id:
        return []
    members = get_user_model().objects.filter(vendor_membership__vendor_id=incident.vendor_id, is_active=True)
    return list(members.exclude(email="").order_by("pk").values_list("email", flat=True))


def _receipt(incident: Incident) -> dict:
    return {"receipt_url": settings.SITE_URL + incident.get_receipt_url()}
