"""Staff tools in the Django admin. Status changes go through incidents.workflow, like everywhere."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from incidents import webhooks, workflow
from incidents.models import (
    AISystem,
    Incident,
    IncidentEvent,
    ReporterContact,
    ReporterNote,
    Status,
    Transcript,
    Vendor,
    VendorMembership,
    WebhookDelivery,
    WebhookEndpoint,
    actor_label,
)
from incidents.severity import SeverityVector, SeverityVectorError


class VendorMembershipInline(admin.TabularInline):
    """Staff invite a vendor's people: create the user, then add them here."""

    model = VendorMembership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["created"]


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    inlines = [VendorMembershipInline]
    list_display = ["name", "slug", "website", "disclosure_days"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(AISystem)
class AISystemAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "slug"]
    list_filter = ["vendor"]
    list_select_related = ["vendor"]
    search_fields = ["name", "slug", "vendor__name"]
    prepopulated_fields = {"slug": ["name"]}


class IncidentAdminForm(forms.ModelForm):
    transition_to = forms.ChoiceField(label="Move to status", required=False)
    transition_reason = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to reject, mark as duplicate, publish early or reopen.",
    )

    class Meta:
        model = Incident
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        steps = workflow.allowed_transitions(self.instance.status) if self.instance.pk else []
        self.fields["transition_to"].choices = [("", "— keep the current status —")] + [
            (step.target.value, f"{step.label} → {step.target.label}") for step in steps
        ]

    def _clean_vector(self, name: str) -> str:
        text = self.cleaned_data[name].strip()
        if text:
            try:
                SeverityVector.parse(text)
            except SeverityVectorError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return text

    def clean_reporter_severity_vector(self) -> str:
        return self._clean_vector("reporter_severity_vector")

    def clean_triager_severity_vector(self) -> str:
        return self._clean_vector("triager_severity_vector")

    def clean_vendor_severity_vector(self) -> str:
        return self._clean_vector("vendor_severity_vector")

    def clean(self) -> dict:
        cleaned = super().clean()
        target = cleaned.get("transition_to")
        if target:
            step = workflow.find_transition(self.instance.status, target)
            if step is None:
                self.add_error("transition_to", "That status change is not allowed from the current status.")
            elif step.reason_required and not cleaned.get("transition_reason", "").strip():
                self.add_error("transition_reason", f"“{step.label}” needs a reason.")
        return cleaned


class ReporterContactInline(admin.StackedInline):
    model = ReporterContact
    extra = 0
    can_delete = False
    readonly_fields = ["erased_at"]


