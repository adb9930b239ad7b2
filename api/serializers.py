"""API representations. Reporter identity appears only in the staff block, which only staff get.

Incident reads are plain attribute reads in ``to_representation`` (ModelSerializer's per-field
machinery costs more than the query); the declared fields describe the same shape for the OpenAPI
schema. The list, the hot path, builds the same items from ``.values()`` rows (``list_items``).
Submissions are validated by the report form itself, so the web and the API accept exactly the
same reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from incidents import severity as severity_module
from incidents.forms import ReportForm, SeverityForm, TurnIndexesField
from incidents.models import (
    Comment,
    Context,
    Environment,
    Incident,
    IncidentEvent,
    IntakeChannel,
    OverrideType,
    ReporterType,
    Status,
    VendorResponse,
)
from incidents.severity import SeverityVector, SeverityVectorError
from incidents.submission import file_incident
from incidents.transcripts import ROLES, format_choices

# ---------------------------------------------------------------------------------------------
# Helpers


def iso(value: datetime | date | None) -> str | None:
    """ISO 8601 as DRF writes it: UTC times end in Z."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _blank_to_none(text: str) -> str | None:
    return text or None


SEVERITY_SCHEMA = {
    "oneOf": [
        {"type": "string", "example": "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"},
        {
            "type": "object",
            "properties": {
                metric.key: {"type": "string", "enum": list(metric.codes), "description": metric.label}
                for metric in severity_module.METRICS
            },
            "required": [metric.key for metric in severity_module.METRICS],
        },
    ],
    "description": "A severity vector string, or the seven metrics as an object of value codes (see docs/severity.md).",
}


@extend_schema_field(SEVERITY_SCHEMA)
class SeverityInputField(serializers.Field):
    """A vector string, or an object with the seven metric codes; becomes a SeverityVector."""

    default_error_messages = {"invalid": "Give a vector string such as {example}, or an object of the seven metrics."}

    def to_internal_value(self, data: Any) -> SeverityVector:
        try:
            if isinstance(data, str):
                return SeverityVector.parse(data)
            if isinstance(data, dict):
                return SeverityVector.from_choices(**data)
        except (SeverityVectorError, TypeError) as exc:
            raise serializers.ValidationError(f"Not a valid severity: {exc}.") from None
        self.fail("invalid", example=SEVERITY_SCHEMA["oneOf"][0]["example"])

    def to_representation(self, value: SeverityVector) -> str:
        return str(value)


# ---------------------------------------------------------------------------------------------
# Errors (documentation only)


class DetailErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    """What a 400 holds: one key per field (or query parameter) at fault, each with its messages.

    `non_field_errors` holds problems not tied to one field; `detail` alone, a problem with the
    request as a whole.
    """

    non_field_errors = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Problems not tied to one field."
    )
    detail = serializers.CharField(
        required=False,
        help_text="Instead of field keys: a body that could not be read (not valid JSON, say), "
        "or a request the incident cannot take in its present state.",
    )


class TransitionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    allowed = serializers.ListField(
        child=serializers.ChoiceField(choices=Status.choices),
        help_text="The statuses the incident can go to from where it is.",
    )


# ---------------------------------------------------------------------------------------------
# Incidents: list and detail


class SeveritySerializer(serializers.Serializer):
    score = serializers.DecimalField(
        max_digits=3,
        decimal_places=1,
        allow_null=True,
        help_text="The effective score: the triager's, else the reporter's.",
    )
    band = serializers.ChoiceField(choices=list(severity_module.BAND_LABELS.items()), allow_null=True)
    reporter_vector = serializers.CharField(allow_null=True)
    triager_vector = serializers.CharField(allow_null=True)
    vendor_vector = serializers.CharField(allow_null=True)


def severity_of(incident: Incident) -> dict:
    return {
        "score": str(incident.severity_score) if incident.severity_score is not None else None,
        "band": incident.severity_band or None,
        "reporter_vector": incident.reporter_severity_vector or None,
        "triager_vector": incident.triager_severity_vector or None,
        "vendor_vector": incident.vendor_severity_vector or None,
    }


class IncidentListSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    url = serializers.URLField(help_text="This incident in the API.")
    status = serializers.ChoiceField(choices=Status.choices)
    title = serializers.CharField()
    vendor = serializers.CharField(allow_null=True, help_text="The vendor's slug, once staff linked the AI system.")
    ai_system = serializers.CharField(allow_null=True, help_text="The canonical AI system's slug, once linked.")
    system_name_reported = serializers.CharField()
    system_version_reported = serializers.CharField(allow_blank=True)
    override_type = serializers.ChoiceField(choices=OverrideType.choices)
    environment = serializers.ChoiceField(choices=Environment.choices)
    context = serializers.ChoiceField(choices=Context.choices)
    severity = SeveritySerializer()
    occurred_on = serializers.DateField()
    created = serializers.DateTimeField(help_text="When it was filed.")
    published_at = serializers.DateTimeField(allow_null=True)
    modified = serializers.DateTimeField(help_text="Last change of any kind; filter on it with modified_since.")

    def _url(self, public_id: str) -> str:
        template = getattr(self, "_url_template", None)
        if template is None:
            template = self._url_template = detail_url_template(self.context.get("request"))
        return template.replace("PUBLIC-ID", public_id)

    def to_representation(self, incident: Incident) -> dict:
        return {
            "public_id": incident.public_id,
            "url": self._url(incident.public_id),
            "status": incident.status,
            "title": incident.title,
            "vendor": incident.vendor.slug if incident.vendor_id else None,
            "ai_system": incident.ai_system.slug if incident.ai_system_id else None,
            "system_name_reported": incident.system_name_reported,
            "system_version_reported": incident.system_version_reported,
            "override_type": incident.override_type,
            "environment": incident.environment,
            "context": incident.context,
            "severity": severity_of(incident),
            "occurred_on": iso(incident.occurred_on),
            "created": iso(incident.created),
            "published_at": iso(incident.published_at),
            "modified": iso(incident.modified),
        }


# What list_items reads, as .values() lookups (the sort fields among them).
LIST_COLUMNS = (
    "public_id",
    "status",
    "title",
    "vendor__slug",
    "ai_system__slug",
    "system_name_reported",
    "system_version_reported",
    "override_type",
    "environment",
    "context",
    "severity_score",
    "severity_band",
    "reporter_severity_vector",
    "triager_severity_vector",
    "vendor_severity_vector",
    "occurred_on",
    "created",
    "published_at",
    "modified",
)


def list_items(rows: Iterable[dict[str, Any]], *, url_template: str) -> list[dict]:
    """IncidentListSerializer's items, from rows of ``.values(*LIST_COLUMNS)``.

    The list's hot path: no model instances and no serializer machinery. It must write exactly what
    the serializer writes (tests/api/test_list_items.py compares the two for every kind of caller),
    so the schema the serializer documents holds.
    """
    return [
        {
            "public_id": row["public_id"],
            "url": url_template.replace("PUBLIC-ID", row["public_id"]),
            "status": row["status"],
            "title": row["title"],
            "vendor": row["vendor__slug"],
            "ai_system": row["ai_system__slug"],
            "system_name_reported": row["system_name_reported"],
            "system_version_reported": row["system_version_reported"],
            "override_type": row["override_type"],
            "environment": row["environment"],
            "context": row["context"],
            "severity": {
                "score": str(row["severity_score"]) if row["severity_score"] is not None else None,
                "band": row["severity_band"] or None,
                "reporter_vector": row["reporter_severity_vector"] or None,
                "triager_vector": row["triager_severity_vector"] or None,
                "vendor_vector": row["vendor_severity_vector"] or None,
            },
            "occurred_on": iso(row["occurred_on"]),
            "created": iso(row["created"]),
            "published_at": iso(row["published_at"]),
            "modified": iso(row["modified"]),
        }
        for row in rows
    ]


def detail_url_template(request: HttpRequest | Request | None) -> str:
    """An incident's API URL with ``PUBLIC-ID`` in place of its id: one reverse() per response, not per row."""
    path = reverse("api:incident-detail", args=["PUBLIC-ID"])
    return request.build_absolute_uri(path) if request is not None else path


class TimelineEventSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=IncidentEvent.Action.choices)
    label = serializers.CharField()
    from_status = serializers.ChoiceField(choices=Status.choices, allow_null=True)
    to_status = serializers.ChoiceField(choices=Status.choices, allow_null=True)
    created = serializers.DateTimeField()

    def to_representation(self, event: IncidentEvent) -> dict:
        return {
            "action": event.action,
            "label": event.get_to_status_display() if event.to_status else event.get_action_display(),
            "from_status": event.from_status or None,
            "to_status": event.to_status or None,
            "created": iso(event.created),
        }


class DisclosureSerializer(serializers.Serializer):
    vendor_notified_at = serializers.DateTimeField(allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True, help_text="Published without the vendor after this.")
    first_vendor_response_at = serializers.DateTimeField(allow_null=True)


class VendorResponseSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=VendorResponse.Kind.choices)
    text = serializers.CharField(allow_blank=True)
    author = serializers.CharField()
    created = serializers.DateTimeField()

    def to_representation(self, response: VendorResponse) -> dict:
        return {
            "kind": response.kind,
            "text": response.text,
            "author": response.author_label,
            "created": iso(response.created),
        }


class ReporterContactSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    erased_at = serializers.DateTimeField(allow_null=True)


class CommentSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Comment.Kind.choices)
    author = serializers.CharField()
    text = serializers.CharField()
    created = serializers.DateTimeField()


class ReporterNoteSerializer(serializers.Serializer):
    text = serializers.CharField()
    created = serializers.DateTimeField()


class HistoryEventSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=IncidentEvent.Action.choices)
    from_status = serializers.ChoiceField(choices=Status.choices, allow_null=True)
    to_status = serializers.ChoiceField(choices=Status.choices, allow_null=True)
    actor = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    data = serializers.DictField()
    public = serializers.BooleanField()
    created = serializers.DateTimeField()


class StaffBlockSerializer(serializers.Serializer):
    """Staff only: who reported it, the internal thread and the whole history."""

    assignee = serializers.CharField(allow_null=True)
    duplicate_of = serializers.CharField(allow_null=True, help_text="The canonical incident's public id.")
    reporter_contact = ReporterContactSerializer(allow_null=True)
    reporter_notes = ReporterNoteSerializer(many=True)
    comments = CommentSerializer(many=True)
    history = HistoryEventSerializer(many=True)


