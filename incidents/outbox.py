"""The transactional outbox: work that must not be lost is a row first, a Celery message second.

Callers enqueue inside the transaction that caused the work, so the row exists exactly when the
change does. After commit the row's id is handed to Celery; if the broker is down that hand-off
is skipped (never blocking the request) and the periodic ``sweep`` finds the row later.
``deliver`` claims a row with one conditional UPDATE, so duplicate task messages (a sweep racing
the original publish, a redelivered unacknowledged task) never send twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidents.models import OutboxMessage, WebhookDelivery

logger = logging.getLogger(__name__)

# Longer than the slowest send (SMTP timeout 30 s, webhook timeout 10 s): a claim outliving its
# worker only delays a retry, while one shorter than a send would let a second worker send again.
LEASE = timedelta(minutes=5)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
# About 14 hours of retries; then the row stays, with its error, for staff to see.
MAX_ATTEMPTS = 12
# Bounds the web request's wait for a broker that does not answer (a refused connection fails at once).
PUBLISH_TIMEOUT = 2.0
# After a failed publish, this process stops trying for a while: one slow broker timeout per
# window instead of one per message; the sweep delivers whatever was skipped.
PUBLISH_PAUSE = 30.0
# Sent emails hold people's addresses, so they are not kept for long; long enough, though, that a
# dedupe key outlives the moment its notification could be due again (reminders come 30 and 7 days
# before a deadline, and a deadline is past 30 days after the first).
RETENTION = timedelta(days=45)
_publish_paused_until = 0.0


def enqueue_email(*, to: list[str], subject: str, body: str, dedupe: str = "") -> OutboxMessage:
    """Record an email to send once the caller's transaction commits.

    ``dedupe`` names a notification that must go out once only (see ``already_enqueued``).
    """
    return _enqueue(OutboxMessage.Kind.EMAIL, {"to": to, "subject": subject, "body": body}, dedupe=dedupe)


def enqueue_webhook(delivery: WebhookDelivery) -> OutboxMessage:
    """Record one (re)delivery of ``delivery`` to make once the caller's transaction commits."""
    return _enqueue(OutboxMessage.Kind.WEBHOOK, {"delivery": delivery.pk})


def already_enqueued(dedupe: str) -> bool:
    return OutboxMessage.objects.filter(dedupe=dedupe).exists()


def purge(now: datetime, *, batch: int = 5_000) -> int:
    """Delete messages sent longer than RETENTION ago; returns how many. Failed ones stay for staff.

    In batches, so a large backlog never holds one long transaction.
    """
    cutoff, purged = now - RETENTION, 0
    while True:
        ids = list(OutboxMessage.objects.filter(sent_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return purged
        purged += OutboxMessage.objects.filter(pk__in=ids).delete()[0]


def _enqueue(kind: str, payload: dict, *, dedupe: str = "") -> OutboxMessage:
    message = OutboxMessage.objects.create(kind=kind, payload=payload, dedupe=dedupe)
    transaction.on_commit(partial(_publish_after_commit, message.pk))
    return message


def due(now: datetime) -> Q:
    """Messages that may be sent now: unsent, not given up on, not backing off, not claimed."""
    return Q(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, available_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_CAP)


def deliver(message_id: int) -> bool:
    """Send one message if it is due and nobody else holds it; True when this call sent it."""
    now = timezone.now()
    # The claim: exactly one caller changes the row; every other caller (a duplicate task,
    # an overlapping sweep) sees 0 rows and does nothing.
    claimed = OutboxMessage.objects.filter(due(now), pk=message_id).update(claimed_until=now + LEASE)
    if not claimed:
        return False
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        _send(message)
    except Exception as exc:  # any failure of the channel: record it and retry later
        attempts = message.attempts + 1
        OutboxMessage.objects.filter(pk=message_id).update(
            attempts=attempts,
            available_at=timezone.now() + backoff(attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            claimed_until=None,
        )
        log = logger.error if attempts >= MAX_ATTEMPTS else logger.warning
        log("Outbox message %s failed (attempt %s of %s): %s", message_id, attempts, MAX_ATTEMPTS, exc)
        return False
    OutboxMessage.objects.filter(pk=message_id).update(
        sent_at=timezone.now(), attempts=message.attempts + 1, claimed_until=None, last_error=""
    )
    return True


def sweep(*, limit: int = 500) -> int:
    """Hand every due message to the workers again; returns how many were handed over.

    Catches what a broker outage, a lost publish or a backoff left behind. If the broker is
    still unreachable, the sweep delivers in this process instead.
    """
    ids = list(
        OutboxMessage.objects.filter(due(timezone.now())).order_by("available_at").values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    try:
        _publish(ids)
    except Exception:
        logger.warning("Broker unreachable; the sweep delivers %s outbox messages itself.", len(ids), exc_info=True)
        for message_id in ids:
            deliver(message_id)
    return len(ids)


def _send(message: OutboxMessage) -> None:
    if message.kind == OutboxMessage.Kind.EMAIL:
        payload = message.payload
        EmailMessage(payload["subject"], payload["body"], to=payload["to"]).send()
    elif message.kind == OutboxMessage.Kind.WEBHOOK:
        from incidents import webhooks

        delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=message.payload["delivery"]).first()
        if delivery is None:
            logger.info("Webhook delivery %s no longer exists (endpoint deleted); nothing to send.", message.payload)
            return
        webhooks.send_delivery(delivery)
    else:
        raise ValueError(f"Unknown outbox message kind {message.kind!r}.")


def _publish_after_commit(message_id: int) -> None:
    """Never lets the broker fail or stall the request that committed the work."""
    global _publish_paused_until
    if time.monotonic() < _publish_paused_until:
        return
    try:
        _publish([message_id])
    except Exception:
        if not _eager():
            _publish_paused_until = time.monotonic() + PUBLISH_PAUSE
        logger.warning("Could not hand outbox message %s to Celery; the sweep will.", message_id, exc_info=True)


def _eager() -> bool:
    from incidents.tasks import deliver_outbox_message

    return bool(deliver_outbox_message.app.conf.task_always_eager)


def _publish(message_ids: Iterable[int]) -> None:
    from incidents.tasks import deliver_outbox_message

    if _eager():
        # The embedded default: no broker, the task runs here and now.
        for message_id in message_ids:
            deliver_outbox_message.apply_async((message_id,))
        return
    # A connection of its own, not the pool: one connect attempt with a short timeout, where
    # the pooled connection would retry for broker_connection_timeout (celery#6046).
    options = {"socket_connect_timeout": PUBLISH_TIMEOUT, "socket_timeout": PUBLISH_TIMEOUT}
    with deliver_outbox_message.app.connection_for_write(
        connect_timeout=PUBLISH_TIMEOUT, transport_options=options
    ) as connection:
        connection.ensure_connection(max_retries=0)
        for message_id in message_ids:
            deliver_outbox_message.apply_async((message_id,), connection=connection, retry=False)
