"""Subscription digests: analysts follow a vendor, an AI system or a kind of override.

``immediate`` subscribers get one email per newly published incident; ``weekly`` subscribers get
one email a week listing what was published since their last digest. Emails go through the
outbox (recorded in the same transaction that moves ``last_sent_at``), so none is lost or sent
twice: concurrent runs lock the user's subscriptions first and re-read what was already sent.
Only what the public sees is ever listed: published and resolved incidents, no duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from incidents import outbox, rollup
from incidents.models import Incident, IncidentEvent, Status, Subscription

WEEK = timedelta(days=7)
# A weekly run within this long after the last digest sends nothing (a beat run twice, a retry).
WEEKLY_GRACE = timedelta(days=6)
MAX_LISTED = 50


def label(subscription: Subscription) -> str:
    if subscription.vendor_id:
        return f"Vendor: {subscription.vendor.name}"
    if subscription.ai_system_id:
        return f"AI system: {subscription.ai_system}"
    return f"Kind of override: {subscription.get_override_type_display()}"


def feed_params(subscription: Subscription) -> dict[str, str]:
    if subscription.vendor_id:
        return {"vendor": subscription.vendor.slug}
    if subscription.ai_system_id:
        return {"system": str(subscription.ai_system_id)}
    return {"override_type": subscription.override_type}


def feed_url(subscription: Subscription) -> str:
    return f"{reverse('incidents:feed')}?{urlencode(feed_params(subscription))}"


def followed(subscription: Subscription) -> QuerySet[Incident]:
    """The counted incidents a subscription follows."""
    incidents = rollup.counted_incidents()
    if subscription.vendor_id:
        return incidents.filter(vendor_id=subscription.vendor_id)
    if subscription.ai_system_id:
        return incidents.filter(ai_system_id=subscription.ai_system_id)
    return incidents.filter(override_type=subscription.override_type)


def _following(incident: Incident) -> Q:
    q = Q(override_type=incident.override_type)
    if incident.vendor_id:
        q |= Q(vendor_id=incident.vendor_id)
    if incident.ai_system_id:
        q |= Q(ai_system_id=incident.ai_system_id)
    return q


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def send_immediate(incident_id: int) -> int:
    """Email immediate subscribers about a newly published incident; returns the emails enqueued."""
    incident = rollup.counted_incidents().select_related("vendor", "ai_system").filter(pk=incident_id).first()
    if incident is None:
        return 0
    subscriptions = (
        Subscription.objects.filter(_following(incident), frequency=Subscription.Frequency.IMMEDIATE)
        .select_related("user", "vendor", "ai_system")
        .order_by("user_id", "id")
    )
    by_user: dict[int, list[Subscription]] = defaultdict(list)
    for subscription in subscriptions:
        if subscription.user.is_active and subscription.user.email:
            by_user[subscription.user_id].append(subscription)
    sent = 0
    for user_id, subs in by_user.items():
        dedupe = f"subscription:{user_id}:{incident.public_id}"
        with transaction.atomic():
            # The lock makes the check-then-enqueue safe against a concurrent duplicate task.
            list(Subscription.objects.select_for_update().filter(pk__in=[s.pk for s in subs]))
            if outbox.already_enqueued(dedupe):
                continue
            context = {
                "incident": incident,
                "url": _absolute(incident.get_absolute_url()),
                "subscriptions": [{"label": label(s), "feed": _absolute(feed_url(s))} for s in subs],
                "manage_url": _absolute(reverse("subscriptions:index")),
            }
            outbox.enqueue_email(
                to=[subs[0].user.email],
                subject=f"[Override Watch] Published: {incident.public_id} {incident.title}"[:200],
                body=render_to_string("subscriptions/email/immediate.txt", context),
                dedupe=dedupe,
            )
            Subscription.objects.filter(pk__in=[s.pk for s in subs]).update(last_sent_at=timezone.now())
            sent += 1
    return sent


def send_weekly(now: datetime | None = None) -> int:
    """Send every weekly digest that is due; returns the emails enqueued."""
    now = now or timezone.now()
    users = (
        Subscription.objects.filter(frequency=Subscription.Frequency.WEEKLY)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    return sum(_send_weekly_to(user_id, now) for user_id in list(users))


def _send_weekly_to(user_id: int, now: datetime) -> int:
    with transaction.atomic():
        subs = list(
            Subscription.objects.select_for_update(of=("self",))
            .filter(user_id=user_id, frequency=Subscription.Frequency.WEEKLY)
            .select_related("user", "vendor", "ai_system")
            .order_by("id")
        )
        due = [s for s in subs if s.last_sent_at is None or now - s.last_sent_at >= WEEKLY_GRACE]
        if not due:
            return 0
        user = due[0].user
        sections = []
        for subscription in due:
            since = subscription.last_sent_at or max(subscription.created, now - WEEK)
            found = followed(subscription).filter(published_at__gt=since, published_at__lte=now)
            listed = list(found.select_related("vendor", "ai_system").order_by("-published_at")[: MAX_LISTED + 1])
            if listed:
                sections.append(
                    {
                        "label": label(subscription),
                        "incidents": [(i, _absolute(i.get_absolute_url())) for i in listed[:MAX_LISTED]],
                        "more": len(listed) > MAX_LISTED,
                        "feed_url": _absolute(feed_url(subscription)),
                    }
                )
        Subscription.objects.filter(pk__in=[s.pk for s in due]).update(last_sent_at=now)
        if not sections or not user.is_active or not user.email:
            return 0
        outbox.enqueue_email(
            to=[user.email],
            subject=f"[Override Watch] Your weekly digest, {now:%d %B %Y}",
            body=render_to_string(
                "subscriptions/email/weekly.txt",
                {"sections": sections, "manage_url": _absolute(reverse("subscriptions:index")), "now": now},
            ),
        )
        return 1


def on_transition(event: IncidentEvent) -> None:
    """Hook for incidents.notifications.on_transition: tell immediate subscribers after a publication."""
    if event.to_status == Status.PUBLISHED and event.from_status != Status.PUBLISHED:
        # Outbox rows in the publication's own transaction: a broker outage cannot lose them.
        send_immediate(event.incident_id)
