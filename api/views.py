"""API views: parse, authorise, call, answer.

What a caller may see is decided in get_queryset (``api.permissions.visible_incidents``): an
incident outside it answers 404 whether or not it exists. What a caller who can see it may do is
checked on the object afterwards (403). Every state change goes through ``incidents.workflow``.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from api import idempotency
from api.authentication import BearerTokenAuthentication
from api.pagination import IncidentCursorPagination
from api.permissions import IsIncidentVendor, IsStaffCaller, is_staff_caller, is_vendor_of, visible_incidents
from api.schema import INVALID
from api.serializers import (
    LIST_COLUMNS,
    DetailErrorSerializer,
    IncidentDetailSerializer,
    IncidentListSerializer,
    IncidentSubmissionSerializer,
    IncidentTranscriptSerializer,
    ParsedTranscriptSerializer,
    SubmissionReceiptSerializer,
    TranscriptErrorSerializer,
    TranscriptParseRequestSerializer,
    TransitionConflictSerializer,
    TransitionRequestSerializer,
    TransitionResultSerializer,
    VendorResponseRequestSerializer,
    VendorResponseResultSerializer,
    VendorResponseSerializer,
    detail_url_template,
    iso,
    list_items,
)
from api.throttling import AnonymousRateThrottle, AnonymousSubmitThrottle, ClientRateThrottle
from incidents import transcripts, workflow
from incidents.filters import IncidentFilter
from incidents.models import Incident, IncidentEvent, IntakeChannel, ReporterType, Status
from incidents.transcripts import TranscriptError, megabytes

# 401, 429 and the other answers every operation shares are added by api.schema.document_shared_errors.
NOT_FOUND = OpenApiResponse(DetailErrorSerializer, description="No incident with this id that you may see.")


class ApiView(APIView):
    """Bearer tokens for programs, the session for the browsable API; limits per token and per address."""

    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    throttle_classes = [ClientRateThrottle, AnonymousRateThrottle]


def incident_or_404(request: Request, public_id: str, queryset: QuerySet[Incident] | None = None) -> Incident:
    return get_object_or_404(queryset if queryset is not None else visible_incidents(request), public_id=public_id)


# ---------------------------------------------------------------------------------------------
# Incidents


class IncidentList(ApiView, generics.ListAPIView):
    """Incidents the caller may see, with the same filters as the web list; and filing a new one."""

    serializer_class = IncidentListSerializer
    filterset_class = IncidentFilter
    pagination_class = IncidentCursorPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Incident]:
        return visible_incidents(self.request)

    def list(self, request: Request, *args, **kwargs) -> Response:
        # The page as dicts of the columns the items need: no model instance, no serializer field.
        rows = self.paginator.paginate_queryset(
            self.filter_queryset(self.get_queryset()), request, columns=LIST_COLUMNS
        )
        return self.get_paginated_response(list_items(rows, url_template=detail_url_template(request)))

    def get_throttles(self) -> list:
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(AnonymousSubmitThrottle())
        return throttles

    @extend_schema(
        summary="List incidents",
        description="Anonymous callers see published and resolved incidents; a vendor's token also sees its "
        "own incidents from `vendor_notified` on; staff see everything. Cursor-paginated: follow `next`. "
        "For incremental sync, keep the time of your last sync and ask for `modified_since` with "
        "`ordering=modified`.",
        responses={200: IncidentListSerializer(many=True), 400: INVALID},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="File an incident",
        description="The same fields and checks as the web report form. Anonymous callers are throttled "
        "per address; machine reporters send a token. Send the transcript inline (`transcript`) as JSON, "
        f"or as a file (`transcript_file`) with multipart/form-data; at most "
        f"{megabytes(settings.TRANSCRIPT_MAX_BYTES)}. With an `Idempotency-Key`, a retry of the same request "
        "returns the first answer (with `Idempotent-Replayed: true`) and files nothing new.",
        request={
            "application/json": IncidentSubmissionSerializer,
            "multipart/form-data": IncidentSubmissionSerializer,
        },
        parameters=[
            OpenApiParameter(
                idempotency.HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="A unique value per report (a UUID); keys are kept at least 24 hours.",
            )
        ],
        responses={
            201: SubmissionReceiptSerializer,
            400: INVALID,
            409: OpenApiResponse(DetailErrorSerializer, description="A request with this key is still in progress."),
            413: OpenApiResponse(DetailErrorSerializer, description="The request is too large."),
            422: OpenApiResponse(DetailErrorSerializer, description="This key was used for a different request."),
        },
        examples=[
            OpenApiExample(
                "A monitor's report",
                request_only=True,
                value={
                    "title": "Agent deleted files after being told to keep them",
                    "system_name_reported": "Acme Agent",
                    "instruction": "Do not delete anything in /data.",
                    "instruction_source": "system_prompt",
                    "action_taken": "It ran rm -rf /data/archive.",
                    "reversibility": "costly",
                    "acknowledged": "yes",
                    "override_type": "prohibited_action",
                    "context": "coding_agent",
                    "environment": "production",
                    "occurred_on": "2026-03-01",
                    "reporter_type": "monitor",
                    "transcript": "User: Do not delete anything in /data.\nAssistant: Deleted /data/archive.",
                    "violation_turns": [1],
                    "severity": "OVR:1.0/IN:E/AC:T/RV:C/SC:U/HM:L/DC:D/AK:Y",
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return Response(
                {
                    "detail": f"The request is too large; a transcript may be at most "
                    f"{megabytes(settings.TRANSCRIPT_MAX_BYTES)}."
                },
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            return self._submit(request)
        problem = idempotency.key_problem(key)
        if problem:
            raise ValidationError({idempotency.HEADER: [problem]})
        return idempotency.respond_once(request, key, lambda: self._submit(request))

    def _submit(self, request: Request) -> Response:
        submission = IncidentSubmissionSerializer(data=request.data)
        if not submission.is_valid():
            return Response(submission.errors, status=status.HTTP_400_BAD_REQUEST)
        reporter_type = submission.validated_data["report"].cleaned_data["reporter_type"]
        channel = IntakeChannel.MONITOR if reporter_type == ReporterType.MONITOR else IntakeChannel.API
        incident = submission.save(intake_channel=channel)
        body = {
            "public_id": incident.public_id,
            "status": incident.status,
            "receipt_url": request.build_absolute_uri(incident.get_receipt_url()),
            "created": iso(incident.created),
        }
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "private, no-store"})


class IncidentDetail(ApiView, generics.RetrieveAPIView):
    """One incident: every public field, the public timeline and the vendor's statement."""

    serializer_class = IncidentDetailSerializer
    lookup_field = "public_id"

    def get_queryset(self) -> QuerySet[Incident]:
        queryset = visible_incidents(self.request).select_related("ai_system", "vendor")
        # Timeline (and, for staff, the whole history) in one query, not one per event.
        queryset = queryset.prefetch_related(
            Prefetch("events", queryset=IncidentEvent.objects.order_by("created", "id"))
        )
        if is_staff_caller(self.request):
            queryset = queryset.select_related("assignee", "duplicate_of", "reporter_contact").prefetch_related(
                "comments", "reporter_notes", "vendor_responses"
            )
        return queryset

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "staff": is_staff_caller(self.request)}

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        incident = self.get_object()
        context = {**self.get_serializer_context(), "own_vendor": is_vendor_of(request, incident)}
        return Response(IncidentDetailSerializer(incident, context=context).data)

    @extend_schema(
        summary="Get an incident",
        description="`disclosure` and `vendor_responses` appear for staff and the incident's vendor; "
        "`staff` (reporter contact, internal comments, full history) for staff only.",
        responses={200: IncidentDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class IncidentTranscript(ApiView, generics.RetrieveAPIView):
    """The incident's normalised transcripts with the instruction and violation marks.

    Redacted for everyone but staff, who get the original turns.
    """

    serializer_class = IncidentTranscriptSerializer
    lookup_field = "public_id"

    def get_queryset(self) -> QuerySet[Incident]:
        return visible_incidents(self.request).prefetch_related("transcripts")

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "staff": is_staff_caller(self.request)}

    @extend_schema(
        summary="Get an incident's transcripts", responses={200: IncidentTranscriptSerializer, 404: NOT_FOUND}
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Vendor responses and staff transitions


class IncidentResponses(ApiView):
    """A vendor answers an incident about its own system."""

    permission_classes = [IsIncidentVendor]

    @extend_schema(
        summary="Answer as the vendor",
        description="Acknowledge, dispute, mark fixed or won't fix, give a public statement, and optionally "
        "the vendor's own severity rating. The first answer moves the incident to `vendor_responded`.",
        request=VendorResponseRequestSerializer,
        responses={
            201: VendorResponseResultSerializer,
            400: INVALID,
            403: OpenApiResponse(DetailErrorSerializer, description="You can see the incident but are not its vendor."),
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, public_id: str) -> Response:
        incident = incident_or_404(request, public_id)
        self.check_object_permissions(request, incident)
        answer = VendorResponseRequestSerializer(data=request.data)
        answer.is_valid(raise_exception=True)
        try:
            response = workflow.respond_as_vendor(
                incident,
                kind=answer.validated_data["kind"],
                text=answer.validated_data.get("text", ""),
                severity=answer.validated_data.get("severity"),
                actor=request.user,
            )
        except workflow.WorkflowError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        body = {
            "public_id": incident.public_id,
            "status": incident.status,
            "response": VendorResponseSerializer(response).data,
            "vendor_vector": incident.vendor_severity_vector or None,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class IncidentTransitions(ApiView):
    """Staff move an incident through the workflow."""

    permission_classes = [IsStaffCaller]

    @extend_schema(
        summary="Change an incident's status (staff)",
        request=TransitionRequestSerializer,
        responses={
            200: TransitionResultSerializer,
            400: INVALID,
            403: OpenApiResponse(DetailErrorSerializer, description="You can see the incident but are not staff."),
            404: NOT_FOUND,
            409: OpenApiResponse(
                TransitionConflictSerializer,
                description="Not allowed from the current status; `allowed` lists where it can go.",
            ),
        },
        examples=[
            OpenApiExample("Publish", request_only=True, value={"action": "publish", "reason": ""}),
            OpenApiExample(
                "Refused",
                response_only=True,
                status_codes=["409"],
                value={"detail": "An incident cannot go from submitted to published.", "allowed": ["triage"]},
            ),
        ],
    )
    def post(self, request: Request, public_id: str) -> Response:
        incident = incident_or_404(request, public_id)
        self.check_object_permissions(request, incident)
        step = TransitionRequestSerializer(data=request.data)
        step.is_valid(raise_exception=True)
        reason = step.validated_data.get("reason", "")
        try:
            if step.validated_data["target"] == Status.DUPLICATE:
                canonical = Incident.objects.filter(public_id=step.validated_data["duplicate_of"]).first()
                if canonical is None:
                    raise ValidationError({"duplicate_of": ["No incident has this id."]})
                event = workflow.merge_duplicate(
                    incident,
                    canonical,
                    actor=request.user,
                    reason=reason,
                    reproduction=step.validated_data["reproduction"],
                )
            else:
                event = workflow.transition(incident, step.validated_data["target"], actor=request.user, reason=reason)
        except workflow.TransitionError as exc:
            return Response(
                {"detail": str(exc), "allowed": [str(target) for target in exc.allowed]},
                status=status.HTTP_409_CONFLICT,
            )
        except workflow.WorkflowError as exc:
            raise ValidationError({"duplicate_of": [str(exc)]}) from exc
        body = {
            "public_id": incident.public_id,
            "status": incident.status,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "reason": event.reason,
            "created": iso(event.created),
        }
        return Response(body)


# ---------------------------------------------------------------------------------------------
# Transcripts


class TranscriptParse(ApiView):
    """Dry run: detect the format of a transcript and return its normalised turns. Nothing is stored."""

    parser_classes = [JSONParser, MultiPartParser]
    throttle_classes = [*ApiView.throttle_classes, ScopedRateThrottle]
    throttle_scope = "transcript_parse"

    @extend_schema(
        summary="Parse a transcript (dry run)",
        description="Send the transcript as text in `content`, or as a file in `file` (multipart/form-data); at "
        f"most {megabytes(settings.TRANSCRIPT_MAX_BYTES)}. Every 400 has the same shape: a transcript that cannot "
        "be read says where (`line`, `turn`, `field`) and which `format` was tried; a request that is wrong "
        "names the request field at fault in `field`.",
        request={
            "application/json": TranscriptParseRequestSerializer,
            "multipart/form-data": TranscriptParseRequestSerializer,
        },
        responses={
            200: ParsedTranscriptSerializer,
            400: OpenApiResponse(
                TranscriptErrorSerializer, description="The transcript cannot be read, or the request is wrong."
            ),
            413: OpenApiResponse(
                TranscriptErrorSerializer, description="The request or its file is over the size limit."
            ),
        },
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
        data = upload if upload is not None else query.validated_data["content"].encode()
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

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        # A wrong request (a missing or unknown field, a body that is not JSON) answers in the shape
        # of a transcript error, so that every 400 of this endpoint reads the same way.
        if isinstance(exc, APIException) and response.status_code == status.HTTP_400_BAD_REQUEST:
            response.data = _request_error(exc.detail)
        return response


def _too_large(limit: int) -> dict:
    return TranscriptError(f"The transcript is larger than the {megabytes(limit)} limit.").as_dict()


def _request_error(detail: dict | list | str) -> dict:
    """DRF's error detail as a transcript error: `field` is the first field at fault, `detail` tells all."""
    problems = detail.items() if isinstance(detail, dict) else [(api_settings.NON_FIELD_ERRORS_KEY, detail)]
    errors = [
        TranscriptError(str(message), field=None if name == api_settings.NON_FIELD_ERRORS_KEY else name)
        for name, messages in problems
        for message in (messages if isinstance(messages, list) else [messages])
    ]
    body = errors[0].as_dict()
    body["detail"] = " ".join(str(error) for error in errors)
    return body


class ApiNotFound(APIView):
    """Any other path under the API: a JSON 404, not the site's HTML page."""

    authentication_classes: list = []
    permission_classes: list = []
    schema = None  # not an operation

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise NotFound("No such API path.")

    get = post = put = patch = delete = head = options = http_method_not_allowed
