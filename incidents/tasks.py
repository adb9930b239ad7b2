"""Celery tasks: thin wrappers that take ids, so a retried or duplicated message does no harm."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from incidents import notifications, outbox


@shared_task
def deliver_outbox_message(message_id: int) -> bool:
    return outbox.deliver(message_id)


@shared_task
def sweep_outbox() -> int:
    return outbox.sweep()


@shared_task
def send_disclosure_reminders() -> int:
    return notifications.disclosure_reminders(timezone.now())
