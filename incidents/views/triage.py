"""Staff triage: the queue at /triage/ and each incident's triage page.

Views parse, authorise (``access.staff_required`` on every one), call ``incidents.workflow`` for
every change, and redirect after a POST. A refused change (WorkflowError) shows the page again
with the message and a 409; invalid input shows it again with field errors and a 400.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib import messages
from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from incidents import access, duplicates, severity, workflow
from incidents.models import AISystem, Comment, Incident, IncidentEvent, ReporterContact, Status, Transcript
from incidents.triage_filters import DISCLOSURE_STATUSES, OPEN_STATUSES, SORT_CHOICES, TriageFilter
from incidents.triage_forms import (
    REJECTION_REASONS,
    AssignForm,
    BulkForm,
    ClassificationForm,
    CommentForm,
    CompareForm,
    DeadlineForm,
    EraseContactForm,
    IncidentEditForm,
    MergeForm,
    SystemCreateForm,
    SystemLinkForm,
    TranscriptForm,
    TransitionForm,
    TriagerSeverityForm,
    available_transitions,
)

PAGE_SIZE = 50
# Status counts stop at this many per status and show "10,000+": see status_counts().
STATUS_COUNT_CAP = 10_000
# Suggested duplicates are worked out on arrival (the triage page) while the incident is being screened.
SCREENING_STATUSES = (Status.SUBMITTED, Status.TRIAGE, Status.CONFIRMED)
AUTOCOMPLETE_LIMIT = 20


# The queue ---------------------------------------------------------------------------------------


class InvalidCursor(Exception):
    pass


@dataclass
class KeysetPage:
    items: list
    next_url: str | None = None
    previous_url: str | None = None


class QueueKeyset:
    """Keyset (seek) pagination over a compound sort key: no OFFSET and no COUNT.

    The cursor holds the sort key of the last (or first) row shown, signed so it cannot be forged;
    the next page is "rows after that key" in the chosen order, so page 2,000 costs what page 1
    does. The last key is the primary key, so every row has exactly one place.
    """

    salt = "triage.queue.cursor"

    def __init__(self, name: str, keys: tuple[tuple[str, bool], ...], page_size: int | None = None) -> None:
        self.name, self.keys, self.page_size = name, keys, page_size or PAGE_SIZE

    def paginate(self, queryset: QuerySet, params: QueryDict) -> KeysetPage:
        forward, values = True, None
        if params.get("cursor"):
            forward, values = self._decode(params["cursor"])
        ordering = [f"-{name}" if descending == forward else name for name, descending in self.keys]
        if values is not None:
            queryset = queryset.filter(self._beyond(values, forward))
        try:
            # The page's ids first, from the incident table alone (narrow rows, served by its indexes),
            # then those rows with their joins: the joins never run over the rows the page skips.
            ids = list(queryset.order_by(*ordering).values_list("pk", flat=True)[: self.page_size + 1])
        except ValidationError as exc:  # a key value of the wrong type: only possible with a stale cursor
            raise InvalidCursor(str(exc)) from exc
        more = len(ids) > self.page_size
        ids = ids[: self.page_size]
        by_id = {row.pk: row for row in queryset.filter(pk__in=ids).order_by()} if ids else {}
        rows = [by_id[pk] for pk in ids if pk in by_id]
        if not forward:
            rows.reverse()
        page = KeysetPage(rows)
        if rows:
            # Walking forward, more rows means a next page; walking back, we came from the next page.
            if more if forward else True:
                page.next_url = self._url(params, rows[-1], forward=True)
            if values is not None if forward else more:
                page.previous_url = self._url(params, rows[0], forward=False)
        return page

    def _beyond(self, values: list, forward: bool) -> Q:
        """Rows strictly after ``values`` in the walking order: (a > x) or (a = x and b > y) or …"""
        condition, equal = Q(pk__in=[]), Q()
        for (name, descending), value in zip(self.keys, values, strict=True):
            lookup = "lt" if descending == forward else "gt"
            condition |= equal & Q(**{f"{name}__{lookup}": value})
            equal &= Q(**{name: value})
        (first, descending), first_value = self.keys[0], values[0]
        if first_value is not None:
            # A redundant bound on the first key gives PostgreSQL an index range: deep pages cost what page 1 does.
            condition &= Q(**{f"{first}__{'lte' if descending == forward else 'gte'}": first_value})
        return condition

    def _url(self, params: QueryDict, row, *, forward: bool) -> str:
        values = [_plain(getattr(row, name)) for name, _ in self.keys]
        token = signing.dumps({"s": self.name, "f": forward, "v": values}, salt=self.salt, compress=True)
        query = params.copy()
        query["cursor"] = token
        return f"?{query.urlencode()}"

    def _decode(self, token: str) -> tuple[bool, list]:
        try:
            payload = signing.loads(token, salt=self.salt)
        except signing.BadSignature as exc:
            raise InvalidCursor("This page link is not valid.") from exc
        if not isinstance(payload, dict):
            raise InvalidCursor("This page link is not valid.")
        values = payload.get("v")
        if payload.get("s") != self.name or not isinstance(values, list) or len(values) != len(self.keys):
            raise InvalidCursor("This page link belongs to another sort order.")
        return bool(payload.get("f", True)), values


def _plain(value: object) -> object:
    """A key value as JSON; the field turns it back into its type when the cursor is used."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def status_counts() -> list[dict]:
    """How many incidents are in each status, exact up to STATUS_COUNT_CAP, then "10,000+".

    An exact COUNT(*) of a status with a million rows reads a million index entries on every page
    load. Instead each status is counted over a subquery that stops after CAP + 1 entries of the
    (status, created) index, and the counts come back in one query (a UNION ALL of the capped counts).
    """
    table = connection.ops.quote_name(Incident._meta.db_table)
    column = connection.ops.quote_name(Incident._meta.get_field("status").column)
    statuses = list(Status)
    capped = f"SELECT 1 FROM {table} WHERE {column} = %s LIMIT {STATUS_COUNT_CAP + 1}"
    sql = " UNION ALL ".join(f"SELECT {i} AS n, COUNT(*) AS c FROM ({capped}) AS s{i}" for i in range(len(statuses)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [status.value for status in statuses])
        counted = dict(cursor.fetchall())
    rows = []
    for i, status in enumerate(statuses):
        count = counted.get(i, 0)
        rows.append(
            {
                "status": status.value,
                "label": status.label,
                "count": count,
                "display": f"{STATUS_COUNT_CAP:,}+" if count > STATUS_COUNT_CAP else f"{count:,}",
                "open": status in OPEN_STATUSES,
            }
        )
    return rows


def queue_queryset() -> QuerySet[Incident]:
    """Queue rows: system, vendor and assignee joined, long texts left behind (see QueueKeyset.paginate)."""
    return Incident.objects.for_list().select_related("ai_system__vendor", "assignee")


@access.staff_required
@never_cache
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    return _render_queue(request, request.GET)


def _render_queue(
    request: HttpRequest,
    params: QueryDict,
    *,
    status: int = 200,
    bulk_form: BulkForm | None = None,
    errors: list[str] | None = None,
) -> HttpResponse:
    # Always bound, so the default (the open queue) applies when nothing is chosen.
    filterset = TriageFilter(params, queryset=queue_queryset(), request=request)
    context = {
        "filter": filterset,
        "counts": status_counts(),
        "bulk_form": bulk_form or BulkForm(initial={"query": _query_without_cursor(params)}),
        "errors": errors or [],
        "now": timezone.now(),
        "incidents": [],
        "query": _query_without_cursor(params),
        "selected": set(bulk_form.data.getlist("incidents")) if bulk_form is not None and bulk_form.is_bound else set(),
        "disclosure_statuses": DISCLOSURE_STATUSES,
    }
    if not filterset.is_valid():
        return render(request, "triage/queue.html", context, status=400)
    context["sort_label"] = dict(SORT_CHOICES)[filterset.sort_name]
    paginator = QueueKeyset(filterset.sort_name, filterset.sort_keys())
    try:
        page = paginator.paginate(filterset.qs, params)
    except InvalidCursor as exc:
        context["errors"] = [f"{exc} Start again from the first page."]
        return render(request, "triage/queue.html", context, status=400)
    context.update(incidents=page.items, next_url=page.next_url, previous_url=page.previous_url)
    return render(request, "triage/queue.html", context, status=status)


def _query_without_cursor(params: QueryDict) -> str:
    query = params.copy()
    query.pop("cursor", None)
    return query.urlencode()


def _queue_url(query: str) -> str:
    # Parsed and re-encoded: whatever was posted, only a clean query string reaches the Location header.
    clean = QueryDict(query).urlencode()
    return reverse("triage:queue") + (f"?{clean}" if clean else "")


@access.staff_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Assign, or reject as spam, the selected incidents: all of them, or (on any refusal) none."""
    form = BulkForm(request.POST)
    if not form.is_valid():
        return _render_queue(request, QueryDict(request.POST.get("query", "")[:2_000]), status=400, bulk_form=form)
    incidents, action = list(form.cleaned_data["incidents"]), form.cleaned_data["action"]
    errors = []
    with transaction.atomic():
        for incident in incidents:
            try:
                if action == BulkForm.REJECT_SPAM:
                    workflow.transition(incident, Status.REJECTED, actor=request.user, reason="Spam")
                else:
                    assignee = request.user if action == BulkForm.ASSIGN_ME else form.cleaned_data["assignee"]
                    workflow.assign(incident, assignee, actor=request.user)
            except workflow.WorkflowError as exc:
                errors.append(f"{incident.public_id}: {exc}")
        if errors:
            transaction.set_rollback(True)
    if errors:
        errors.insert(0, "Nothing was changed, because of:")
        return _render_queue(request, QueryDict(form.cleaned_data["query"]), status=409, bulk_form=form, errors=errors)
    done = {
        BulkForm.ASSIGN_ME: "assigned to you",
        BulkForm.ASSIGN: "assigned",
        BulkForm.REJECT_SPAM: "rejected as spam",
    }[action]
    messages.success(request, f"{len(incidents)} incident{'s' if len(incidents) != 1 else ''} {done}.")
    return redirect(_queue_url(form.cleaned_data["query"]))


@access.staff_required
@never_cache
@require_GET
def systems(request: HttpRequest) -> JsonResponse:
    """Autocomplete for canonical AI systems: ?q= matches the system's or the vendor's name."""
    text = request.GET.get("q", "").strip()
    if len(text) > 100:
        return JsonResponse({"errors": {"q": ["Search with at most 100 characters."]}}, status=400)
    found = AISystem.objects.select_related("vendor").order_by("vendor__name", "name")
    # Every word must appear in the system's or the vendor's name, so "acme mail" and a chosen
    # label such as "Acme AI · Mailer" both find it.
    for word in [w for w in text.split() if w != "·"][:8]:
        found = found.filter(Q(name__icontains=word) | Q(vendor__name__icontains=word))
    results = [
        {"id": system.pk, "label": f"{system.vendor.name} · {system.name}", "vendor": system.vendor.name}
        for system in found[:AUTOCOMPLETE_LIMIT]
    ]
    return JsonResponse({"results": results})


# One incident ------------------------------------------------------------------------------------


def _incident_or_404(request: HttpRequest, public_id: str) -> Incident:
    return get_object_or_404(
        access.visible_incidents(request.user).select_related("ai_system__vendor", "assignee", "duplicate_of"),
        public_id=public_id,
    )


def _back(incident: Incident, anchor: str = "") -> HttpResponse:
    return redirect(reverse("triage:incident", args=[incident.public_id]) + (f"#{anchor}" if anchor else ""))


@dataclass
class HistoryRow:
    event: IncidentEvent
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)


DETAIL_LABELS = {
    "duplicate_of": "Duplicate of",
    "duplicate": "Supplemental report",
    "reproduction": "Independent reproduction",
    "assignee": "Assignee",
    "from": "From",
    "to": "To",
    "kind": "Kind",
    "severity": "Severity",
    "intake_channel": "Arrived via",
}


def history(events) -> list[HistoryRow]:
    """The history read back completely: every row, with each edit's fields as old → new."""
    rows = []
    for event in events:
        data = dict(event.data) if isinstance(event.data, dict) else {"data": event.data}
        row = HistoryRow(event)
        changes = data.pop("changes", None)
        if isinstance(changes, dict):
            for name, change in changes.items():
                if isinstance(change, list | tuple) and len(change) == 2:
                    row.changes.append((_field_label(name), _shown(change[0]), _shown(change[1])))
                else:
                    row.details.append((_field_label(name), _shown(change)))
        for key, value in data.items():
            row.details.append((DETAIL_LABELS.get(key, capfirst(key.replace("_", " "))), _shown(value)))
        rows.append(row)
    return rows


# Where a field's verbose name reads badly in the history.
FIELD_LABELS = {
    "ai_system": "AI system",
    "reporter_severity_vector": "Reporter's severity",
    "triager_severity_vector": "Triager's severity",
    "vendor_severity_vector": "Vendor's severity",
}


def _field_label(name: str) -> str:
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    try:
        return capfirst(Incident._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return capfirst(name.replace("_", " "))


def _shown(value: object) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


@access.staff_required
@never_cache
@require_GET
def incident_page(request: HttpRequest, public_id: str) -> HttpResponse:
    return _render_incident(request, _incident_or_404(request, public_id))


def _render_incident(
    request: HttpRequest, incident: Incident, *, status: int = 200, error: str = "", **forms
) -> HttpResponse:
    """The triage page; a failed form replaces its blank twin so its errors show where it was."""
    failed_transition = forms.pop("transition_form", None)
    failed_transcript = forms.pop("transcript_form", None)
    transition_forms = [
        failed_transition
        if failed_transition is not None and failed_transition.step is not None and failed_transition.step == step
        else TransitionForm(incident=incident, target=step.target)
        for step in available_transitions(incident)
    ]
    contact = ReporterContact.objects.filter(incident=incident).first()
    events = list(incident.events.all())
    context = {
        "incident": incident,
        "error": error,
        "now": timezone.now(),
        "assign_form": AssignForm(initial={"assignee": incident.assignee_id}),
        "transition_forms": transition_forms,
        "rejection_reasons": REJECTION_REASONS,
        "edit_form": IncidentEditForm(instance=copy.copy(incident)),
        "classification_form": ClassificationForm(instance=copy.copy(incident)),
        "severity_form": TriagerSeverityForm(incident=incident),
        "link_form": SystemLinkForm(incident=incident),
        "system_form": SystemCreateForm(),
        "comment_form": CommentForm(),
        "deadline_form": DeadlineForm() if incident.status in DISCLOSURE_STATUSES else None,
        "erase_form": EraseContactForm() if contact is not None and contact.erased_at is None else None,
        "compare_form": CompareForm(),
        "contact": contact,
        "history": history(events),
        "tombstone": _tombstone(incident, events),
        "comments": incident.comments.all(),
        "reporter_notes": incident.reporter_notes.all(),
        "transcripts": [
            (
                transcript,
                f"transcript-{n}",
                failed_transcript
                if failed_transcript is not None and failed_transcript.transcript.pk == transcript.pk
                else TranscriptForm(transcript=transcript),
            )
            for n, transcript in enumerate(incident.transcripts.all(), start=1)
        ],
        "supplemental_reports": incident.supplemental_reports.only(
            "public_id", "title", "is_reproduction", "created", "status"
        )[:50],
        "suggestions": duplicates.suggest(incident) if incident.status in SCREENING_STATUSES else None,
        "severity_formula": _severity_formula(),
    }
    context.update(forms)
    return render(request, "triage/incident.html", context, status=status)


def _severity_formula() -> str:
    return json.dumps(severity.formula_for_js())


def _tombstone(incident: Incident, events: list[IncidentEvent]) -> IncidentEvent | None:
    """For a rejected or duplicate incident: the transition that put it there, with its reason."""
    if incident.status not in (Status.REJECTED, Status.DUPLICATE):
        return None
    return next(
        (e for e in reversed(events) if e.action == IncidentEvent.Action.TRANSITION and e.to_status == incident.status),
        None,
    )


def _refused(request: HttpRequest, incident: Incident, exc: workflow.WorkflowError, **forms) -> HttpResponse:
    incident.refresh_from_db()
    return _render_incident(request, incident, status=409, error=str(exc), **forms)


@access.staff_required
@require_POST
def claim(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    if incident.assignee_id not in (None, request.user.pk):
        error = f"{incident.assignee} is already working on this incident; use “Assign to” to take it over."
        return _render_incident(request, incident, status=409, error=error)
    if incident.assignee_id is None:
        try:
            workflow.assign(incident, request.user, actor=request.user)
        except workflow.WorkflowError as exc:
            return _refused(request, incident, exc)
    messages.success(request, f"You have claimed {incident.public_id}.")
    return _back(incident)


@access.staff_required
@require_POST
def assign(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _render_incident(request, incident, status=400, assign_form=form)
    assignee = form.cleaned_data["assignee"]
    if assignee == incident.assignee:
        messages.info(request, "Nothing changed.")
        return _back(incident)
    try:
        workflow.assign(incident, assignee, actor=request.user)
    except workflow.WorkflowError as exc:
        return _refused(request, incident, exc, assign_form=form)
    messages.success(request, f"Assigned to {assignee}." if assignee else "Unassigned.")
    return _back(incident)


@access.staff_required
@require_POST
def transition(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    form = TransitionForm(request.POST, incident=incident, target=request.POST.get("target"))
    if not form.is_valid():
        if form.step is None:  # a target not available now: there is no field to show the error by
            available = ", ".join(f"“{t.label}”" for t in form.available) or "none"
            error = f"That status change is not available for a {incident.get_status_display().lower()} incident. "
            return _render_incident(request, incident, status=400, error=error + f"Available: {available}.")
        return _render_incident(request, incident, status=400, transition_form=form)
    target = form.cleaned_data["target"]
    try:
        workflow.transition(incident, target, actor=request.user, reason=form.cleaned_data["reason"])
    except workflow.WorkflowError as exc:
        return _refused(request, incident, exc, transition_form=form)
    messages.success(request, f"{incident.public_id} is now {Status(target).label.lower()}.")
    return _back(incident)


def _edit(request: HttpRequest, public_id: str, form_class, context_name: str, anchor: str) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    form = form_class(request.POST, instance=copy.copy(incident))
    if not form.is_valid():
        return _render_incident(request, incident, status=400, **{context_name: form})
    try:
        event = workflow.edit(incident, form.changes(incident), actor=request.user)
    except workflow.WorkflowError as exc:
        return _refused(request, incident, exc, **{context_name: form})
    if event is None:
        messages.info(request, "Nothing changed.")
    else:
        messages.success(request, f"Saved: {', '.join(_field_label(n) for n in event.data['changes'])}.")
    return _back(incident, anchor)


@access.staff_required
@require_POST
def edit(request: HttpRequest, public_id: str) -> HttpResponse:
    return _edit(request, public_id, IncidentEditForm, "edit_form", "details")


@access.staff_required
@require_POST
def classify(request: HttpRequest, public_id: str) -> HttpResponse:
    return _edit(request, public_id, ClassificationForm, "classification_form", "classification")


@access.staff_required
@require_POST
def rate(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    form = TriagerSeverityForm(request.POST)
    if not form.is_valid() or "calculate" in request.POST:
        # "Calculate" shows the score without saving (the calculator without JavaScript).
        return _render_incident(request, incident, status=200 if form.is_valid() else 400, severity_form=form)
    try:
        event = workflow.edit(incident, {"triager_severity_vector": str(form.vector)}, actor=request.user)
    except workflow.WorkflowError as exc:
        return _refused(request, incident, exc, severity_form=form)
    if event is None:
        messages.info(request, "Nothing changed.")
    else:
        messages.success(request, f"Rated {form.vector.score} ({form.vector.band}).")
    return _back(incident, "severity")


@access.staff_required
@require_POST
def edit_transcript(request: HttpRequest, public_id: str, transcript_id: int) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    transcript = get_object_or_404(incident.transcripts, pk=transcript_id)
    form = TranscriptForm(request.POST, transcript=transcript)
    if not form.is_valid():
        return _render_incident(request, incident, status=400, transcript_form=form)
    try:
        event = workflow.edit_transcript(transcript, **form.cleaned_data, actor=request.user)
    except workflow.WorkflowError as exc:
        return _refused(request, incident, exc, transcript_form=form)
    if event is None:
        messages.info(request, "Nothing changed.")
    else:
        messages.success(
            request, f"Saved the transcript's {', '.join(_field_label(n).lower() for n in event.data['changes'])}."
        )
    return _back(incident, "transcript")


@access.staff_required
@require_POST
def link_system(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    form = SystemLinkForm(request.POST)
    if not form.is_valid():
        return _render_incident(request, incident, status=400, link_form=form)
    system = form.cleaned_data["ai_system"]
    try:
        event = workflow.edit(incident, {"ai_system": system}, actor=request.user)
    except workflow.WorkflowError as exc:
        return _refused(request, incident, exc, link_form=form)
    if event is None:
        messages.info(request, "Nothing changed.")
    else:
        messages.success(request, f"Linked to {system}." if system else "No longer linked to an AI system.")
    return _back(incident, "system")


@access.staff_required
@require_POST
def create_system(request: HttpRequest, public_id: str) -> HttpResponse:
    """A new canonical vendor/system, made from this incident's page and linked to it at once."""
    incident = _incident_or_404(request, public_id)
    form = SystemCreateForm(request.POST)
    if not form.is_valid():
        return _render_incident(request, incident, status=400, system_form=form)
    with transaction.atomic():
        system = form.save()
        try:
            workflow.edit(incident, {"ai_system": system}, actor=request.user)
        except workflow.WorkflowError as exc:
            transaction.set_rollback(True)
            return _refused(request, incident, exc, system_form=form)
    messages.success(request, f"Created {system} and linked this incident to it.")
    return _back(incident, "system")


@access.staff_required
@require_POST
def add_comment(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _render_incident(request, incident, status=400, comment_form=form)
    kind = form.cleaned_data["kind"]
    try:
        workflow.comment(incident, kind=kind, text=form.cleaned_data["text"], actor=request.user)
    except workflow.WorkflowError as exc:
        return _refused(request, incident, exc, comment_form=form)
    if kind == Comment.Kind.QUESTION:
        messages.success(request, "Question sent: the reporter sees it on their receipt page.")
    else:
        messages.success(request, "Note added.")
    return _back(incident, "thread")


@access.staff_required
@require_POST
def extend_deadline(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    form = DeadlineForm(request.POST)
    if not form.is_valid():
        return _render_incident(request, incident, status=400, deadline_form=form)
    new_deadline = form.new_deadline(incident)
    try:
        workflow.extend_deadline(incident, new_deadline, actor=request.user, reason=form.cleaned_data["reason"])
    except workflow.WorkflowError as exc:
        return _refused(request, incident, exc, deadline_form=form)
    messages.success(request, f"The disclosure deadline is now {timezone.localtime(new_deadline):%-d %b %Y}.")
    return _back(incident, "disclosure")


@access.staff_required
@require_POST
def erase_contact(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    form = EraseContactForm(request.POST)
    contact = ReporterContact.objects.filter(incident=incident).first()
    if contact is None or contact.erased_at is not None:
        return _render_incident(request, incident, status=409, error="There are no contact details to erase.")
    if not form.is_valid():
        return _render_incident(request, incident, status=400, erase_form=form)
    try:
        workflow.erase_reporter_contact(incident, actor=request.user)
    except workflow.WorkflowError as exc:
        return _refused(request, incident, exc, erase_form=form)
    messages.success(request, "The reporter's contact details are erased.")
    return _back(incident, "reporter")


# Duplicates --------------------------------------------------------------------------------------


@access.staff_required
@never_cache
@require_GET
def find_duplicates(request: HttpRequest, public_id: str) -> HttpResponse:
    """On demand: more suggestions than the triage page shows, and "compare with" any incident id."""
    incident = _incident_or_404(request, public_id)
    form = CompareForm(request.GET or None)
    if form.is_bound and form.is_valid():
        other = form.cleaned_data["other"]
        return redirect("triage:compare", public_id=incident.public_id, other_public_id=other.public_id)
    return render(
        request,
        "triage/duplicates.html",
        {"incident": incident, "suggestions": duplicates.suggest(incident, limit=20), "compare_form": form},
        status=400 if form.errors else 200,
    )


COMPARED_FIELDS = [
    ("Title", "title"),
    ("Status", "get_status_display"),
    ("AI system (as reported)", "system_name_reported"),
    ("Version (as reported)", "system_version_reported"),
    ("Canonical AI system", "ai_system"),
    ("The instruction", "instruction"),
    ("Where it was given", "get_instruction_source_display"),
    ("What the AI did instead", "action_taken"),
    ("Override type", "get_override_type_display"),
    ("Deployment context", "get_context_display"),
    ("Environment", "get_environment_display"),
    ("Could it be undone?", "get_reversibility_display"),
    ("Occurred", "occurred_on"),
    ("Reporter type", "get_reporter_type_display"),
    ("Severity", "severity_score"),
    ("Reports / reproductions", "counts"),
    ("Filed", "created"),
]


def _compared_value(incident: Incident, attribute: str) -> str:
    if attribute == "counts":
        return f"{incident.report_count} / {incident.reproduction_count}"
    value = getattr(incident, attribute)
    value = value() if callable(value) else value
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "j M Y, H:i")
    if isinstance(value, date):
        return date_format(value, "j M Y")
    return _shown(value if value is None or isinstance(value, str) else str(value))


@access.staff_required
@never_cache
@require_GET
def compare(request: HttpRequest, public_id: str, other_public_id: str) -> HttpResponse:
    incident = _incident_or_404(request, public_id)
    other = _incident_or_404(request, other_public_id)
    return _render_compare(request, incident, other)


def _render_compare(
    request: HttpRequest,
    incident: Incident,
    other: Incident,
    *,
    status: int = 200,
    error: str = "",
    merge_form: MergeForm | None = None,
) -> HttpResponse:
    if incident.pk == other.pk:
        error, status = "These are the same incident; choose another one to compare.", 400
    rows = []
    for label, attribute in COMPARED_FIELDS:
        left, right = _compared_value(incident, attribute), _compared_value(other, attribute)
        rows.append({"label": label, "left": left, "right": right, "same": left == right})
    transcripts = {t.incident_id: t for t in incident.transcripts.all() | other.transcripts.all()}
    return render(
        request,
        "triage/compare.html",
        {
            "incident": incident,
            "other": other,
            "rows": rows,
            "left_transcript": transcripts.get(incident.pk),
            "right_transcript": transcripts.get(other.pk),
            "same_transcript": _same_transcript(incident, other),
            "merge_form": merge_form or MergeForm(initial={"canonical": other.public_id}),
            "error": error,
        },
        status=status,
    )


def _same_transcript(incident: Incident, other: Incident) -> bool:
    mine = Transcript.objects.filter(incident=incident).values("sha256")
    return Transcript.objects.filter(incident=other, sha256__in=mine).exists()


@access.staff_required
@require_POST
def merge(request: HttpRequest, public_id: str) -> HttpResponse:
    """Keep this incident as a supplemental report of the canonical one."""
    incident = _incident_or_404(request, public_id)
    form = MergeForm(request.POST)
    if not form.is_valid():
        if "canonical" in form.errors:
            return _render_incident(request, incident, status=400, error=form.errors["canonical"][0])
        return _render_compare(request, incident, form.cleaned_data["canonical"], status=400, merge_form=form)
    canonical = form.cleaned_data["canonical"]
    try:
        workflow.merge_duplicate(
            incident,
            canonical,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            reproduction=form.cleaned_data["reproduction"],
        )
    except workflow.WorkflowError as exc:
        incident.refresh_from_db()
        return _render_compare(request, incident, canonical, status=409, error=str(exc), merge_form=form)
    messages.success(request, f"{incident.public_id} is now a supplemental report of {canonical.public_id}.")
    return _back(incident)
