"""Celery tasks. They take ids, are idempotent enough to retry, and do one thing each."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from incidents.models import IncidentEvent, ReporterContact


def _send_to_reporter(contact: ReporterContact, template: str, context: dict) -> None:
    incident = contact.incident
    context = {
        **context,
        "incident": incident,
        "receipt_url": settings.SITE_URL + incident.get_receipt_url(),
    }
    subject = (
        f"[Override Watch] {incident.public_id}: "
        + render_to_string(f"incidents/email/{template}_subject.txt", context).strip()
    )
    body = render_to_string(f"incidents/email/{template}.txt", context)
    send_mail(subject, body, None, [contact.email])


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_report_acknowledgement(incident_id: int) -> None:
    contact = (
        ReporterContact.objects.select_related("incident")
        .filter(incident_id=incident_id, erased_at__isnull=True)
        .exclude(email="")
        .first()
    )
    if contact is not None:
        _send_to_reporter(contact, "acknowledgement", {})


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def notify_reporter_of_status(event_id: int) -> None:
    event = IncidentEvent.objects.filter(pk=event_id).first()
    if event is None:
        return
    contact = (
        ReporterContact.objects.select_related("incident")
        .filter(incident_id=event.incident_id, erased_at__isnull=True)
        .exclude(email="")
        .first()
    )
    if contact is not None:
        _send_to_reporter(contact, "status_changed", {"event": event})
