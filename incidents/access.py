"""Who may see what. Web views and API querysets both start from these functions.

- The public sees published and resolved incidents only.
- A vendor member sees, besides those, its own vendor's incidents from notification on.
- Staff see everything. Nobody but staff ever sees a reporter's identity (``ReporterContact``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from incidents.models import PUBLIC_STATUSES, Incident, Status, Vendor

# From notification on, the vendor sees its incident, embargoed or not.
VENDOR_STATUSES = (Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED, *PUBLIC_STATUSES)

ANALYSTS = "Analysts"
TRIAGERS = "Triagers"


def is_staff(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def vendor_of(user: AbstractBaseUser | AnonymousUser | None) -> Vendor | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    membership = getattr(user, "vendor_membership", None)
    return membership.vendor if membership is not None else None


def public_incidents() -> QuerySet[Incident]:
    """What anyone may see: published and resolved incidents only."""
    return Incident.objects.published()


def visible_incidents(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Incident]:
    if is_staff(user):
        return Incident.objects.all()
    vendor = vendor_of(user)
    if vendor is not None:
        return Incident.objects.filter(Q(status__in=PUBLIC_STATUSES) | Q(vendor=vendor, status__in=VENDOR_STATUSES))
    return public_incidents()


def vendor_incidents(vendor: Vendor) -> QuerySet[Incident]:
    """The vendor portal's list: the vendor's own incidents from notification on."""
    return Incident.objects.filter(vendor=vendor, status__in=VENDOR_STATUSES)


def public_incident_or_404(public_id: str) -> Incident:
    try:
        return public_incidents().select_related("ai_system__vendor", "vendor").get(public_id=public_id)
    except Incident.DoesNotExist:
        # The same answer whether it does not exist or is not published yet: no existence leak.
        raise Http404("No published incident has this id.") from None


def incident_for_receipt_or_404(token: str) -> Incident:
    # Tokens are 43 URL-safe characters; anything else cannot match and need not reach the database.
    if len(token) > 64:
        raise Http404
    try:
        return Incident.objects.select_related("ai_system__vendor").get(receipt_token=token)
    except Incident.DoesNotExist:
        raise Http404("This receipt link is not valid.") from None


def staff_required(view: Callable) -> Callable:
    """Staff pages: signed in, staff, and (when required) verified with a second factor."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not is_staff(user) or (settings.OTP_REQUIRED_FOR_STAFF and not user.is_verified()):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def vendor_member_required(view: Callable) -> Callable:
    """Vendor portal pages: signed in as a member of a vendor; the view gets the vendor."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        vendor = vendor_of(request.user)
        if vendor is None:
            return redirect_to_login(request.get_full_path())
        return view(request, vendor, *args, **kwargs)

    return wrapped
