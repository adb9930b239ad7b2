"""Who may see what on the web pages. Every public view starts from these querysets."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from incidents.models import Incident


def public_incidents() -> QuerySet[Incident]:
    """What anyone may see: published and resolved incidents only."""
    return Incident.objects.published()


def public_incident_or_404(public_id: str) -> Incident:
    try:
        return public_incidents().select_related("ai_system__vendor").get(public_id=public_id)
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
