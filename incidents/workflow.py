"""The one place an incident's status changes.

Every change locks the row, checks the transitions table, saves, writes exactly one history row
and schedules side effects after commit. Web views, the admin and the API all call ``transition``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, Status, actor_label


@dataclass(frozen=True)
class Transition:
    source: Status
    target: Status
    label: str
    reason_required: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Status.SUBMITTED, Status.TRIAGE, "Start triage"),
    Transition(Status.SUBMITTED, Status.REJECTED, "Reject", reason_required=True),
    Transition(Status.SUBMITTED, Status.DUPLICATE, "Mark as duplicate", reason_required=True),
    Transition(Status.TRIAGE, Status.CONFIRMED, "Confirm"),
    Transition(Status.TRIAGE, Status.REJECTED, "Reject", reason_required=True),
    Transition(Status.TRIAGE, Status.DUPLICATE, "Mark as duplicate", reason_required=True),
    Transition(Status.CONFIRMED, Status.VENDOR_NOTIFIED, "Notify vendor"),
    # Publishing without the vendor (none known, or the deadline passed) must say why.
    Transition(Status.CONFIRMED, Status.PUBLISHED, "Publish without vendor", reason_required=True),
    Transition(Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED, "Record vendor response"),
    Transition(Status.VENDOR_NOTIFIED, Status.PUBLISHED, "Publish before vendor response", reason_required=True),
    Transition(Status.VENDOR_RESPONDED, Status.PUBLISHED, "Publish"),
    Transition(Status.PUBLISHED, Status.RESOLVED, "Mark resolved"),
    # Reopening sends an incident back to triage, always with a reason.
    *(
        Transition(source, Status.TRIAGE, "Reopen", reason_required=True)
        for source in (Status.REJECTED, Status.DUPLICATE, Status.PUBLISHED, Status.RESOLVED)
    ),
)

# Status changes the public timeline shows once an incident is published.
PUBLIC_TARGETS = {
    Status.CONFIRMED,
    Status.VENDOR_NOTIFIED,
    Status.VENDOR_RESPONDED,
    Status.PUBLISHED,
    Status.RESOLVED,
}


class TransitionError(Exception):
    """A transition that is not allowed from the incident's current status, or lacks a reason."""

    def __init__(self, message: str, *, allowed: list[Status]) -> None:
        super().__init__(message)
        self.allowed = allowed


def allowed_transitions(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == status]


def find_transition(source: str, target: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.source == source and t.target == target), None)


def record_submission(incident: Incident) -> IncidentEvent:
    """The first history row, written in the same transaction that creates the incident."""
    return incident.events.create(
        action=IncidentEvent.Action.SUBMITTED,
        to_status=incident.status,
        actor_label="Reporter",
        data={"intake_channel": incident.intake_channel},
    )


def transition(
    incident: Incident,
    target: str,
    *,
    actor: AbstractBaseUser | None,
    reason: str = "",
    data: dict | None = None,
) -> IncidentEvent:
    """Move ``incident`` to ``target``; raises TransitionError and changes nothing when not allowed."""
    reason = reason.strip()
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        allowed = [t.target for t in allowed_transitions(locked.status)]
        step = find_transition(locked.status, target)
        if step is None:
            raise TransitionError(
                f"An incident cannot go from {Status(locked.status).label.lower()} to "
                f"{Status(target).label.lower() if target in Status.values else repr(target)}.",
                allowed=allowed,
            )
        if step.reason_required and not reason:
            raise TransitionError(f"“{step.label}” needs a reason.", allowed=allowed)

        now = timezone.now()
        locked.status = step.target
        if step.target == Status.PUBLISHED and locked.published_at is None:
            locked.published_at = now
        locked.save(update_fields=["status", "published_at", "modified"])
        event = locked.events.create(
            action=IncidentEvent.Action.TRANSITION,
            from_status=step.source,
            to_status=step.target,
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_label=actor_label(actor),
            reason=reason,
            data=data or {},
            public=step.target in PUBLIC_TARGETS,
            created=now,
        )
        transaction.on_commit(lambda: _after_transition(event.pk))
    incident.status, incident.published_at = locked.status, locked.published_at
    return event


def _after_transition(event_id: int) -> None:
    from incidents import tasks

    tasks.notify_reporter_of_status.delay(event_id)
