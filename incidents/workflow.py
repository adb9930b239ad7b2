"""The one place an incident's status, and everything that follows from it, changes.

Every action locks the incident row, checks what is allowed, saves, writes exactly one history row
(``IncidentEvent``) and leaves side effects to ``incidents.notifications`` in the same transaction
(an outbox, so nothing is lost). Web views, the admin and the API all call these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from incidents import rollup
from incidents.models import (
    Comment,
    Incident,
    IncidentEvent,
    OutboxMessage,
    ReporterContact,
    Status,
    Transcript,
    VendorResponse,
    actor_label,
)
from incidents.severity import SeverityVector


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


class WorkflowError(Exception):
    """An action that is not allowed now; nothing was changed."""


class TransitionError(WorkflowError):
    """A transition that is not allowed from the incident's current status, or lacks a reason."""

    def __init__(self, message: str, *, allowed: list[Status]) -> None:
        super().__init__(message)
        self.allowed = allowed


def allowed_transitions(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == status]


def find_transition(source: str, target: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.source == source and t.target == target), None)


def _actor(user: AbstractBaseUser | None) -> dict:
    """The actor columns of a history row: the user (if any) and a copy of their label."""
    return {
        "actor": user if user is not None and user.is_authenticated else None,
        "actor_label": actor_label(user),
    }


