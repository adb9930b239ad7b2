"""API views. Visibility is decided in get_queryset, never by object permissions alone."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from api.serializers import (
    IncidentDetailSerializer,
    IncidentListSerializer,
    IncidentTranscriptSerializer,
    ParsedTranscriptSerializer,
    TranscriptErrorSerializer,
    TranscriptParseRequestSerializer,
)
from incidents import transcripts
from incidents.access import public_incidents
from incidents.filters import IncidentFilter
from incidents.pagination import PublishedIncidentPagination
from incidents.transcripts import TranscriptError, megabytes


class IncidentList(generics.ListAPIView):
    """Published and resolved incidents, newest first, with the same filters as the web list."""

    serializer_class = IncidentListSerializer
    filterset_class = IncidentFilter
    pagination_class = PublishedIncidentPagination

    def get_queryset(self):
        return public_incidents().for_list()


class IncidentDetail(generics.RetrieveAPIView):
    """One published incident with its public fields and timeline."""

    serializer_class = IncidentDetailSerializer
    lookup_field = "public_id"

    def get_queryset(self):
        return public_incidents().select_related("ai_system", "vendor")


class TranscriptParse(APIView):
    """Dry run: detect the format of a transcript and return its normalised turns. Nothing is stored."""

    parser_classes = [JSONParser, MultiPartParser]
    throttle_classes = [AnonRateThrottle, UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "transcript_parse"

    @extend_schema(
        request={
            "application/json": TranscriptParseRequestSerializer,
            "multipart/form-data": TranscriptParseRequestSerializer,
        },
        responses={200: ParsedTranscriptSerializer, 400: TranscriptErrorSerializer, 413: TranscriptErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        limit = settings.TRANSCRIPT_MAX_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > 2 * limit:
            return Response(_too_large(limit), status=413)
        query = TranscriptParseRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        upload = query.validated_data.get("file")
        if upload is not None and upload.size > limit:
            return Response(_too_large(limit), status=413)
        data = upload.read() if upload is not None else query.validated_data["content"].encode()
        try:
            parsed = transcripts.parse(
                data,
                query.validated_data.get("format"),
                sample=query.validated_data.get("sample"),
                filename=upload.name if upload is not None else "",
            )
        except TranscriptError as exc:
            return Response(exc.as_dict(), status=400)
        return Response(ParsedTranscriptSerializer(parsed).data)


def _too_large(limit: int) -> dict:
    return TranscriptError(f"The transcript is larger than the {megabytes(limit)} limit.").as_dict()


class IncidentTranscript(generics.RetrieveAPIView):
    """The redacted, normalised transcripts of one published incident, with the instruction and violation marks."""

    serializer_class = IncidentTranscriptSerializer
    lookup_field = "public_id"

    def get_queryset(self):
        return public_incidents().prefetch_related("transcripts")
