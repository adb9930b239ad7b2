"""Read representations of incidents. Reporter identity is never part of any of them."""

from __future__ import annotations

from rest_framework import serializers

from incidents.models import Incident, IncidentEvent


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
