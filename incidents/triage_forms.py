"""Forms for the staff triage pages. They validate and describe a change; incidents.workflow makes it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from incidents import workflow
from incidents.forms import ReportForm, SeverityForm
from incidents.models import AISystem, Comment, Incident, OverrideType, Status, Transcript, Vendor
from incidents.severity import SeverityVector
from incidents.triage_filters import AssigneeChoiceField, staff_users

REASON_MAX = 2_000
TEXT_MAX = 10_000
BULK_MAX = 100

# Offered (not imposed) when rejecting: the spec's three kinds of rejection.
REJECTION_REASONS = ("Spam", "Not an instruction override", "Insufficient evidence")


def _normalise(value: object) -> object:
    """Browsers send textarea line breaks as CRLF: compare and store text with LF only."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class ChangesMixin:
    """A ModelForm over a copy of the incident that reports what differs, for ``workflow.edit``."""

    def changes(self, incident: Incident) -> dict:
        changes = {}
        for name in self.changed_data:
            new = _normalise(self.cleaned_data[name])
            if new != _normalise(getattr(incident, name)):
                changes[name] = new
        return changes


class IncidentEditForm(ChangesMixin, forms.ModelForm):
    class Meta:
        model = Incident
        fields = [
            "title",
            "system_name_reported",
            "system_version_reported",
            "instruction",
            "instruction_source",
            "action_taken",
            "reversibility",
            "acknowledged",
            "occurred_on",
            "harms",
            "agent_framework",
            "tool_permissions",
            "reporter_type",
            "references",
        ]
        labels = {**ReportForm.Meta.labels, "reporter_type": "Reporter type", "references": "Links"}
        widgets = ReportForm.Meta.widgets

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, limit in ReportForm.LIMITS.items():
            if name in self.fields:
                self.fields[name].max_length = limit
                self.fields[name].widget.attrs["maxlength"] = limit
        for name in ("instruction", "action_taken"):
            # Verbatim quotes: keep their whitespace as given.
            self.fields[name].strip = False
        for field in self.fields.values():
            field.validators.append(ProhibitNullCharactersValidator())

    def clean_occurred_on(self):
        occurred_on = self.cleaned_data["occurred_on"]
        if occurred_on > timezone.localdate():
            raise forms.ValidationError("This date is in the future; give the day it happened.")
        return occurred_on

    def clean_instruction(self) -> str:
        return self._not_blank("instruction")

    def clean_action_taken(self) -> str:
        return self._not_blank("action_taken")

    def _not_blank(self, name: str) -> str:
        value = self.cleaned_data[name]
        if not value.strip():
            raise forms.ValidationError("This field is required.")
        return value


class ClassificationForm(ChangesMixin, forms.ModelForm):
    secondary_override_types = forms.MultipleChoiceField(
        label="Other kinds that apply",
        choices=OverrideType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Incident
        fields = ["override_type", "secondary_override_types", "context", "environment"]
        labels = {"override_type": "Primary override type", "context": "Deployment context"}

    def clean(self) -> dict:
        cleaned = super().clean()
        primary = cleaned.get("override_type")
        # The primary type is not repeated among the others; keep the order of the choices.
        chosen = set(cleaned.get("secondary_override_types") or [])
        cleaned["secondary_override_types"] = [v for v in OverrideType.values if v in chosen and v != primary]
        return cleaned


class TriagerSeverityForm(SeverityForm):
    """The triager's rating: the same calculator as the report form, every metric required."""

    def __init__(self, *args, incident: Incident | None = None, **kwargs) -> None:
        if incident is not None and "initial" not in kwargs:
            # Start from the triager's rating, else the reporter's: the triager adjusts, not retypes.
            start = incident.triager_severity or incident.reporter_severity
            if start is not None:
                kwargs["initial"] = {f"severity_{key}": value for key, value in start.as_dict().items()}
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("severity_vector") is None and not self.errors:
            raise forms.ValidationError("Choose a value for every metric to rate the incident.")
        return cleaned

    @property
    def vector(self) -> SeverityVector | None:
        return getattr(self, "cleaned_data", {}).get("severity_vector")


class SystemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AISystem) -> str:
        return f"{obj.vendor.name} · {obj.name}"


class SystemLinkForm(forms.Form):
    ai_system = SystemChoiceField(
        label="Canonical AI system",
        queryset=AISystem.objects.select_related("vendor").only("name", "vendor__name"),
        required=False,
        empty_label="Not linked",
        help_text="The canonical system this report is about; its vendor is the one notified.",
    )

    def __init__(self, *args, incident: Incident | None = None, **kwargs) -> None:
        if incident is not None and "initial" not in kwargs:
            kwargs["initial"] = {"ai_system": incident.ai_system_id or suggested_system_id(incident)}
        super().__init__(*args, **kwargs)
        self.fields["ai_system"].widget.attrs["data-system-autocomplete"] = ""


