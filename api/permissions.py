"""Who the caller is and what they may see or do, for every API view.

Visibility is scoping (``visible_incidents``), used by get_queryset: an incident the caller may not
see does not exist for them (404). Permissions then decide what a caller who can see it may do (403).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from api.authentication import token_of
from incidents import access
from incidents.models import Incident, Vendor


def is_staff_caller(request: Request) -> bool:
    """Staff, by token or by a session that passed the second factor where one is required."""
    user = request.user
    if not access.is_staff(user):
        return False
    if token_of(request) is not None or not settings.OTP_REQUIRED_FOR_STAFF:
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def caller_vendor(request: Request) -> Vendor | None:
    return access.vendor_of(request.user)


def visible_incidents(request: Request) -> QuerySet[Incident]:
    if is_staff_caller(request):
        return Incident.objects.all()
    if access.is_staff(request.user):
        # A staff session without its second factor is treated as the public.
        return access.public_incidents()
    return access.visible_incidents(request.user)


def is_vendor_of(request: Request, incident: Incident) -> bool:
    vendor = caller_vendor(request)
    return vendor is not None and incident.vendor_id == vendor.pk


class IsStaffCaller(BasePermission):
    """Checked on the object, after the lookup, so an incident the caller cannot see stays a 404."""

    message = "Only staff can do this."

    def has_object_permission(self, request: Request, view, obj: Incident) -> bool:
        return is_staff_caller(request)


class IsIncidentVendor(BasePermission):
    message = "Only members of this incident's vendor can answer it."

    def has_object_permission(self, request: Request, view, obj: Incident) -> bool:
        return is_vendor_of(request, obj)
