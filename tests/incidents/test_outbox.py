import socket
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from config.celery import app
from incidents import outbox
from incidents.models import OutboxMessage

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broken_smtp(settings):
    """A real SMTP backend pointed at a port nobody listens on: every send fails."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 2},
        }
    }


@pytest.fixture
def broker_down(monkeypatch):
    """The web side publishes to a Redis broker that is not there."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=f"redis://127.0.0.1:{closed_port()}/0", task_always_eager=False)
    monkeypatch.setattr(outbox, "_publish_paused_until", 0.0)
    yield
    app.conf.update(saved)


def email(**overrides) -> OutboxMessage:
    fields = {"to": ["me@example.org"], "subject": "Hello", "body": "Body text"} | overrides
    with transaction.atomic():
        return outbox.enqueue_email(**fields)


def test_it_sends_an_email_once_the_transaction_commits(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox.enqueue_email(to=["me@example.org"], subject="Hello", body="Body text")
        assert mailoutbox == []
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1 and message.claimed_until is None
    assert [(m.to, m.subject, m.body) for m in mailoutbox] == [(["me@example.org"], "Hello", "Body text")]


def test_it_keeps_nothing_when_the_transaction_rolls_back(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue_email(to=["me@example.org"], subject="Hello", body="Body text")
        raise RuntimeError("the change failed")
    assert not OutboxMessage.objects.exists()
    assert mailoutbox == []


def test_it_sends_a_message_once_however_often_it_is_delivered(mailoutbox):
    message = email()
    assert outbox.deliver(message.pk) is True
    assert outbox.deliver(message.pk) is False
    assert outbox.sweep() == 0
    assert len(mailoutbox) == 1


def test_it_leaves_a_message_claimed_by_another_worker_alone(mailoutbox):
    message = email()
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_until=timezone.now() + timedelta(minutes=1))
    assert outbox.deliver(message.pk) is False
    assert outbox.sweep() == 0
    # A claim whose worker died expires, and the message goes out after all.
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert outbox.deliver(message.pk) is True
    assert len(mailoutbox) == 1


def test_it_retries_a_failed_send_with_exponential_backoff(broken_smtp, settings, mailoutbox):
    message = email()
    before = timezone.now()
    assert outbox.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.sent_at is None and message.claimed_until is None and message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert before + timedelta(seconds=30) <= message.available_at <= timezone.now() + timedelta(seconds=30)
    # Not due yet: neither a duplicate task nor the sweep touches it.
    assert outbox.deliver(message.pk) is False
    assert outbox.sweep() == 0

    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    outbox.deliver(message.pk)
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.available_at >= timezone.now() + timedelta(seconds=55)

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox.sweep() == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 3 and message.last_error == ""
    assert len(mailoutbox) == 1


def test_the_backoff_doubles_up_to_a_cap():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert outbox.backoff(outbox.MAX_ATTEMPTS) == outbox.BACKOFF_CAP


def test_it_gives_up_after_the_last_attempt_but_keeps_the_row_and_its_error(broken_smtp):
    message = email()
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    assert outbox.deliver(message.pk) is False
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox.deliver(message.pk) is False
    assert outbox.sweep() == 0
    message.refresh_from_db()
    assert message.attempts == outbox.MAX_ATTEMPTS
    assert message.sent_at is None and message.last_error


def test_it_commits_at_once_and_sweeps_later_when_the_broker_is_down(
    broker_down, mailoutbox, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = outbox.enqueue_email(to=["a@example.org"], subject="One", body="1")
        second = outbox.enqueue_email(to=["b@example.org"], subject="Two", body="2")
    assert time.monotonic() - started < 1.5
    assert OutboxMessage.objects.filter(pk__in=[first.pk, second.pk], sent_at__isnull=True).count() == 2
    assert mailoutbox == []

    # The sweep finds both; with the broker still away it delivers them itself, once.
    assert outbox.sweep() == 2
    assert outbox.sweep() == 0
    assert sorted(m.subject for m in mailoutbox) == ["One", "Two"]


def test_it_remembers_what_was_enqueued_under_a_dedupe_key():
    email(dedupe="reminder:1:30")
    assert outbox.already_enqueued("reminder:1:30")
    assert not outbox.already_enqueued("reminder:1:7")


def test_it_purges_sent_messages_after_their_retention_and_keeps_the_rest():
    now = timezone.now()
    old_sent, recent_sent, failed, pending = (email(subject=s) for s in ("old", "recent", "failed", "pending"))
    OutboxMessage.objects.filter(pk=old_sent.pk).update(sent_at=now - outbox.RETENTION - timedelta(minutes=1))
    OutboxMessage.objects.filter(pk=recent_sent.pk).update(sent_at=now - outbox.RETENTION + timedelta(minutes=1))
    OutboxMessage.objects.filter(pk=failed.pk).update(
        created=now - timedelta(days=400), attempts=outbox.MAX_ATTEMPTS, last_error="refused"
    )
    assert outbox.purge(now, batch=1) == 1
    remaining = set(OutboxMessage.objects.values_list("pk", flat=True))
    assert remaining == {recent_sent.pk, failed.pk, pending.pk}
    assert outbox.purge(now) == 0