def suggested_system_id(incident: Incident) -> int | None:
    """A system whose name is exactly what the reporter typed (one indexed-enough lookup on a small table)."""
    name = incident.system_name_reported.strip()
    if not name:
        return None
    return AISystem.objects.filter(name__iexact=name).values_list("pk", flat=True).first()


class SystemCreateForm(forms.Form):
    """A new canonical system, under an existing vendor or a new one (the view links the incident to it)."""

    vendor = forms.ModelChoiceField(
        label="Vendor", queryset=Vendor.objects.only("name"), required=False, empty_label="— a new vendor —"
    )
    new_vendor_name = forms.CharField(label="New vendor's name", required=False, max_length=200)
    new_vendor_website = forms.URLField(label="New vendor's website", required=False, max_length=200)
    name = forms.CharField(label="System name", max_length=200, help_text="E.g. “Claude Code” or “ChatGPT agent”.")

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "new-system-%s")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.validators.append(ProhibitNullCharactersValidator())

    def clean(self) -> dict:
        cleaned = super().clean()
        vendor, new_name = cleaned.get("vendor"), (cleaned.get("new_vendor_name") or "").strip()
        if vendor is None and not new_name:
            self.add_error("vendor", "Choose a vendor, or give a new vendor's name.")
        elif vendor is not None and new_name:
            self.add_error("new_vendor_name", "Leave this empty when a vendor is chosen above.")
        elif vendor is None:
            if not slugify(new_name):
                self.add_error("new_vendor_name", "Use a name with letters or digits.")
            elif Vendor.objects.filter(name__iexact=new_name).exists() or (
                Vendor.objects.filter(slug=slugify(new_name)[:100]).exists()
            ):
                self.add_error("new_vendor_name", f"A vendor named “{new_name}” exists; choose it above.")
        name = (cleaned.get("name") or "").strip()
        if name and not slugify(name):
            self.add_error("name", "Use a name with letters or digits.")
        elif name and vendor is not None and vendor.systems.filter(slug=slugify(name)[:100]).exists():
            self.add_error("name", f"{vendor.name} already has a system named “{name}”; choose it from the list.")
        return cleaned

    def save(self) -> AISystem:
        with transaction.atomic():
            vendor = self.cleaned_data["vendor"]
            if vendor is None:
                name = self.cleaned_data["new_vendor_name"].strip()
                vendor = Vendor.objects.create(
                    name=name, slug=slugify(name)[:100], website=self.cleaned_data["new_vendor_website"]
                )
            name = self.cleaned_data["name"].strip()
            return AISystem.objects.create(vendor=vendor, name=name, slug=slugify(name)[:100])


class AssignForm(forms.Form):
    assignee = AssigneeChoiceField(
        label="Assign to", queryset=staff_users(), required=False, empty_label="Nobody (unassign)"
    )


def available_transitions(incident: Incident) -> list[workflow.Transition]:
    """What staff may do next. Marking a duplicate goes through the merge (it needs the canonical)."""
    return [t for t in workflow.allowed_transitions(incident.status) if t.target != Status.DUPLICATE]


class TransitionForm(forms.Form):
    """One available transition, with its reason: required where the workflow table says so."""

    target = forms.ChoiceField(widget=forms.HiddenInput)
    reason = forms.CharField(
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[ProhibitNullCharactersValidator()],
    )

    def __init__(self, *args, incident: Incident, target: str | None = None, **kwargs) -> None:
        self.available = available_transitions(incident)
        step = next((t for t in self.available if t.target == target), None)
        if step is not None:
            kwargs.setdefault("auto_id", f"transition-{step.target}-%s")
            kwargs.setdefault("initial", {"target": step.target})
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [(t.target, t.label) for t in self.available]
        self.step = step
        if step is not None:
            self._describe(step)

    def _describe(self, step: workflow.Transition) -> None:
        reason = self.fields["reason"]
        reason.label = f"Reason to “{step.label}” ({'required' if step.reason_required else 'optional'})"
        if step.reason_required:
            reason.widget.attrs["required"] = ""
        if step.target == Status.REJECTED:
            reason.help_text = "Told to the reporter. E.g. spam, not an instruction override, insufficient evidence."
            reason.widget.attrs["list"] = "rejection-reasons"

    def clean(self) -> dict:
        cleaned = super().clean()
        step = next((t for t in self.available if t.target == cleaned.get("target")), None)
        if step is not None and step.reason_required and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", f"“{step.label}” needs a reason.")
        return cleaned


class DeadlineForm(forms.Form):
    days = forms.IntegerField(label="Extend by (days)", min_value=1, max_value=365, initial=14)
    reason = forms.CharField(
        label="Reason (required)",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[ProhibitNullCharactersValidator()],
        help_text="E.g. the vendor asked for time to ship a fix.",
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "deadline-%s")
        super().__init__(*args, **kwargs)

    def new_deadline(self, incident: Incident) -> datetime:
        return (incident.disclosure_deadline or timezone.now()) + timedelta(days=self.cleaned_data["days"])


