"""Webhook endpoints through the API: the vendor portal's webhook pages, for programs.

Who manages which endpoints is decided in one place, ``endpoints_of``: a vendor member sees their
vendor's endpoints, anyone else (analysts, staff) only the filtered endpoints they own. Anything
outside that scope answers 404, whether it exists or not. Pings and redeliveries go through
``incidents.webhooks`` and the outbox, like the portal's buttons.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from api.pagination import INVALID_CURSOR
from api.permissions import caller_vendor
from api.schema import INVALID
from api.serializers import DetailErrorSerializer
from api.views import ApiView
from api.webhook_serializers import (
    NewWebhookEndpointSerializer,
    WebhookDeliveryDetailSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWriteSerializer,
    endpoint_url,
)
from incidents import access, webhooks
from incidents.models import WebhookDelivery, WebhookEndpoint

NOT_FOUND = OpenApiResponse(
    DetailErrorSerializer, description="No endpoint (or delivery) with this id that you manage."
)
FORBIDDEN = OpenApiResponse(DetailErrorSerializer, description="Webhooks are for vendor members, analysts and staff.")
INACTIVE = OpenApiResponse(DetailErrorSerializer, description="The endpoint is deactivated; activate it first.")
# 401 and 429 are added to every operation by api.schema.document_shared_errors.
COMMON = {403: FORBIDDEN}


class ManagesWebhooks(BasePermission):
    """Vendor members (their vendor's endpoints), analysts and staff (their own filtered endpoints)."""

    message = "Webhooks are for vendor members, analysts and staff."

    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if caller_vendor(request) is not None or access.is_staff(user):
            return True
        return user.groups.filter(name=access.ANALYSTS).exists()


def endpoints_of(request: Request) -> QuerySet[WebhookEndpoint]:
    vendor = caller_vendor(request)
    endpoints = WebhookEndpoint.objects.select_related("owner", "vendor")
    if vendor is not None:
        return endpoints.filter(vendor=vendor)
    return endpoints.filter(vendor__isnull=True, owner=request.user)


def endpoint_or_404(request: Request, pk: int) -> WebhookEndpoint:
    return get_object_or_404(endpoints_of(request), pk=pk)


def delivery_or_404(request: Request, pk: int, delivery_id: int) -> WebhookDelivery:
    endpoint = endpoint_or_404(request, pk)
    delivery = get_object_or_404(WebhookDelivery.objects.filter(endpoint=endpoint), pk=delivery_id)
    delivery.endpoint = endpoint
    return delivery


class WebhookView(ApiView):
    permission_classes = [ManagesWebhooks]

    def finalize_response(self, request: Request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Secrets and embargoed incidents' events: never kept by a cache.
        response["Cache-Control"] = "private, no-store"
        return response


def _inactive(action: str) -> Response:
    return Response(
        {"detail": f"This endpoint is deactivated; activate it (PATCH with active true) before {action}."},
        status=status.HTTP_409_CONFLICT,
    )


class WebhookList(WebhookView):
    @extend_schema(
        summary="List your webhook endpoints",
        description="A vendor member gets the vendor's endpoints; an analyst or staff member the filtered "
        "endpoints they own. Active ones first, newest first; at most 20.",
        responses={200: WebhookEndpointSerializer(many=True), **COMMON},
    )
    def get(self, request: Request) -> Response:
        endpoints = endpoints_of(request).order_by("-active", "-created", "-id")
        return Response(WebhookEndpointSerializer(endpoints, many=True).data)

    @extend_schema(
        summary="Add a webhook endpoint",
        description="For a vendor member, an endpoint of the vendor: it hears `incident.vendor_notified`, "
        "`incident.published` and `incident.status_changed` about the vendor's incidents. For an analyst, an "
        "endpoint that hears `incident.published` for incidents matching `filters`. The answer holds the "
        "signing `secret`, which is never shown again.",
        request=WebhookEndpointWriteSerializer,
        responses={201: NewWebhookEndpointSerializer, 400: INVALID, **COMMON},
        examples=[
            OpenApiExample(
                "A vendor's receiver",
                request_only=True,
                value={"url": "https://hooks.example.com/override-watch", "description": "Security triage"},
            ),
            OpenApiExample(
                "An analyst's filtered endpoint",
                request_only=True,
                value={
                    "url": "https://tools.example.org/hooks/ow",
                    "filters": {"override_type": "shutdown_resisted", "exclude_lab": "true"},
                },
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        write = WebhookEndpointWriteSerializer(data=request.data, vendor=caller_vendor(request), owner=request.user)
        write.is_valid(raise_exception=True)
        endpoint = write.save()
        headers = {"Location": request.build_absolute_uri(endpoint_url(endpoint))}
        return Response(NewWebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED, headers=headers)


class WebhookDetail(WebhookView):
    @extend_schema(
        summary="Get a webhook endpoint",
        responses={200: WebhookEndpointSerializer, 404: NOT_FOUND, **COMMON},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(WebhookEndpointSerializer(endpoint_or_404(request, pk)).data)

    @extend_schema(
        summary="Change or deactivate a webhook endpoint",
        description="Any of `url`, `description`, `filters` (analysts' endpoints) and `active`. "
        "`active: false` deactivates the endpoint (it keeps its delivery log); `active: true` turns it back on. "
        "Endpoints are never deleted.",
        request=WebhookEndpointWriteSerializer,
        responses={200: WebhookEndpointSerializer, 400: INVALID, 404: NOT_FOUND, **COMMON},
        examples=[OpenApiExample("Deactivate", request_only=True, value={"active": False})],
    )
    def patch(self, request: Request, pk: int) -> Response:
        endpoint = endpoint_or_404(request, pk)
        write = WebhookEndpointWriteSerializer(
            endpoint, data=request.data, partial=True, vendor=caller_vendor(request), owner=request.user
        )
        write.is_valid(raise_exception=True)
        return Response(WebhookEndpointSerializer(write.save()).data)


class WebhookPing(WebhookView):
    @extend_schema(
        summary="Send a test ping",
        description="Queues a signed `ping` event to the endpoint; its answer shows in the delivery log.",
        request=None,
        responses={202: WebhookDeliverySerializer, 404: NOT_FOUND, 409: INACTIVE, **COMMON},
    )
    def post(self, request: Request, pk: int) -> Response:
        endpoint = endpoint_or_404(request, pk)
        if not endpoint.active:
            return _inactive("sending a test ping")
        delivery = webhooks.queue_ping(endpoint)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryPagination(CursorPagination):
    # Served by the (endpoint, -created) index on WebhookDelivery.
    ordering = ("-created", "-id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request: Request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            # A bad cursor is bad input, named like the incident list names it; not a missing page.
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from None


class WebhookDeliveries(WebhookView, generics.ListAPIView):
    serializer_class = WebhookDeliverySerializer
    pagination_class = DeliveryPagination
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        endpoint = endpoint_or_404(self.request, self.kwargs["pk"])
        return WebhookDelivery.objects.filter(endpoint=endpoint).defer("payload")

    @extend_schema(
        summary="The endpoint's delivery log",
        description="Newest first, cursor-paginated: follow `next`. Each attempt's status code, error and the "
        "start of your receiver's answer. Failed deliveries are retried with backoff for about 14 hours.",
        responses={200: WebhookDeliverySerializer(many=True), 400: INVALID, 404: NOT_FOUND, **COMMON},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class WebhookDeliveryDetail(WebhookView):
    @extend_schema(
        summary="One delivery, with its payload",
        responses={200: WebhookDeliveryDetailSerializer, 404: NOT_FOUND, **COMMON},
    )
    def get(self, request: Request, pk: int, delivery_id: int) -> Response:
        return Response(WebhookDeliveryDetailSerializer(delivery_or_404(request, pk, delivery_id)).data)


class WebhookRedeliver(WebhookView):
    @extend_schema(
        summary="Send a delivery again",
        description="The same delivery id and payload, newly signed with a new timestamp.",
        request=None,
        responses={202: WebhookDeliverySerializer, 404: NOT_FOUND, 409: INACTIVE, **COMMON},
    )
    def post(self, request: Request, pk: int, delivery_id: int) -> Response:
        delivery = delivery_or_404(request, pk, delivery_id)
        if not delivery.endpoint.active:
            return _inactive("redelivering")
        webhooks.redeliver(delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
