"""API views. Visibility is decided in get_queryset, never by object permissions alone."""

from __future__ import annotations

from rest_framework import generics

from api.serializers import IncidentDetailSerializer, IncidentListSerializer
from incidents.access import public_incidents
from incidents.filters import IncidentFilter
from incidents.pagination import PublishedIncidentPagination


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
