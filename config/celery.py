"""Celery application. With no broker configured, tasks run in-process (see settings)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("overridewatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A static schedule, run by exactly one `celery -A config beat` (django-celery-beat does not
# support Django 6.1). Each entry expires before its next run, so a backlog never piles up copies.
app.conf.beat_schedule = {
    # Delivers what a broker outage or a failed attempt left in the outbox.
    "sweep-outbox": {
        "task": "incidents.tasks.sweep_outbox",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Sent emails carry addresses: they are deleted after outbox.RETENTION.
    "purge-outbox": {
        "task": "incidents.tasks.purge_outbox",
        "schedule": crontab(hour=2, minute=45),
        "options": {"expires": 23 * 60 * 60},
    },
    # Files kept for a report form that was shown again: deleted once their token has expired.
    "purge-staged-uploads": {
        "task": "incidents.tasks.purge_staged_uploads",
        "schedule": crontab(minute=50),
        "options": {"expires": 55 * 60},
    },
    "publish-overdue-incidents": {
        "task": "incidents.tasks.publish_overdue_incidents",
        "schedule": crontab(minute=5),
        "options": {"expires": 55 * 60},
    },
    "rebuild-statistics": {
        "task": "incidents.tasks.refresh_statistics",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 23 * 60 * 60},
    },
    "send-weekly-digests": {
        "task": "incidents.tasks.send_weekly_digests",
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
        "options": {"expires": 23 * 60 * 60},
    },
    "build-dataset-snapshot": {
        "task": "incidents.tasks.build_dataset_snapshot",
        "schedule": crontab(hour=4, minute=30),
        "options": {"expires": 23 * 60 * 60},
    },
    "purge-idempotency-keys": {
        "task": "api.tasks.purge_idempotency_keys",
        "schedule": crontab(minute=40),
        "options": {"expires": 55 * 60},
    },
    "send-disclosure-reminders": {
        "task": "incidents.tasks.send_disclosure_reminders",
        "schedule": crontab(hour=8, minute=0),
        "options": {"expires": 23 * 60 * 60},
    },
}
