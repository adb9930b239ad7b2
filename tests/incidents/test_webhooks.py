import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from incidents import outbox, webhooks, workflow
from incidents.models import (
    OutboxMessage,
    ReporterContact,
    Status,
    Vendor,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.conftest import default_system

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent and answers as told."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[tuple[int, bytes, dict]] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                time.sleep(receiver.delay)
                status, text, headers = receiver.answers.pop(0) if receiver.answers else (200, b"ok", {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def vendor_user(django_user_model):
    return django_user_model.objects.create_user("vendor-admin", email="security@mailpilot.example")


def endpoint_for(receiver: Receiver, owner, *, vendor: Vendor | None = None, **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=receiver.url, owner=owner, vendor=vendor, **fields)


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does, written independently of the code under test."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return abs(time.time() - int(parts["t"])) <= tolerance and hmac.compare_digest(expected, parts["v1"])


def notify_vendor(make_incident, django_capture_on_commit_callbacks, **fields):
    incident = make_incident(Status.CONFIRMED, email="reporter@example.org", ai_system=default_system(), **fields)
    ReporterContact.objects.filter(incident=incident).update(name="Rita Reporter")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.transition(incident, Status.VENDOR_NOTIFIED, actor=None)
    return incident


def test_it_sends_the_vendor_a_signed_notification_and_logs_it(
    make_incident, receiver, vendor_user, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, vendor_user, vendor=default_system().vendor)
    incident = notify_vendor(make_incident, django_capture_on_commit_callbacks)

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    delivery = WebhookDelivery.objects.get()
    assert verify(endpoint.secret, headers["X-Overridewatch-Signature"], body)
    assert not verify("another-secret", headers["X-Overridewatch-Signature"], body)
    assert headers["X-Overridewatch-Event"] == "incident.vendor_notified"
    assert headers["X-Overridewatch-Delivery"] == str(delivery.pk)
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["event"] == "incident.vendor_notified"
    assert payload["incident"]["public_id"] == incident.public_id
    assert payload["incident"]["status"] == "vendor_notified"
    assert payload["incident"]["vendor"] == "mailpilot-inc"
    assert payload["incident"]["disclosure_deadline"]
    # The reporter is never named to a vendor.
    assert b"reporter@example.org" not in body and b"Rita" not in body
    assert incident.receipt_token.encode() not in body

    assert (delivery.last_status_code, delivery.response_excerpt, delivery.attempts) == (200, "ok", 1)
    assert delivery.delivered_at is not None and delivery.last_error == ""


def test_it_retries_with_backoff_after_a_server_error(
    make_incident, receiver, vendor_user, django_capture_on_commit_callbacks
):
    endpoint_for(receiver, vendor_user, vendor=default_system().vendor)
    receiver.answers.append((500, b"boom " * 200, {}))
    notify_vendor(make_incident, django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.last_status_code, delivery.attempts, delivery.delivered_at) == (500, 1, None)
    assert delivery.response_excerpt.startswith("boom") and len(delivery.response_excerpt) == 500
    message = OutboxMessage.objects.get(kind=OutboxMessage.Kind.WEBHOOK)
    assert message.sent_at is None and message.attempts == 1 and "HTTP 500" in message.last_error
    assert message.available_at > timezone.now() + timedelta(seconds=25)
    outbox.sweep()  # sends the emails the fixture left behind, but not the webhook: it is backing off
    assert len(receiver.requests) == 1

    # Thirty seconds later the sweep sends it again: same delivery id, same payload.
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox.sweep() == 1
    first, second = receiver.requests
    assert first["headers"]["X-Overridewatch-Delivery"] == second["headers"]["X-Overridewatch-Delivery"]
    assert json.loads(first["body"]) == json.loads(second["body"])
    delivery.refresh_from_db()
    assert (delivery.last_status_code, delivery.attempts, delivery.last_error) == (200, 2, "")
    assert delivery.delivered_at is not None


def test_it_redelivers_on_request(make_incident, receiver, vendor_user, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver, vendor_user, vendor=default_system().vendor)
    notify_vendor(make_incident, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        webhooks.redeliver(delivery)

    assert len(receiver.requests) == 2
    again = receiver.requests[1]
    assert again["headers"]["X-Overridewatch-Delivery"] == str(delivery.pk)
    assert verify(endpoint.secret, again["headers"]["X-Overridewatch-Signature"], again["body"])
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert OutboxMessage.objects.filter(kind=OutboxMessage.Kind.WEBHOOK, sent_at__isnull=False).count() == 2


def test_a_vendor_hears_only_about_its_own_incidents(
    make_incident, receiver, vendor_user, django_user_model, django_capture_on_commit_callbacks
):
    other = Vendor.objects.create(name="Other AI", slug="other-ai")
    endpoint_for(receiver, django_user_model.objects.create_user("other"), vendor=other)
    notify_vendor(make_incident, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_vendor_hears_nothing_before_it_is_notified(make_incident, receiver, vendor_user):
    endpoint_for(receiver, vendor_user, vendor=default_system().vendor)
    make_incident(Status.CONFIRMED, ai_system=default_system())
    assert not WebhookDelivery.objects.exists()


def test_analysts_hear_only_of_published_incidents_matching_their_filters(
    make_incident, receiver, django_user_model, django_capture_on_commit_callbacks
):
    analyst = django_user_model.objects.create_user("analyst")
    wanted = endpoint_for(receiver, analyst, filters={"override_type": "prohibited_action", "exclude_lab": True})
    endpoint_for(receiver, analyst, filters={"override_type": "coercion"})
    endpoint_for(receiver, analyst, filters={"severity_band": "not-a-band"})
    endpoint_for(receiver, analyst, active=False)

    incident = make_incident(Status.VENDOR_RESPONDED)
    assert not WebhookDelivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.transition(incident, Status.PUBLISHED, actor=None)

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.endpoint == wanted and delivery.event == "incident.published"
    [request] = receiver.requests
    payload = json.loads(request["body"])
    assert payload["incident"]["url"].endswith(f"/incidents/{incident.public_id}/")
    assert verify(wanted.secret, request["headers"]["X-Overridewatch-Signature"], request["body"])


def test_a_ping_checks_the_receiver(receiver, vendor_user, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver, vendor_user, vendor=default_system().vendor)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.queue_ping(endpoint)
    [request] = receiver.requests
    assert request["headers"]["X-Overridewatch-Event"] == "ping"
    assert json.loads(request["body"])["endpoint"] == {"url": receiver.url}
    delivery.refresh_from_db()
    assert delivery.last_status_code == 200


def test_a_redirect_is_a_failed_delivery(receiver, vendor_user, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver, vendor_user, vendor=default_system().vendor)
    receiver.answers.append((302, b"", {"Location": "http://127.0.0.1:1/elsewhere"}))
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.queue_ping(endpoint)
    delivery.refresh_from_db()
    assert delivery.last_status_code == 302 and delivery.delivered_at is None
    assert len(receiver.requests) == 1


def test_a_slow_receiver_times_out_and_is_retried(receiver, vendor_user, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.3)
    receiver.delay = 1.0
    delivery = webhooks.queue_ping(endpoint_for(receiver, vendor_user, vendor=default_system().vendor))
    message = OutboxMessage.objects.get()
    assert outbox.deliver(message.pk) is False
    delivery.refresh_from_db()
    assert delivery.last_status_code is None and "timed out" in delivery.last_error
    message.refresh_from_db()
    assert message.attempts == 1 and message.sent_at is None


def test_it_refuses_to_post_to_private_addresses(receiver, settings, vendor_user, django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    endpoint = endpoint_for(receiver, vendor_user, vendor=default_system().vendor)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.queue_ping(endpoint)
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert "non-public address (127.0.0.1)" in delivery.last_error
    assert OutboxMessage.objects.get().sent_at is None


def test_a_deactivated_endpoint_is_not_sent_to(receiver, vendor_user, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver, vendor_user, vendor=default_system().vendor)
    delivery = webhooks.queue_ping(endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    assert outbox.sweep() == 1
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.delivered_at is None and "disabled" in delivery.last_error


def test_the_signature_covers_the_timestamp_and_the_body():
    assert webhooks.sign("secret", 1700000000, '{"a":1}') == (
        hmac.new(b"secret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    )
    assert webhooks.sign("secret", 1700000001, '{"a":1}') != webhooks.sign("secret", 1700000000, '{"a":1}')
