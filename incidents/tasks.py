"""Celery tasks: thin wrappers that take ids, so a retried or duplicated message does no harm.

Each is safe to run twice (acks are late, so a lost worker means a rerun): deliveries claim their
outbox row, and the scheduled jobs re-check each incident under its row lock.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from incidents import dataset, digests, disclosure, notifications, outbox, rollup, staging


@shared_task
def deliver_outbox_message(message_id: int) -> bool:
    return outbox.deliver(message_id)


@shared_task
def sweep_outbox() -> int:
    return outbox.sweep()


@shared_task
def purge_outbox() -> int:
    return outbox.purge(timezone.now())


@shared_task
def purge_staged_uploads() -> int:
    return staging.purge(timezone.now())


@shared_task
def publish_overdue_incidents() -> int:
    return disclosure.publish_overdue()


@shared_task
def send_disclosure_reminders() -> int:
    return notifications.disclosure_reminders(timezone.now())


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def refresh_statistics(months: list[str] | None = None) -> None:
    rollup.refresh(months)


@shared_task
def send_weekly_digests() -> None:
    digests.send_weekly()


@shared_task
def build_dataset_snapshot() -> None:
    dataset.build()