def _lock(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def record_submission(incident: Incident) -> IncidentEvent:
    """The first history row, written in the same transaction that creates the incident."""
    from incidents import notifications

    event = incident.events.create(
        action=IncidentEvent.Action.SUBMITTED,
        to_status=incident.status,
        actor_label="Reporter",
        data={"intake_channel": incident.intake_channel},
    )
    notifications.on_submission(incident)
    return event


def transition(
    incident: Incident,
    target: str,
    *,
    actor: AbstractBaseUser | None,
    reason: str = "",
    data: dict | None = None,
) -> IncidentEvent:
    """Move ``incident`` to ``target``; raises TransitionError and changes nothing when not allowed."""
    from incidents import notifications

    reason = reason.strip()
    with transaction.atomic():
        locked = _lock(incident)
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
        if step.target == Status.VENDOR_NOTIFIED and locked.vendor_id is None:
            raise TransitionError(
                "Link the incident to an AI system with a known vendor before notifying the vendor.",
                allowed=allowed,
            )

        now = timezone.now()
        locked.status = step.target
        changed = ["status", "modified"]
        if step.target == Status.PUBLISHED and locked.published_at is None:
            locked.published_at = now
            changed.append("published_at")
        if step.target == Status.VENDOR_NOTIFIED and locked.vendor_notified_at is None:
            locked.vendor_notified_at = now
            locked.disclosure_deadline = now + timedelta(days=locked.vendor.disclosure_days)
            changed += ["vendor_notified_at", "disclosure_deadline"]
        if step.target == Status.VENDOR_RESPONDED and locked.first_vendor_response_at is None:
            locked.first_vendor_response_at = now
            changed.append("first_vendor_response_at")
        if step.source == Status.DUPLICATE and locked.duplicate_of_id is not None:
            # Reopened: no longer a supplemental report, so the canonical incident counts it no more.
            Incident.objects.filter(pk=locked.duplicate_of_id).update(
                report_count=F("report_count") - 1,
                reproduction_count=F("reproduction_count") - int(locked.is_reproduction),
                modified=now,
            )
            locked.duplicate_of, locked.is_reproduction = None, False
            changed += ["duplicate_of", "is_reproduction"]
        locked.save(update_fields=changed)
        event = locked.events.create(
            action=IncidentEvent.Action.TRANSITION,
            from_status=step.source,
            to_status=step.target,
            reason=reason,
            data=data or {},
            public=step.target in PUBLIC_TARGETS,
            created=now,
            **_actor(actor),
        )
        notifications.on_transition(event)
    _refresh(incident, locked)
    return event


def _refresh(incident: Incident, locked: Incident) -> None:
    for name in Incident.WORKFLOW_FIELDS:
        setattr(incident, name, getattr(locked, name))


def merge_duplicate(
    incident: Incident,
    canonical: Incident,
    *,
    actor: AbstractBaseUser | None,
    reason: str = "",
    reproduction: bool = False,
) -> IncidentEvent:
    """Keep ``incident`` as a supplemental report of ``canonical``; the canonical's counts go up."""
    if canonical.pk == incident.pk:
        raise WorkflowError("An incident cannot be a duplicate of itself.")
    if canonical.duplicate_of_id is not None or canonical.status in (Status.DUPLICATE, Status.REJECTED):
        raise WorkflowError(f"{canonical.public_id} is not a canonical incident; merge into the one it points to.")
    reason = reason.strip() or f"Duplicate of {canonical.public_id}."
    with transaction.atomic():
        event = transition(
            incident,
            Status.DUPLICATE,
            actor=actor,
            reason=reason,
            data={"duplicate_of": canonical.public_id, "reproduction": reproduction},
        )
        Incident.objects.filter(pk=incident.pk).update(duplicate_of=canonical, is_reproduction=reproduction)
        Incident.objects.filter(pk=canonical.pk).update(
            report_count=F("report_count") + 1,
            reproduction_count=F("reproduction_count") + int(reproduction),
            modified=timezone.now(),
        )
        canonical.events.create(
            action=IncidentEvent.Action.MERGED,
            data={"duplicate": incident.public_id, "reproduction": reproduction},
            public=reproduction,
            **_actor(actor),
        )
    incident.duplicate_of, incident.is_reproduction = canonical, reproduction
    canonical.refresh_from_db(fields=["report_count", "reproduction_count"])
    return event


def assign(incident: Incident, assignee: AbstractBaseUser | None, *, actor: AbstractBaseUser | None) -> IncidentEvent:
    from incidents import notifications

    if assignee is not None and not assignee.is_staff:
        raise WorkflowError("Only staff can be assigned incidents.")
    with transaction.atomic():
        locked = _lock(incident)
        locked.assignee = assignee
        locked.save(update_fields=["assignee", "modified"])
        event = locked.events.create(
            action=IncidentEvent.Action.ASSIGNED,
            data={"assignee": actor_label(assignee) if assignee else None},
            **_actor(actor),
        )
        if assignee is not None and assignee != actor:
            notifications.on_assignment(locked, assignee)
    incident.assignee = assignee
    return event


def claim(incident: Incident, *, actor: AbstractBaseUser) -> IncidentEvent:
    """A triager takes an unassigned incident; two claiming at once cannot both win (row lock)."""
    with transaction.atomic():
        locked = _lock(incident)
        if locked.assignee_id is not None and locked.assignee_id != actor.pk:
            raise WorkflowError(f"{locked.public_id} is already assigned to {actor_label(locked.assignee)}.")
        return assign(locked, actor, actor=actor)


def edit_transcript(
    transcript: Transcript,
    *,
    instruction_turn: int | None,
    violation_turns: list[int],
    redaction_terms: list[str],
    actor: AbstractBaseUser | None,
) -> IncidentEvent | None:
    """Staff mark where the instruction was given and where it was broken, and what else to redact.

    The redacted turns are derived again on save, so vendors and the public see the new terms at
    once. The history records the marks old → new but only how many terms there are: the terms are
    names and addresses, and the history can never be erased. Nothing to change, no row.
    """
    count = len(transcript.turns)
    marked = [index for index in [instruction_turn, *violation_turns] if index is not None]
    if any(index < 0 or index >= count for index in marked):
        raise WorkflowError(f"A marked turn does not exist: the transcript has turns 0 to {count - 1}.")
    new = {
        "instruction_turn": instruction_turn,
        "violation_turns": sorted(set(violation_turns)),
        "redaction_terms": list(dict.fromkeys(redaction_terms)),
    }
    with transaction.atomic():
        locked = _lock(transcript.incident)
        transcript.refresh_from_db(fields=list(new))
        old = {name: getattr(transcript, name) for name in new}
        changed = [name for name in new if old[name] != new[name]]
        if not changed:
            return None
        for name in changed:
            setattr(transcript, name, new[name])
        transcript.save(update_fields=[*changed, "redacted_turns", "redaction_counts"])
        locked.save(update_fields=["modified"])
        before, after = _for_history(old), _for_history(new)
        return locked.events.create(
            action=IncidentEvent.Action.EDITED,
            data={
                "transcript": transcript.sha256[:16],
                "changes": {name: [before[name], after[name]] for name in changed},
            },
            **_actor(actor),
        )


def _for_history(marks: dict) -> dict:
    terms = marks["redaction_terms"]
    return {**marks, "redaction_terms": f"{len(terms)} term{'' if len(terms) == 1 else 's'}"}


def extend_deadline(
    incident: Incident, new_deadline: datetime, *, actor: AbstractBaseUser | None, reason: str
) -> IncidentEvent:
    if not reason.strip():
        raise WorkflowError("Extending a disclosure deadline needs a reason.")
    with transaction.atomic():
        locked = _lock(incident)
        if locked.status not in (Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED):
            raise WorkflowError("Only an incident under disclosure has a deadline to extend.")
        if new_deadline <= (locked.disclosure_deadline or timezone.now()):
            raise WorkflowError("The new deadline must be later than the current one.")
        old = locked.disclosure_deadline
        locked.disclosure_deadline = new_deadline
        locked.save(update_fields=["disclosure_deadline", "modified"])
        event = locked.events.create(
            action=IncidentEvent.Action.DEADLINE_EXTENDED,
            reason=reason.strip(),
            data={"from": old.isoformat() if old else None, "to": new_deadline.isoformat()},
            **_actor(actor),
        )
    incident.disclosure_deadline = new_deadline
    return event


def edit(incident: Incident, changes: dict, *, actor: AbstractBaseUser | None) -> IncidentEvent | None:
    """Staff edit fields; the history records each change as old → new. Nothing to change, no row."""
    forbidden = set(changes) & (Incident.WORKFLOW_FIELDS | {"public_id", "receipt_token", "vendor"})
    if forbidden:
        raise WorkflowError(f"These fields change only through the workflow: {', '.join(sorted(forbidden))}.")
    with transaction.atomic():
        locked = _lock(incident)
        diff = {}
        for name, value in changes.items():
            old = getattr(locked, name)
            if old != value:
                diff[name] = [_loggable(old), _loggable(value)]
                setattr(locked, name, value)
        if not diff:
            return None
        locked.save()
        rollup.incident_changed(locked)
        action = IncidentEvent.Action.SYSTEM_LINKED if set(diff) == {"ai_system"} else IncidentEvent.Action.EDITED
        event = locked.events.create(action=action, data={"changes": diff}, **_actor(actor))
    for name in changes:
        setattr(incident, name, getattr(locked, name))
    incident.vendor_id, incident.severity_score, incident.severity_band = (
        locked.vendor_id,
        locked.severity_score,
        locked.severity_band,
    )
    return event


def _loggable(value: object) -> object:
    if hasattr(value, "pk"):
        return str(value)
    if isinstance(value, (str, int, float, bool, list, dict)) or value is None:
        return value
    return str(value)


def respond_as_vendor(
    incident: Incident,
    *,
    kind: str,
    text: str = "",
    severity: SeverityVector | None = None,
    actor: AbstractBaseUser,
) -> VendorResponse:
    """A vendor answers; the first answer moves the incident to vendor_responded."""
    membership = getattr(actor, "vendor_membership", None)
    if membership is None or membership.vendor_id != incident.vendor_id:
        raise WorkflowError("Only members of this incident's vendor can answer it.")
    if incident.status not in (Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED, Status.PUBLISHED, Status.RESOLVED):
        raise WorkflowError("The vendor can answer once notified.")
    if kind in (VendorResponse.Kind.DISPUTED, VendorResponse.Kind.STATEMENT) and not text.strip():
        raise WorkflowError("A dispute or a public statement needs its text.")
    with transaction.atomic():
        locked = _lock(incident)
        response = VendorResponse.objects.create(
            incident=locked,
            vendor_id=membership.vendor_id,
            author=actor,
            author_label=actor_label(actor),
            kind=kind,
            text=text.strip(),
        )
        fields = ["modified"]
        if kind == VendorResponse.Kind.STATEMENT:
            locked.vendor_statement = response.text
            fields.append("vendor_statement")
        if severity is not None:
            locked.vendor_severity_vector = str(severity)
            fields.append("vendor_severity_vector")
        locked.save(update_fields=fields)
        locked.events.create(
            action=IncidentEvent.Action.VENDOR_RESPONSE,
            data={"kind": kind, "severity": str(severity) if severity else None},
            public=kind == VendorResponse.Kind.STATEMENT,
            **_actor(actor),
        )
        if locked.status == Status.VENDOR_NOTIFIED:
            transition(locked, Status.VENDOR_RESPONDED, actor=actor, reason=f"Vendor: {response.get_kind_display()}")
    incident.refresh_from_db()
    return response


def comment(incident: Incident, *, kind: str, text: str, actor: AbstractBaseUser | None) -> Comment:
    """Staff notes and questions, and the reporter's answers (actor None, through the receipt page)."""
    from incidents import notifications

    if not text.strip():
        raise WorkflowError("Write something first.")
    action = {
        Comment.Kind.INTERNAL: IncidentEvent.Action.COMMENT,
        Comment.Kind.QUESTION: IncidentEvent.Action.QUESTION,
        Comment.Kind.ANSWER: IncidentEvent.Action.REPORTER_ANSWER,
    }[kind]
    with transaction.atomic():
        locked = _lock(incident)
        label = "Reporter" if kind == Comment.Kind.ANSWER else actor_label(actor)
        note = locked.comments.create(kind=kind, text=text.strip(), author=_actor(actor)["actor"], author_label=label)
        locked.save(update_fields=["modified"])
        locked.events.create(action=action, actor=note.author, actor_label=label)
        if kind == Comment.Kind.QUESTION:
            notifications.on_question(note)
    return note


def erase_reporter_contact(incident: Incident, *, actor: AbstractBaseUser | None) -> IncidentEvent:
    """The reporter asked to be forgotten: contact details go, the incident stays."""
    with transaction.atomic():
        contact = ReporterContact.objects.filter(incident=incident, erased_at__isnull=True).first()
        if contact is None:
            raise WorkflowError("There are no contact details to erase.")
        if contact.email:
            # Unsent notifications hold the address too: empty them, so nothing more goes to it.
            OutboxMessage.objects.filter(
                kind=OutboxMessage.Kind.EMAIL,
                payload__to=[contact.email],
                payload__subject__startswith=f"[Override Watch] {incident.public_id}:",
            ).update(
                payload={"to": [], "subject": "", "body": "", "erased": True}, sent_at=Coalesce(F("sent_at"), Now())
            )
        ReporterContact.objects.filter(incident=incident).update(name="", email="", erased_at=timezone.now())
        return incident.events.create(
            action=IncidentEvent.Action.CONTACT_ERASED,
            actor=_actor(actor)["actor"],
            actor_label="Reporter" if actor is None else actor_label(actor),
        )
