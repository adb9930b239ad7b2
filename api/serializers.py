"""Read representations of incidents. Reporter identity is never part of any of them."""

from __future__ import annotations

from rest_framework import serializers

from incidents.models import Incident, IncidentEvent
from incidents.transcripts import ROLES, format_choices


class SeveritySerializer(serializers.Serializer):
    score = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True)
    band = serializers.CharField(allow_blank=True)
    reporter_vector = serializers.CharField(source="reporter_severity_vector", allow_blank=True)
    triager_vector = serializers.CharField(source="triager_severity_vector", allow_blank=True)
    vendor_vector = serializers.CharField(source="vendor_severity_vector", allow_blank=True)

    def to_representation(self, incident: Incident) -> dict:
        return {
            "score": str(incident.severity_score) if incident.severity_score is not None else None,
            "band": incident.severity_band,
            "reporter_vector": incident.reporter_severity_vector,
            "triager_vector": incident.triager_severity_vector,
            "vendor_vector": incident.vendor_severity_vector,
        }


class IncidentListSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:incident-detail", lookup_field="public_id", read_only=True
    )
    vendor = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    ai_system = serializers.SerializerMethodField()
    severity = SeveritySerializer(source="*", read_only=True)

    class Meta:
        model = Incident
        fields = [
            "public_id",
            "url",
            "status",
            "title",
            "vendor",
            "ai_system",
            "system_name_reported",
            "system_version_reported",
            "override_type",
            "environment",
            "context",
            "severity",
            "occurred_on",
            "published_at",
            "modified",
        ]

    def get_ai_system(self, incident: Incident) -> str | None:
        return incident.ai_system.slug if incident.ai_system_id else None


class TimelineEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentEvent
        fields = ["created", "from_status", "to_status"]


class IncidentDetailSerializer(IncidentListSerializer):
    timeline = serializers.SerializerMethodField()

    class Meta(IncidentListSerializer.Meta):
        fields = [
            *IncidentListSerializer.Meta.fields,
            "instruction",
            "instruction_source",
            "action_taken",
            "reversibility",
            "acknowledged",
            "secondary_override_types",
            "harms",
            "agent_framework",
            "tool_permissions",
            "reporter_type",
            "intake_channel",
            "references",
            "timeline",
        ]

    def get_timeline(self, incident: Incident) -> list[dict]:
        return TimelineEventSerializer(incident.events.filter(public=True), many=True).data


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
    detail = serializers.CharField()
    format = serializers.CharField(allow_null=True, help_text="The format tried.")
    line = serializers.IntegerField(allow_null=True)
    turn = serializers.IntegerField(allow_null=True)
    field = serializers.CharField(allow_null=True)


class PublicTranscriptSerializer(serializers.Serializer):
    format = serializers.CharField()
    sha256 = serializers.CharField(help_text="SHA-256 of the raw upload, kept unchanged by staff.")
    instruction_turn = serializers.IntegerField(allow_null=True)
    violation_turns = serializers.ListField(child=serializers.IntegerField())
    redaction_counts = serializers.DictField(child=serializers.IntegerField())
    turns = TurnSerializer(many=True, source="redacted_turns")


class IncidentTranscriptSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    transcripts = PublicTranscriptSerializer(many=True)
