"""Periodic API housekeeping (scheduled in config/celery.py)."""

from __future__ import annotations

from celery import shared_task

from api import idempotency


@shared_task
def purge_idempotency_keys() -> int:
    """Forget idempotency keys older than their 24-hour retention."""
    return idempotency.purge_idempotency_keys(older_than=idempotency.RETENTION)