class IncidentDetailSerializer(IncidentListSerializer):
    instruction = serializers.CharField()
    instruction_source = serializers.CharField()
    action_taken = serializers.CharField()
    reversibility = serializers.CharField()
    acknowledged = serializers.CharField()
    secondary_override_types = serializers.ListField(child=serializers.ChoiceField(choices=OverrideType.choices))
    harms = serializers.CharField(allow_blank=True)
    agent_framework = serializers.CharField(allow_blank=True)
    tool_permissions = serializers.CharField(allow_blank=True)
    reporter_type = serializers.ChoiceField(choices=ReporterType.choices)
    intake_channel = serializers.ChoiceField(choices=IntakeChannel.choices)
    references = serializers.ListField(child=serializers.CharField())
    report_count = serializers.IntegerField(help_text="Reports of this incident, counting merged duplicates.")
    reproduction_count = serializers.IntegerField(help_text="Confirmed independent reproductions.")
    vendor_statement = serializers.CharField(allow_blank=True)
    transcript_url = serializers.URLField()
    timeline = TimelineEventSerializer(many=True, help_text="The public steps of the workflow.")
    disclosure = DisclosureSerializer(required=False, help_text="Staff and the incident's vendor only.")
    vendor_responses = VendorResponseSerializer(
        many=True, required=False, help_text="Staff and the incident's vendor only."
    )
    staff = StaffBlockSerializer(required=False, help_text="Staff only.")

    def to_representation(self, incident: Incident) -> dict:
        data = super().to_representation(incident)
        data.update(
            {
                "instruction": incident.instruction,
                "instruction_source": incident.instruction_source,
                "action_taken": incident.action_taken,
                "reversibility": incident.reversibility,
                "acknowledged": incident.acknowledged,
                "secondary_override_types": list(incident.secondary_override_types),
                "harms": incident.harms,
                "agent_framework": incident.agent_framework,
                "tool_permissions": incident.tool_permissions,
                "reporter_type": incident.reporter_type,
                "intake_channel": incident.intake_channel,
                "references": incident.reference_urls,
                "report_count": incident.report_count,
                "reproduction_count": incident.reproduction_count,
                "vendor_statement": incident.vendor_statement,
                "transcript_url": data["url"] + "transcript/",
                "timeline": [TimelineEventSerializer().to_representation(e) for e in self._timeline(incident)],
            }
        )
        if self.context.get("staff") or self.context.get("own_vendor"):
            data["disclosure"] = {
                "vendor_notified_at": iso(incident.vendor_notified_at),
                "deadline": iso(incident.disclosure_deadline),
                "first_vendor_response_at": iso(incident.first_vendor_response_at),
            }
            data["vendor_responses"] = [
                VendorResponseSerializer().to_representation(r) for r in incident.vendor_responses.all()
            ]
        if self.context.get("staff"):
            data["staff"] = self._staff_block(incident)
        return data

    def _timeline(self, incident: Incident) -> list[IncidentEvent]:
        return [event for event in incident.events.all() if event.public]

    def _staff_block(self, incident: Incident) -> dict:
        contact = getattr(incident, "reporter_contact", None)
        events = incident.events.all()
        return {
            "assignee": incident.assignee.get_username() if incident.assignee_id else None,
            "duplicate_of": incident.duplicate_of.public_id if incident.duplicate_of_id else None,
            "reporter_contact": {"name": contact.name, "email": contact.email, "erased_at": iso(contact.erased_at)}
            if contact is not None
            else None,
            "reporter_notes": [{"text": n.text, "created": iso(n.created)} for n in incident.reporter_notes.all()],
            "comments": [
                {"kind": c.kind, "author": c.author_label, "text": c.text, "created": iso(c.created)}
                for c in incident.comments.all()
            ],
            "history": [
                {
                    "action": e.action,
                    "from_status": e.from_status or None,
                    "to_status": e.to_status or None,
                    "actor": e.actor_label,
                    "reason": e.reason,
                    "data": e.data,
                    "public": e.public,
                    "created": iso(e.created),
                }
                for e in events
            ],
        }


# ---------------------------------------------------------------------------------------------
# Transcripts


class ToolCallSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    arguments = serializers.JSONField(help_text="An object when the source gave valid JSON, else the text as given.")


class RawBlockSerializer(serializers.Serializer):
    type = serializers.CharField()
    data = serializers.JSONField()


class TurnSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    role = serializers.ChoiceField(choices=ROLES)
    content = serializers.CharField(allow_blank=True)
    tool_calls = ToolCallSerializer(many=True)
    tool_call_id = serializers.CharField(allow_null=True)
    reasoning = serializers.CharField(allow_null=True)
    timestamp = serializers.CharField(allow_null=True)
    raw = RawBlockSerializer(many=True, help_text="Blocks of the source that have no normalised field.")