class CommentForm(forms.Form):
    kind = forms.ChoiceField(
        label="This is",
        choices=[
            (Comment.Kind.INTERNAL, "An internal note (staff only)"),
            (Comment.Kind.QUESTION, "A question to the reporter (shown on their receipt page and emailed)"),
        ],
        initial=Comment.Kind.INTERNAL,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label="Text",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[ProhibitNullCharactersValidator()],
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "comment-%s")
        super().__init__(*args, **kwargs)


class EraseContactForm(forms.Form):
    confirm = forms.BooleanField(
        label="The reporter asked for their contact details to be erased",
        help_text="Their name and email are removed for good; the incident stays.",
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "erase-%s")
        super().__init__(*args, **kwargs)


class PublicIdField(forms.CharField):
    """An incident's public id, typed or carried in a hidden field: the incident, or a field error."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def clean(self, value) -> Incident:
        public_id = super().clean(value).strip().upper()
        try:
            return Incident.objects.select_related("ai_system__vendor").get(public_id=public_id)
        except Incident.DoesNotExist:
            raise forms.ValidationError(f"No incident has the id “{public_id}”.") from None


class MergeForm(forms.Form):
    canonical = PublicIdField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[ProhibitNullCharactersValidator()],
        help_text="Defaults to “Duplicate of <id>.”",
    )
    reproduction = forms.BooleanField(
        label="This is an independent reproduction",
        required=False,
        help_text="Someone else saw the same override on their own: the canonical incident counts it.",
    )


class CompareForm(forms.Form):
    other = PublicIdField(label="Compare with incident", help_text="Its public id, e.g. AIO-2026-00042.")

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "compare-%s")
        super().__init__(*args, **kwargs)


class BulkForm(forms.Form):
    ASSIGN_ME, ASSIGN, REJECT_SPAM = "assign_me", "assign", "reject_spam"

    incidents = forms.ModelMultipleChoiceField(
        queryset=Incident.objects.only("public_id", "status", "assignee"),
        to_field_name="public_id",
        error_messages={
            "required": "Select at least one incident.",
            "invalid_choice": "%(value)s is not an incident.",
        },
    )
    action = forms.ChoiceField(
        label="With the selected",
        choices=[(ASSIGN_ME, "Assign to me"), (ASSIGN, "Assign to…"), (REJECT_SPAM, "Reject as spam")],
    )
    assignee = AssigneeChoiceField(label="Assignee", queryset=staff_users(), required=False, empty_label="—")
    # The queue's query string, so the page comes back as it was.
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2_000)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "bulk-%s")
        super().__init__(*args, **kwargs)

    def clean_incidents(self):
        incidents = self.cleaned_data["incidents"]
        if len(incidents) > BULK_MAX:
            raise forms.ValidationError(f"Select at most {BULK_MAX} incidents at a time.")
        return incidents

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("action") == self.ASSIGN and cleaned.get("assignee") is None:
            self.add_error("assignee", "Choose whom to assign them to.")
        return cleaned


class TranscriptForm(forms.Form):
    """A transcript's marks (radio and checkboxes rendered on its turns) and extra redaction terms."""

    instruction_turn = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    violation_turns = forms.TypedMultipleChoiceField(coerce=int, required=False)
    redaction_terms = forms.CharField(
        label="Also redact these words",
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[ProhibitNullCharactersValidator()],
        help_text="One per line: names, addresses, anything else that identifies someone. Vendors and the "
        "public see the transcript redacted again as soon as this is saved.",
    )

    def __init__(self, *args, transcript: Transcript, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"transcript-{transcript.pk}-%s")
        kwargs.setdefault(
            "initial",
            {
                "instruction_turn": transcript.instruction_turn,
                "violation_turns": transcript.violation_turns,
                "redaction_terms": "\n".join(transcript.redaction_terms),
            },
        )
        super().__init__(*args, **kwargs)
        self.transcript = transcript
        count = len(transcript.turns)
        missing = f"Turn %(value)s does not exist: the transcript has turns 0 to {count - 1}."
        for name in ("instruction_turn", "violation_turns"):
            self.fields[name].choices = [(index, index) for index in range(count)]
            self.fields[name].error_messages["invalid_choice"] = missing

    def clean_redaction_terms(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["redaction_terms"].splitlines() if line.strip()]

    def marks(self) -> tuple[int | None, list[int]]:
        """The marks to show ticked: what was sent when the form comes back with errors."""
        if not self.is_bound:
            return self.initial["instruction_turn"], self.initial["violation_turns"]
        return _turn(self.data.get("instruction_turn")), [
            index for index in map(_turn, self.data.getlist("violation_turns")) if index is not None
        ]


def _turn(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
