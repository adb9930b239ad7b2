"""Who is told what, decided in one place and called inside the transaction of the change.

Every message goes through the outbox (``incidents.outbox``), so a committed change always has
its notifications recorded, and a broker outage only delays them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string

from incidents import outbox, webhooks
from incidents.models import Comment, Incident, IncidentEvent, ReporterContact, Status

REMINDER_DAYS = (30, 7)


def _reporter_email(incident: Incident) -> str:
    contact = ReporterContact.objects.filter(incident=incident, erased_at__isnull=True).exclude(email="").first()
    return contact.email if contact is not None else ""


def _email(to: list[str], template: str, context: dict, *, dedupe: str = "") -> None:
    incident: Incident = context["incident"]
    context = {**context, "site_url": settings.SITE_URL}
    subject = render_to_string(f"incidents/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"incidents/email/{template}.txt", context)
    outbox.enqueue_email(to=to, subject=f"[Override Watch] {incident.public_id}: {subject}", body=body, dedupe=dedupe)


def _to_reporter(incident: Incident, template: str, context: dict) -> None:
    email = _reporter_email(incident)
    if email:
        receipt_url = settings.SITE_URL + incident.get_receipt_url()
        _email([email], template, {**context, "incident": incident, "receipt_url": receipt_url})


def on_submission(incident: Incident) -> None:
    _to_reporter(incident, "acknowledgement", {})


def on_transition(event: IncidentEvent) -> None:
    incident = event.incident
    _to_reporter(incident, "status_changed", {"event": event})
    if event.to_status == Status.VENDOR_NOTIFIED:
        members = get_user_model().objects.filter(
            vendor_membership__vendor_id=incident.vendor_id, is_active=True
        ).exclude(email="")
        recipients = sorted(user.email for user in members)
        if recipients:
            _email(
                recipients,
                "vendor_notified",
                {"incident": incident, "portal_url": settings.SITE_URL + "/vendor/"},
            )
        webhooks.queue_event(incident, "incident.vendor_notified")
    elif event.to_status == Status.PUBLISHED:
        webhooks.queue_event(incident, "incident.published")
    elif incident.vendor_id:
        webhooks.queue_event(incident, "incident.status_changed")


def on_assignment(incident: Incident, assignee) -> None:
    if assignee.email:
        _email([assignee.email], "assigned", {"incident": incident, "assignee": assignee})


def on_question(comment: Comment) -> None:
    _to_reporter(comment.incident, "question", {"comment": comment})


def disclosure_reminders(now: datetime) -> int:
    """Remind vendors 30 and 7 days before their deadline, once each."""
    sent = 0
    for days in REMINDER_DAYS:
        due = Incident.objects.filter(
            status__in=(Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED),
            disclosure_deadline__gt=now,
            disclosure_deadline__lte=now + timedelta(days=days),
        ).select_related("vendor")
        for incident in due:
            dedupe = f"reminder:{incident.pk}:{days}:{incident.disclosure_deadline:%Y%m%d}"
            if outbox.already_enqueued(dedupe):
                continue
            members = get_user_model().objects.filter(
                vendor_membership__vendor_id=incident.vendor_id, is_active=True
            ).exclude(email="")
            recipients = sorted(user.email for user in members)
            if recipients:
                _email(recipients, "deadline_reminder", {"incident": incident, "days": days}, dedupe=dedupe)
                sent += 1
    return sent