class SampleSerializer(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField(allow_blank=True)


class TranscriptParseRequestSerializer(serializers.Serializer):
    content = serializers.CharField(
        required=False, trim_whitespace=False, help_text="The transcript as text (JSON, JSONL or plain text)."
    )
    file = serializers.FileField(
        required=False, help_text="The transcript as a file (multipart), e.g. an .eval archive."
    )
    format = serializers.ChoiceField(
        choices=[], required=False, help_text="A format id; detected automatically when left out."
    )
    sample = serializers.CharField(
        required=False, help_text="Which sample or conversation to parse, where there are several."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = format_choices()

    def validate(self, attrs: dict) -> dict:
        if ("content" in attrs) == ("file" in attrs):
            raise serializers.ValidationError("Send the transcript as either `content` or `file`, not both or neither.")
        return attrs


class ParsedTranscriptSerializer(serializers.Serializer):
    format = serializers.CharField()
    turns = TurnSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())
    samples = SampleSerializer(many=True)
    sample = serializers.CharField(allow_null=True)


class TranscriptErrorSerializer(serializers.Serializer):
    """Every 400 and 413 of the dry run: a transcript that cannot be read, or a request that is wrong."""

    detail = serializers.CharField(help_text="What is wrong, and where.")
    format = serializers.CharField(allow_null=True, help_text="The format tried; null when none was.")
    line = serializers.IntegerField(allow_null=True, help_text="The line of the transcript (from 1).")
    turn = serializers.IntegerField(allow_null=True, help_text="The turn's index (from 0).")
    field = serializers.CharField(
        allow_null=True,
        help_text="Where in the transcript (a path such as `messages[2].content`); when the request itself "
        "is wrong, the request field at fault (`content`, `file`, `format` or `sample`).",
    )


class IncidentTranscriptEntrySerializer(serializers.Serializer):
    format = serializers.CharField()
    sha256 = serializers.CharField(help_text="SHA-256 of the raw upload, which is kept unchanged.")
    redacted = serializers.BooleanField(help_text="False only for staff, who see the original turns.")
    instruction_turn = serializers.IntegerField(allow_null=True, help_text="Where the instruction was given.")
    violation_turns = serializers.ListField(child=serializers.IntegerField(), help_text="Where it was broken.")
    redaction_counts = serializers.DictField(child=serializers.IntegerField())
    warnings = serializers.ListField(child=serializers.CharField())
    turns = TurnSerializer(many=True)


class IncidentTranscriptSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    transcripts = IncidentTranscriptEntrySerializer(many=True)

    def to_representation(self, incident: Incident) -> dict:
        original = bool(self.context.get("staff"))
        return {
            "public_id": incident.public_id,
            "transcripts": [
                {
                    "format": t.format,
                    "sha256": t.sha256,
                    "redacted": not original,
                    "instruction_turn": t.instruction_turn,
                    "violation_turns": list(t.violation_turns),
                    "redaction_counts": dict(t.redaction_counts),
                    "warnings": list(t.warnings),
                    "turns": t.turns if original else t.redacted_turns,
                }
                for t in incident.transcripts.all()
            ],
        }


# ---------------------------------------------------------------------------------------------
# Submitting an incident


# API names that differ from the report form's.
FORM_NAMES = {"transcript": "transcript_text"}
API_NAMES = {form: api for api, form in FORM_NAMES.items()}
# The form's anti-spam trap is for browsers; API callers are throttled instead.
NOT_IN_API = {"website"}
# Accepted as one string with a line each, or as a list of strings.
LINE_FIELDS = {"references", "redaction_terms"}
API_HELP = {
    "transcript": "The transcript as text, in any supported format (try it with transcripts/parse/).",
    "transcript_file": "The transcript as a file (multipart only), e.g. an Inspect .eval archive.",
    "transcript_format": "A format id; detected automatically when left out.",
    "instruction_turn": "Index of the turn where the instruction was given.",
    "violation_turns": "Indexes of the turns where it was broken.",
    "reporter_email": "Optional; only staff ever see it. Status changes are sent there.",
    "references": "URLs about this incident: a list, or one string with one per line.",
    "redaction_terms": "Names and other words to redact from the transcript: a list, or one per line.",
}


def _api_field(name: str, field: forms.Field) -> serializers.Field:
    """The schema of one report-form field as the API accepts it (the form still does the validating)."""
    help_text = API_HELP.get(name) or str(field.help_text or "") or None
    common = {"required": field.required, "help_text": help_text}
    if name in LINE_FIELDS:
        return serializers.ListField(child=serializers.CharField(), **common)
    if isinstance(field, TurnIndexesField):
        return serializers.ListField(child=serializers.IntegerField(min_value=0), **common)
    if isinstance(field, forms.MultipleChoiceField):
        return serializers.ListField(child=serializers.ChoiceField(choices=field.choices), **common)
    if isinstance(field, forms.ChoiceField):
        return serializers.ChoiceField(choices=[c for c in field.choices if c[0] != ""], **common)
    if isinstance(field, forms.FileField):
        return serializers.FileField(**common)
    if isinstance(field, forms.DateField):
        return serializers.DateField(**common)
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(min_value=field.min_value, allow_null=True, **common)
    if isinstance(field, forms.EmailField):
        return serializers.EmailField(allow_blank=True, **common)
    return serializers.CharField(allow_blank=not field.required, max_length=field.max_length, **common)


class IncidentSubmissionSerializer(serializers.Serializer):
    """A report: the same fields and checks as the web report form.

    Unknown fields are refused, so that a misspelt one is not silently dropped.
    """

    # The fields are generated from ReportForm for the schema; the form itself does the validating.

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = {
            API_NAMES.get(name, name): _api_field(API_NAMES.get(name, name), field)
            for name, field in ReportForm().fields.items()
            if name not in NOT_IN_API
        }
        fields["severity"] = SeverityInputField(required=False, help_text="The reporter's rating, if any.")
        return fields

    def to_internal_value(self, data: Any) -> dict:
        if not hasattr(data, "keys"):
            raise serializers.ValidationError({"non_field_errors": ["Send the report as a JSON object."]})
        known = self.fields
        errors: dict[str, list[str]] = {}
        form_data: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        for key in data:
            if key not in known:
                errors[key] = ["Unknown field."]
                continue
            if key == "severity":
                continue
            value = self._value(data, key, known[key])
            if value is None:
                continue  # null is the same as leaving the field out
            problem = self._type_problem(key, known[key], value, multipart=hasattr(data, "getlist"))
            if problem:
                errors[key] = [problem]
            elif isinstance(known[key], serializers.FileField):
                files[FORM_NAMES.get(key, key)] = value
            else:
                form_data[FORM_NAMES.get(key, key)] = (
                    "\n".join(value) if key in LINE_FIELDS and isinstance(value, list) else value
                )
        severity_data, severity_errors = self._severity(data)
        if severity_errors:
            errors["severity"] = severity_errors
        if errors:
            raise serializers.ValidationError(errors)

        report = ReportForm(form_data, files)
        rating = SeverityForm(severity_data)
        if not (report.is_valid() & rating.is_valid()):  # both, so every error shows at once
            raise serializers.ValidationError(self._form_errors(report, rating))
        return {"report": report, "severity": rating.cleaned_data["severity_vector"]}

    @staticmethod
    def _value(data: Any, key: str, field: serializers.Field | None = None) -> Any:
        if hasattr(data, "getlist"):  # multipart: list fields are repeated keys
            return data.getlist(key) if isinstance(field, serializers.ListField) else data.get(key)
        return data[key]

    @staticmethod
    def _type_problem(key: str, field: serializers.Field, value: Any, *, multipart: bool) -> str:
        """JSON types only; what the values mean is the form's business. In a form post everything is text."""
        if isinstance(field, serializers.FileField):
            return "" if isinstance(value, UploadedFile) else "Send the file as multipart/form-data."
        if multipart:
            return "" if not isinstance(value, UploadedFile) else "Expected text, not a file."
        if isinstance(field, serializers.ListField):
            if key in LINE_FIELDS and isinstance(value, str):
                return ""
            if not isinstance(value, list):
                return "Expected a list."
            child_type = int if isinstance(field.child, serializers.IntegerField) else str
            if not all(isinstance(item, child_type) and not isinstance(item, bool) for item in value):
                return f"Expected a list of {'whole numbers' if child_type is int else 'strings'}."
            return ""
        if isinstance(field, serializers.IntegerField):
            if value is None or (isinstance(value, int) and not isinstance(value, bool)):
                return ""
            return "" if isinstance(value, str) else "Expected a whole number."
        return "" if isinstance(value, str) else "Expected a string."

    def _severity(self, data: Any) -> tuple[dict[str, str], list[str]]:
        """The rating as the calculator's fields; a vector string is read here, its metrics by the form."""
        if "severity" not in data:
            return {}, []
        value = self._value(data, "severity")
        if value in (None, ""):
            return {}, []
        if isinstance(value, str):
            try:
                value = SeverityVector.parse(value).as_dict()
            except SeverityVectorError as exc:
                return {}, [f"Not a valid severity vector: {exc}."]
        if not isinstance(value, dict):
            return {}, ["Give a vector string, or an object of the seven metrics."]
        unknown = sorted(set(value) - {metric.key for metric in severity_module.METRICS})
        if unknown:
            return {}, [f"Unknown metric {', '.join(unknown)}."]
        if not all(isinstance(code, str) for code in value.values()):
            return {}, ["Each metric's value is a code (a string)."]
        return {f"severity_{key}": code for key, code in value.items()}, []

    @staticmethod
    def _form_errors(report: ReportForm, rating: SeverityForm) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for name, messages in report.errors.items():
            key = "non_field_errors" if name == NON_FIELD_ERRORS else API_NAMES.get(name, name)
            errors.setdefault(key, []).extend(messages)
        for name, messages in rating.errors.items():
            label = name.removeprefix("severity_")
            errors.setdefault("severity", []).extend(f"{label}: {message}" for message in messages)
        return errors

    def create(self, validated_data: dict) -> Incident:
        report: ReportForm = validated_data["report"]
        return file_incident(
            fields={name: report.cleaned_data[name] for name in ReportForm.Meta.fields},
            intake_channel=validated_data["intake_channel"],
            reporter_severity=validated_data["severity"],
            evidence=report.evidence(),
            reporter_email=report.cleaned_data["reporter_email"],
        )


class SubmissionReceiptSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    receipt_url = serializers.URLField(
        help_text="The reporter's private status page: keep it secret; it is the only way to follow the report."
    )
    created = serializers.DateTimeField()


# ---------------------------------------------------------------------------------------------
# Vendor responses and staff transitions


class VendorResponseRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=VendorResponse.Kind.choices)
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20_000,
        trim_whitespace=False,
        help_text="Required for a dispute and a public statement; a statement is published with the incident.",
    )
    severity = SeverityInputField(required=False, help_text="The vendor's own severity rating.")


class VendorResponseResultSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    response = VendorResponseSerializer()
    vendor_vector = serializers.CharField(allow_null=True)


# Named actions, besides the target statuses themselves.
NAMED_ACTIONS: dict[str, Status] = {
    "start_triage": Status.TRIAGE,
    "confirm": Status.CONFIRMED,
    "reject": Status.REJECTED,
    "notify_vendor": Status.VENDOR_NOTIFIED,
    "record_vendor_response": Status.VENDOR_RESPONDED,
    "publish": Status.PUBLISHED,
    "resolve": Status.RESOLVED,
    "reopen": Status.TRIAGE,
}
MERGE_ACTIONS = ("merge_duplicate", Status.DUPLICATE.value)


class TransitionRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[*NAMED_ACTIONS, *(s.value for s in Status if s != Status.DUPLICATE), *MERGE_ACTIONS],
        help_text="A target status (e.g. `published`) or a named action (e.g. `publish`); "
        "`merge_duplicate` (or `duplicate`) keeps the incident as a report of `duplicate_of`.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5_000,
        help_text="Required by some transitions; kept in the history.",
    )
    duplicate_of = serializers.CharField(
        required=False, max_length=20, help_text="For merge_duplicate: the canonical incident's public id."
    )
    reproduction = serializers.BooleanField(
        required=False, default=False, help_text="For merge_duplicate: it is a confirmed independent reproduction."
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["action"] in MERGE_ACTIONS:
            if not attrs.get("duplicate_of"):
                raise serializers.ValidationError({"duplicate_of": ["Name the canonical incident."]})
            attrs["target"] = Status.DUPLICATE
        else:
            attrs["target"] = NAMED_ACTIONS.get(attrs["action"], attrs["action"])
        return attrs


class TransitionResultSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    from_status = serializers.ChoiceField(choices=Status.choices)
    to_status = serializers.ChoiceField(choices=Status.choices)
    reason = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField()
