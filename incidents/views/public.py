"""Public web pages. Each view parses, authorises (through ``access``), calls, renders."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from incidents import access, severity, stats, workflow
from incidents.filters import IncidentFilter
from incidents.forms import ReporterNoteForm, ReportPageForm, SeverityForm
from incidents.models import Comment, IncidentEvent, ReporterContact
from incidents.pagination import InvalidCursor, paginate
from incidents.submission import file_incident


def home(request: HttpRequest) -> HttpResponse:
    latest = access.public_incidents().for_list().order_by("-published_at")[:10]
    return render(
        request,
        "incidents/home.html",
        {"latest": latest, "total": stats.total(), "by_environment": stats.by_environment()},
    )


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """The public report form. "Preview" and "Calculate" re-render without filing anything."""
    if request.method == "GET":
        form, severity_form = ReportPageForm(), SeverityForm()
        return _render_report(request, form, severity_form)

    form = ReportPageForm(request.POST, request.FILES)
    severity_form = SeverityForm(request.POST)
    valid = form.is_valid() & severity_form.is_valid()  # both, so every error shows at once
    if "preview" in request.POST or "calculate" in request.POST or not valid:
        return _render_report(request, form, severity_form, status=200 if valid else 400)

    fields = {name: form.cleaned_data[name] for name in ReportPageForm.Meta.fields}
    incident = file_incident(
        fields=fields,
        reporter_severity=severity_form.cleaned_data["severity_vector"],
        evidence=form.evidence(),
        reporter_email=form.cleaned_data["reporter_email"],
    )
    form.discard_upload()
    messages.success(request, "Thank you: your report is filed. Keep this page's address; it is your receipt.")
    return redirect(incident.get_receipt_url())


def _render_report(request: HttpRequest, form: ReportPageForm, severity_form: SeverityForm, status: int = 200):
    vector = severity_form.cleaned_data.get("severity_vector") if severity_form.is_bound else None
    form.keep_upload()
    return render(
        request,
        "incidents/report.html",
        {
            "form": form,
            "severity_form": severity_form,
            "vector": vector,
            "severity_formula": json.dumps(severity.formula_for_js()),
            "preview": form.parsed_transcript if form.is_bound else None,
            "preview_turns": form.redacted_preview() if form.is_bound else [],
            "marks": form.marks(),
            "transcript_max_bytes": settings.TRANSCRIPT_MAX_BYTES,  # checked in the browser before uploading
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def receipt(request: HttpRequest, token: str) -> HttpResponse:
    """The reporter's private page: status, history, staff questions; add information or answer."""
    incident = access.incident_for_receipt_or_404(token)
    note_form = ReporterNoteForm(request.POST or None)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "note")
        try:
            if action == "erase":
                workflow.erase_reporter_contact(incident, actor=None)
                messages.success(request, "Your contact details were erased. Your report stays.")
                return redirect(incident.get_receipt_url())
            if note_form.is_valid():
                if action == "answer":
                    workflow.comment(
                        incident, kind=Comment.Kind.ANSWER, text=note_form.cleaned_data["text"], actor=None
                    )
                    messages.success(request, "Thank you: your answer was sent to our staff.")
                else:
                    incident.add_reporter_note(note_form.cleaned_data["text"])
                    messages.success(request, "Thank you: your information was added.")
                return redirect(incident.get_receipt_url())
        except workflow.WorkflowError as exc:
            error = str(exc)
    contact = ReporterContact.objects.filter(incident=incident, erased_at__isnull=True).exclude(email="").first()
    response = render(
        request,
        "incidents/receipt.html",
        {
            "incident": incident,
            "events": incident.events.filter(action__in=REPORTER_VISIBLE_EVENTS),
            "notes": incident.reporter_notes.all(),
            "thread": incident.comments.filter(kind__in=(Comment.Kind.QUESTION, Comment.Kind.ANSWER)),
            "transcripts": incident.transcripts.all(),
            "note_form": note_form,
            "has_contact": contact is not None,
            "error": error,
        },
        status=400 if note_form.errors or error else 200,
    )
    # The token is a secret: never leak it in Referer headers or caches.
    # same-origin, not no-referrer: the token never leaves the site, and the page's own forms keep a
    # real Origin header, which CSRF checking needs (no-referrer makes browsers send "Origin: null").
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


# What a reporter sees of the history: never internal notes, assignments or staff edits.
REPORTER_VISIBLE_EVENTS = (
    IncidentEvent.Action.SUBMITTED,
    IncidentEvent.Action.TRANSITION,
    IncidentEvent.Action.REPORTER_NOTE,
    IncidentEvent.Action.QUESTION,
    IncidentEvent.Action.REPORTER_ANSWER,
    IncidentEvent.Action.CONTACT_ERASED,
)


def incident_list(request: HttpRequest) -> HttpResponse:
    filterset = IncidentFilter(request.GET or None, queryset=access.public_incidents().for_list())
    if filterset.is_bound and not filterset.is_valid():
        return render(request, "incidents/list.html", {"filter": filterset, "incidents": []}, status=400)
    try:
        incidents, previous_url, next_url = paginate(filterset.qs, request)
    except InvalidCursor:
        error = "This page link is not valid; start again from the first page."
        return render(request, "incidents/list.html", {"filter": filterset, "error": error}, status=400)
    return render(
        request,
        "incidents/list.html",
        {"filter": filterset, "incidents": incidents, "previous_url": previous_url, "next_url": next_url},
    )


def incident_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = access.public_incident_or_404(public_id)
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "timeline": incident.events.filter(public=True),
            "transcripts": incident.transcripts.all(),
        },
    )
