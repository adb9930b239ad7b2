"""Coordinated disclosure's deadline: incidents the vendor did not settle in time are published."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidents import workflow
from incidents.models import Incident, Status

logger = logging.getLogger(__name__)

UNDER_DISCLOSURE = (Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED)


def publish_overdue(now: datetime | None = None) -> int:
    """Publish every incident whose disclosure deadline has passed; returns how many were published.

    Each incident is its own transaction, so one failure never holds back the others, and the
    history row says why it was published (the reporter and webhooks hear of it as usual).
    """
    now = now or timezone.now()
    overdue = Incident.objects.filter(status__in=UNDER_DISCLOSURE, disclosure_deadline__lt=now)
    published = 0
    for incident_id in overdue.order_by("disclosure_deadline").values_list("pk", flat=True):
        with transaction.atomic():
            # Checked again under the row lock: staff may have extended the deadline, or the
            # incident moved on, since the list was read.
            incident = (
                Incident.objects.select_for_update()
                .filter(pk=incident_id, status__in=UNDER_DISCLOSURE, disclosure_deadline__lt=now)
                .first()
            )
            if incident is None:
                continue
            try:
                workflow.transition(
                    incident,
                    Status.PUBLISHED,
                    actor=None,
                    reason=_reason(incident),
                    data={"disclosure_deadline": incident.disclosure_deadline.isoformat(), "automatic": True},
                )
            except workflow.TransitionError as exc:
                logger.warning("Could not publish overdue %s: %s", incident.public_id, exc)
                continue
        published += 1
        logger.info("Published %s: its disclosure deadline passed.", incident.public_id)
    return published


def _reason(incident: Incident) -> str:
    deadline = f"{incident.disclosure_deadline:%-d %B %Y}"
    if incident.status == Status.VENDOR_NOTIFIED:
        return f"Disclosure deadline passed on {deadline} without a response from the vendor; published automatically."
    return f"Disclosure deadline passed on {deadline}; published automatically with the vendor's response."
