"""The vendor portal: a vendor's own incidents from notification on, its answers, and its webhooks.

Every view gets the member's vendor from ``access.vendor_member_required`` and looks rows up only
within that vendor's scope, answering 404 for anything else: a vendor never learns what exists
elsewhere. Vendor pages show the redacted transcript and the public timeline, never the reporter.
Every page is ``never_cache``: embargoed incidents and webhook secrets must not linger in caches.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.pagination import CursorPagination

from incidents import access, severity, webhooks, workflow
from incidents.forms import SeverityForm
from incidents.models import Incident, Status, Vendor, VendorResponse, WebhookDelivery, WebhookEndpoint
from incidents.pagination import InvalidCursor, paginate
from incidents.vendor_forms import VendorIncidentFilter, VendorResponseForm, WebhookEndpointForm

UNDER_DISCLOSURE = (Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED)
# The session remembers which endpoint was just created, so its secret is shown once, after the redirect.
NEW_ENDPOINT_SESSION_KEY = "vendor_new_webhook"
BAD_CURSOR = "This page link is not valid; start again from the first page."


class VendorIncidentPagination(CursorPagination):
    # ``created`` never changes and is never null (unlike vendor_notified_at for incidents
    # published without notification), so cursors stay valid while incidents move on.
    ordering = ("-created", "-id")
    page_size = 25


class DeliveryPagination(CursorPagination):
    # Served by the (endpoint, -created) index on WebhookDelivery.
    ordering = ("-created", "-id")
    page_size = 25


def disclosure_countdown(deadline: datetime | None, now: datetime | None = None) -> str:
    """How long until the disclosure deadline, as people say it: "in 12 days", "overdue"."""
    if deadline is None:
        return ""
    remaining = deadline - (now or timezone.now())
    if remaining <= timedelta(0):
        return "overdue"
    if remaining >= timedelta(days=1):
        # Rounded, so a fresh 90-day deadline reads "in 90 days" rather than "in 89 days".
        days = max(1, round(remaining / timedelta(days=1)))
        return f"in {days} day{'s' if days != 1 else ''}"
    hours = int(remaining // timedelta(hours=1))
    if hours >= 1:
        return f"in {hours} hour{'s' if hours != 1 else ''}"
    return "in less than an hour"


def _incident_or_404(vendor: Vendor, public_id: str) -> Incident:
    try:
        return access.vendor_incidents(vendor).select_related("ai_system__vendor").get(public_id=public_id)
    except Incident.DoesNotExist:
        # The same answer whether it does not exist, is another vendor's or is not notified yet.
        raise Http404("None of your incidents has this id.") from None


def _endpoint_or_404(vendor: Vendor, pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint.objects.filter(vendor=vendor).select_related("owner"), pk=pk)


# Incidents


@never_cache
@access.vendor_member_required
@require_GET
def portal(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    latest = VendorResponse.objects.filter(incident=OuterRef("pk"), vendor=vendor).order_by("-created", "-id")
    queryset = (
        access.vendor_incidents(vendor)
        .for_list()
        .annotate(
            last_response_kind=Subquery(latest.values("kind")[:1]),
            last_response_at=Subquery(latest.values("created")[:1]),
        )
    )
    filterset = VendorIncidentFilter(request.GET or None, queryset=queryset)
    context: dict = {"vendor": vendor, "filter": filterset, "incidents": []}
    if filterset.is_bound and not filterset.is_valid():
        return render(request, "vendor/portal.html", context, status=400)
    try:
        incidents, previous_url, next_url = paginate(filterset.qs, request, VendorIncidentPagination)
    except InvalidCursor:
        return render(request, "vendor/portal.html", {**context, "error": BAD_CURSOR}, status=400)
    now = timezone.now()
    for incident in incidents:
        incident.under_disclosure = incident.status in UNDER_DISCLOSURE
        incident.countdown = disclosure_countdown(incident.disclosure_deadline, now)
        incident.last_response_label = (
            VendorResponse.Kind(incident.last_response_kind).label if incident.last_response_kind else ""
        )
    context.update(incidents=incidents, previous_url=previous_url, next_url=next_url)
    return render(request, "vendor/portal.html", context)


@never_cache
@access.vendor_member_required
@require_GET
def incident_detail(request: HttpRequest, vendor: Vendor, public_id: str) -> HttpResponse:
    incident = _incident_or_404(vendor, public_id)
    return _render_incident(request, vendor, incident, VendorResponseForm(), SeverityForm())


@never_cache
@access.vendor_member_required
@require_POST
def respond(request: HttpRequest, vendor: Vendor, public_id: str) -> HttpResponse:
    """Record an answer; "Calculate score" only re-renders the form with the computed rating."""
    incident = _incident_or_404(vendor, public_id)
    severity_form = SeverityForm(request.POST)
    if "calculate" in request.POST:
        # Nothing is recorded: the answer is shown again as typed, unjudged, with the computed rating.
        severity_form.is_valid()
        typed = VendorResponseForm(initial={"kind": request.POST.get("kind"), "text": request.POST.get("text", "")})
        return _render_incident(request, vendor, incident, typed, severity_form)
    form = VendorResponseForm(request.POST)
    valid = form.is_valid() & severity_form.is_valid()  # both, so every error shows at once
    if not valid:
        return _render_incident(request, vendor, incident, form, severity_form, status=400)
    try:
        response = workflow.respond_as_vendor(
            incident,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
            severity=severity_form.cleaned_data["severity_vector"],
            actor=request.user,
        )
    except workflow.WorkflowError as exc:
        form.add_error(None, str(exc))
        return _render_incident(request, vendor, incident, form, severity_form, status=400)
    messages.success(request, f"Your answer is recorded: {response.get_kind_display()}.")
    return redirect("vendor:incident", public_id=incident.public_id)


def _render_incident(
    request: HttpRequest,
    vendor: Vendor,
    incident: Incident,
    form: VendorResponseForm,
    severity_form: SeverityForm,
    status: int = 200,
) -> HttpResponse:
    vector = severity_form.cleaned_data.get("severity_vector") if severity_form.is_bound else None
    context = {
        "vendor": vendor,
        "incident": incident,
        "under_disclosure": incident.status in UNDER_DISCLOSURE,
        "countdown": disclosure_countdown(incident.disclosure_deadline),
        # The original turns are staff-only: never even loaded here.
        "transcripts": incident.transcripts.defer("turns", "raw"),
        # Only what the public timeline shows; internal notes and staff steps stay out.
        "timeline": incident.events.filter(public=True).only("created", "action", "to_status", "data"),
        "responses": incident.vendor_responses.filter(vendor=vendor),
        "form": form,
        "severity_form": severity_form,
        "vector": vector,
        "severity_formula": json.dumps(severity.formula_for_js()),
    }
    return render(request, "vendor/incident.html", context, status=status)


# Webhooks


@never_cache
@access.vendor_member_required
@require_GET
def webhook_list(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    latest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created", "-id")
    endpoints = (
        WebhookEndpoint.objects.filter(vendor=vendor)
        .select_related("owner")
        .annotate(
            last_delivery_at=Subquery(latest.values("created")[:1]),
            last_delivery_code=Subquery(latest.values("last_status_code")[:1]),
            last_delivered_at=Subquery(latest.values("delivered_at")[:1]),
        )
        .order_by("-active", "-created")
    )
    return render(request, "vendor/webhooks.html", {"vendor": vendor, "endpoints": endpoints})


@never_cache
@access.vendor_member_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None, vendor=vendor)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save(commit=False)
        endpoint.vendor, endpoint.owner = vendor, request.user
        endpoint.save()
        request.session[NEW_ENDPOINT_SESSION_KEY] = endpoint.pk
        messages.success(request, "The endpoint is added. Copy its signing secret now.")
        return redirect("vendor:webhook", pk=endpoint.pk)
    status = 400 if form.errors else 200
    return render(request, "vendor/webhook_new.html", {"vendor": vendor, "form": form}, status=status)


@never_cache
@access.vendor_member_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request: HttpRequest, vendor: Vendor, pk: int) -> HttpResponse:
    """The endpoint, its edit form and its delivery log. A POST saves the edit."""
    endpoint = _endpoint_or_404(vendor, pk)
    # The form gets a copy: an invalid edit must not show up as the endpoint's current URL.
    form = WebhookEndpointForm(request.POST or None, instance=copy.copy(endpoint), vendor=vendor)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "The endpoint is saved.")
            return redirect("vendor:webhook", pk=endpoint.pk)
        return _render_webhook(request, vendor, endpoint, form, status=400)
    show_secret = request.session.pop(NEW_ENDPOINT_SESSION_KEY, None) == endpoint.pk
    return _render_webhook(request, vendor, endpoint, form, show_secret=show_secret, just_created=show_secret)


@never_cache
@access.vendor_member_required
@require_POST
def webhook_reveal(request: HttpRequest, vendor: Vendor, pk: int) -> HttpResponse:
    """The secret, on an explicit request (a POST, so it never sits in a URL or a prefetch)."""
    endpoint = _endpoint_or_404(vendor, pk)
    form = WebhookEndpointForm(instance=endpoint, vendor=vendor)
    return _render_webhook(request, vendor, endpoint, form, show_secret=True)


def _render_webhook(
    request: HttpRequest,
    vendor: Vendor,
    endpoint: WebhookEndpoint,
    form: WebhookEndpointForm,
    *,
    show_secret: bool = False,
    just_created: bool = False,
    status: int = 200,
) -> HttpResponse:
    context = {
        "vendor": vendor,
        "endpoint": endpoint,
        "form": form,
        "show_secret": show_secret,
        "just_created": just_created,
        "deliveries": [],
    }
    try:
        deliveries, previous_url, next_url = paginate(endpoint.deliveries.defer("payload"), request, DeliveryPagination)
    except InvalidCursor:
        context["error"] = BAD_CURSOR
        status = 400
    else:
        context.update(deliveries=deliveries, previous_url=previous_url, next_url=next_url)
    return render(request, "vendor/webhook.html", context, status=status)


@never_cache
@access.vendor_member_required
@require_POST
def webhook_ping(request: HttpRequest, vendor: Vendor, pk: int) -> HttpResponse:
    endpoint = _endpoint_or_404(vendor, pk)
    if not endpoint.active:
        messages.error(request, "This endpoint is deactivated; activate it before sending a test ping.")
    else:
        webhooks.queue_ping(endpoint)
        messages.success(request, "A test ping is on its way. Reload this page in a moment to see the answer.")
    return redirect("vendor:webhook", pk=endpoint.pk)


@never_cache
@access.vendor_member_required
@require_POST
def webhook_deactivate(request: HttpRequest, vendor: Vendor, pk: int) -> HttpResponse:
    return _set_active(request, _endpoint_or_404(vendor, pk), active=False)


@never_cache
@access.vendor_member_required
@require_POST
def webhook_activate(request: HttpRequest, vendor: Vendor, pk: int) -> HttpResponse:
    return _set_active(request, _endpoint_or_404(vendor, pk), active=True)


def _set_active(request: HttpRequest, endpoint: WebhookEndpoint, *, active: bool) -> HttpResponse:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=active)
    if active:
        messages.success(request, "The endpoint is active again: it receives new events.")
    else:
        messages.success(request, "The endpoint is deactivated: it receives no events until you activate it.")
    return redirect("vendor:webhook", pk=endpoint.pk)


def _delivery_or_404(vendor: Vendor, pk: int, delivery_pk: int) -> WebhookDelivery:
    deliveries = WebhookDelivery.objects.select_related("endpoint").filter(endpoint__vendor=vendor, endpoint_id=pk)
    return get_object_or_404(deliveries, pk=delivery_pk)


@never_cache
@access.vendor_member_required
@require_GET
def delivery_detail(request: HttpRequest, vendor: Vendor, pk: int, delivery_pk: int) -> HttpResponse:
    delivery = _delivery_or_404(vendor, pk, delivery_pk)
    context = {"vendor": vendor, "endpoint": delivery.endpoint, "delivery": delivery}
    return render(request, "vendor/delivery.html", context)


@never_cache
@access.vendor_member_required
@require_POST
def delivery_redeliver(request: HttpRequest, vendor: Vendor, pk: int, delivery_pk: int) -> HttpResponse:
    delivery = _delivery_or_404(vendor, pk, delivery_pk)
    if not delivery.endpoint.active:
        messages.error(request, "This endpoint is deactivated; activate it before redelivering.")
    else:
        webhooks.redeliver(delivery)
        messages.success(request, f"Delivery #{delivery.pk} ({delivery.event}) is queued again, newly signed.")
    return redirect("vendor:webhook", pk=delivery.endpoint_id)
