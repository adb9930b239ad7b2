"""Signed webhooks: what each endpoint may be told, how it is signed, and how it is sent.

A vendor's endpoint hears about its own incidents from notification on; an analyst's endpoint
hears about published incidents matching its filters. Payloads are built from an allowlist of
fields, so nothing about the reporter can ever reach them. Every (re)delivery goes through the
outbox; ``send_delivery`` raises on failure so the outbox retries with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from incidents import outbox
from incidents.filters import IncidentFilter
from incidents.models import Incident, Status, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

VENDOR_NOTIFIED = "incident.vendor_notified"
PUBLISHED = "incident.published"
STATUS_CHANGED = "incident.status_changed"
PING = "ping"

# A vendor sees its incidents from notification on (product spec: Visibility).
VENDOR_VISIBLE_STATUSES = (Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED, Status.PUBLISHED, Status.RESOLVED)
TIMEOUT = 10
EXCERPT_CHARS = 500
USER_AGENT = "OverrideWatch-Webhooks/1"


class DeliveryFailed(Exception):
    """The endpoint did not answer 2xx; the outbox retries."""


def sign(secret: str, timestamp: int, body: str) -> str:
    """HMAC-SHA256 of "<timestamp>.<body>": the timestamp is signed so a captured request cannot be replayed later."""
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def incident_payload(event: str, incident: Incident) -> dict:
    """The fields anyone allowed to hear about ``incident`` may see; never the reporter."""
    url = settings.SITE_URL + incident.get_absolute_url() if incident.is_public else f"{settings.SITE_URL}/vendor/"
    return {
        "event": event,
        "created": timezone.now().isoformat(),
        "incident": {
            "public_id": incident.public_id,
            "title": incident.title,
            "status": incident.status,
            "vendor": incident.vendor.slug if incident.vendor_id else None,
            "ai_system": incident.ai_system.name if incident.ai_system_id else None,
            "override_type": incident.override_type,
            "environment": incident.environment,
            "context": incident.context,
            "severity_score": str(incident.severity_score) if incident.severity_score is not None else None,
            "severity_band": incident.severity_band or None,
            "occurred_on": incident.occurred_on.isoformat(),
            "created": incident.created.isoformat(),
            "modified": incident.modified.isoformat(),
            "vendor_notified_at": _iso(incident.vendor_notified_at),
            "disclosure_deadline": _iso(incident.disclosure_deadline),
            "published_at": _iso(incident.published_at),
            "url": url,
        },
    }


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def endpoints_for(incident: Incident) -> list[WebhookEndpoint]:
    """The active endpoints whose owners may see ``incident`` as it is now."""
    endpoints: list[WebhookEndpoint] = []
    active = WebhookEndpoint.objects.filter(active=True).order_by("pk")
    if incident.vendor_id and incident.status in VENDOR_VISIBLE_STATUSES:
        endpoints.extend(active.filter(vendor_id=incident.vendor_id))
    if incident.is_public:
        endpoints.extend(e for e in active.filter(vendor__isnull=True) if _matches(e, incident))
    return endpoints


def _matches(endpoint: WebhookEndpoint, incident: Incident) -> bool:
    # The public list's own FilterSet, so an analyst's filters mean what they mean on /incidents/.
    filterset = IncidentFilter(endpoint.filters or {}, queryset=Incident.objects.published().filter(pk=incident.pk))
    if not filterset.is_valid():
        # An invalid filter must not widen into "everything".
        logger.warning("Webhook endpoint %s has invalid filters %s; skipped.", endpoint.pk, filterset.errors)
        return False
    return filterset.qs.exists()


def queue_event(incident: Incident, event: str) -> list[WebhookDelivery]:
    """One delivery (and outbox row) per matching endpoint; call inside the change's transaction."""
    payload = incident_payload(event, incident)
    deliveries = []
    for endpoint in endpoints_for(incident):
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload=payload)
        outbox.enqueue_webhook(delivery)
        deliveries.append(delivery)
    return deliveries


def queue_ping(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A test delivery an endpoint's owner asks for to check their receiver."""
    payload = {"event": PING, "created": timezone.now().isoformat(), "endpoint": {"url": endpoint.url}}
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=PING, payload=payload)
    outbox.enqueue_webhook(delivery)
    return delivery


def redeliver(delivery: WebhookDelivery) -> None:
    """Send the same delivery again (same id and payload, newly signed), as staff or its owner asked."""
    outbox.enqueue_webhook(delivery)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET elsewhere; a 3xx counts as a failed delivery.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def send_delivery(delivery: WebhookDelivery) -> None:
    """POST the delivery once and record the answer in its log; raises unless the answer is 2xx."""
    endpoint = delivery.endpoint
    if not endpoint.active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error="Endpoint disabled; not sent.")
        return
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    timestamp = int(time.time())
    request = urllib.request.Request(
        endpoint.url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-OverrideWatch-Event": delivery.event,
            "X-OverrideWatch-Delivery": str(delivery.pk),
            "X-OverrideWatch-Signature": f"t={timestamp},v1={sign(endpoint.secret, timestamp, body)}",
        },
    )
    status: int | None = None
    excerpt = error = ""
    try:
        _refuse_private_address(endpoint.url)
        with _opener.open(request, timeout=TIMEOUT) as response:
            status, excerpt = response.status, _excerpt(response)
    except urllib.error.HTTPError as exc:
        status, excerpt, error = exc.code, _excerpt(exc), f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections, bad URLs
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    delivered = status is not None and 200 <= status < 300
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1,
        last_status_code=status,
        response_excerpt=excerpt,
        last_error=error,
        **({"delivered_at": timezone.now()} if delivered else {}),
    )
    if not delivered:
        raise DeliveryFailed(f"{endpoint.url}: {error or f'HTTP {status}'}")


def _excerpt(response) -> str:
    return response.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")[:EXCERPT_CHARS]


def _refuse_private_address(url: str) -> None:
    """Vendors choose these URLs and see the answers: never let them reach our own network.

    The name is resolved again when connecting, so this narrows, rather than closes, the
    DNS-rebinding window; an egress proxy is the complete answer.
    """
    if getattr(settings, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", False):
        return
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Not an http(s) URL: {url}")
    for info in socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP):
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ValueError(f"{parts.hostname} resolves to a non-public address ({address}).")