class ReporterNoteInline(admin.TabularInline):
    model = ReporterNote
    extra = 0
    can_delete = False
    readonly_fields = ["created", "text"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class TranscriptInline(admin.StackedInline):
    model = Transcript
    extra = 0
    can_delete = False
    fields = [
        "format",
        "raw_download",
        "size",
        "sha256",
        "instruction_turn",
        "violation_turns",
        "redaction_terms",
        "redaction_counts",
    ]
    # Marks and redaction terms change on the triage page, through the workflow, so the history records them.
    readonly_fields = fields

    @admin.display(description="Raw upload")
    def raw_download(self, transcript: Transcript) -> str:
        url = reverse("admin:incidents_transcript_raw", args=[transcript.pk])
        return format_html('<a href="{}">Download the original</a> {}', url, transcript.original_filename)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    fields = ["created", "action", "from_status", "to_status", "actor_label", "reason", "public"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = IncidentAdminForm
    list_display = ["public_id", "title", "status", "override_type", "vendor", "severity_band", "created"]
    list_filter = ["status", "override_type", "environment", "context", "severity_band", "vendor"]
    list_select_related = ["vendor"]
    search_fields = ["public_id", "title", "system_name_reported"]
    autocomplete_fields = ["ai_system"]
    readonly_fields = [
        "public_id",
        "status",
        "vendor",
        "severity_score",
        "severity_band",
        "created",
        "modified",
        "published_at",
    ]
    inlines = [ReporterContactInline, ReporterNoteInline, TranscriptInline, IncidentEventInline]
    show_full_result_count = False  # no COUNT(*) over a million rows on every page
    fieldsets = [
        (None, {"fields": ["public_id", "status", "transition_to", "transition_reason", "title"]}),
        (
            "AI system",
            {
                "fields": [
                    "system_name_reported",
                    "system_version_reported",
                    "ai_system",
                    "vendor",
                    "agent_framework",
                    "tool_permissions",
                ]
            },
        ),
        (
            "What happened",
            {
                "fields": [
                    "instruction",
                    "instruction_source",
                    "action_taken",
                    "reversibility",
                    "acknowledged",
                    "override_type",
                    "secondary_override_types",
                    "harms",
                    "context",
                    "environment",
                    "occurred_on",
                    "references",
                ]
            },
        ),
        (
            "Severity",
            {
                "fields": [
                    "reporter_severity_vector",
                    "triager_severity_vector",
                    "vendor_severity_vector",
                    "severity_score",
                    "severity_band",
                ]
            },
        ),
        ("Intake", {"fields": ["reporter_type", "intake_channel", "created", "modified", "published_at"]}),
    ]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # incidents are never deleted; rejected ones stay as tombstones

    def get_urls(self):
        raw = path(
            "transcripts/<int:transcript_id>/raw/",
            self.admin_site.admin_view(self.download_raw),
            name="incidents_transcript_raw",
        )
        return [raw, *super().get_urls()]

    def download_raw(self, request: HttpRequest, transcript_id: int) -> FileResponse:
        """The evidence exactly as uploaded, as an attachment so a browser never renders it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        transcript = get_object_or_404(Transcript, pk=transcript_id)
        response = FileResponse(
            transcript.raw.open("rb"),
            as_attachment=True,
            filename=transcript.original_filename or f"{transcript.incident.public_id}-transcript.raw",
            content_type="application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def save_model(self, request: HttpRequest, obj: Incident, form: IncidentAdminForm, change: bool) -> None:
        with transaction.atomic():
            if change and "ai_system" in form.changed_data:
                obj.events.create(
                    action=IncidentEvent.Action.SYSTEM_LINKED,
                    actor=request.user,
                    actor_label=actor_label(request.user),
                    data={"ai_system": str(obj.ai_system) if obj.ai_system else None},
                )
            super().save_model(request, obj, form, change)
            target = form.cleaned_data.get("transition_to")
            if target:
                workflow.transition(obj, target, actor=request.user, reason=form.cleaned_data["transition_reason"])
                messages.info(request, f"{obj.public_id} is now {Status(obj.status).label.lower()}.")


@admin.register(IncidentEvent)
class IncidentEventAdmin(admin.ModelAdmin):
    list_display = ["created", "incident", "action", "from_status", "to_status", "actor_label"]
    list_filter = ["action", "to_status"]
    list_select_related = ["incident"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.action(description="Redeliver the selected deliveries")
def redeliver_deliveries(modeladmin, request: HttpRequest, queryset) -> None:
    deliveries = list(queryset.select_related("endpoint"))
    for delivery in deliveries:
        webhooks.redeliver(delivery)
    modeladmin.message_user(request, f"{len(deliveries)} deliveries queued again.", messages.SUCCESS)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "vendor", "owner", "active", "created"]
    list_filter = ["active", "vendor"]
    list_select_related = ["vendor", "owner"]
    search_fields = ["url", "description", "vendor__name", "owner__username"]
    # The secret is not shown here; the endpoint's owners reveal it in the vendor portal.
    fields = ["vendor", "owner", "url", "description", "filters", "active", "created"]
    readonly_fields = ["created"]
    autocomplete_fields = ["owner", "vendor"]
    show_full_result_count = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created", "event", "endpoint", "attempts", "last_status_code", "delivered_at", "error_excerpt"]
    list_filter = ["event", ("delivered_at", admin.EmptyFieldListFilter), "endpoint__vendor"]
    list_select_related = ["endpoint__vendor"]
    search_fields = ["endpoint__url", "event"]
    date_hierarchy = "created"
    actions = [redeliver_deliveries]
    show_full_result_count = False  # the log grows without bound
    readonly_fields = [
        "endpoint",
        "event",
        "payload",
        "created",
        "attempts",
        "last_status_code",
        "last_error",
        "response_excerpt",
        "delivered_at",
    ]

    @admin.display(description="Error")
    def error_excerpt(self, delivery: WebhookDelivery) -> str:
        return delivery.last_error[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
