"""The vendor portal's webhook pages: endpoints, their secrets, test pings and the delivery log."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from incidents import webhooks
from incidents.models import OutboxMessage, Vendor, VendorMembership, WebhookDelivery, WebhookEndpoint
from incidents.vendor_forms import MAX_ENDPOINTS_PER_VENDOR
from incidents.views.vendor import DeliveryPagination

pytestmark = pytest.mark.django_db


def make_member(django_user_model, vendor: Vendor, username: str):
    user = django_user_model.objects.create_user(username, password=f"pw-{username}-123")
    VendorMembership.objects.create(user=user, vendor=vendor)
    return user


@pytest.fixture
def acme():
    return Vendor.objects.create(name="Acme", slug="acme")


@pytest.fixture
def globex():
    return Vendor.objects.create(name="Globex", slug="globex")


@pytest.fixture
def acme_member(django_user_model, acme):
    return make_member(django_user_model, acme, "acme-member")


@pytest.fixture
def acme_client(client, acme_member):
    client.force_login(acme_member)
    return client


@pytest.fixture
def globex_client(client, django_user_model, globex):
    client.force_login(make_member(django_user_model, globex, "globex-member"))
    return client


@pytest.fixture
def endpoint(acme, acme_member):
    return WebhookEndpoint.objects.create(vendor=acme, owner=acme_member, url="https://hooks.acme.example/ow")


def delivery_for(endpoint: WebhookEndpoint, **fields) -> WebhookDelivery:
    defaults = {"event": "incident.vendor_notified", "payload": {"event": "incident.vendor_notified"}}
    return WebhookDelivery.objects.create(endpoint=endpoint, **{**defaults, **fields})


def url(endpoint: WebhookEndpoint, action: str = "") -> str:
    return f"/vendor/webhooks/{endpoint.pk}/{action + '/' if action else ''}"


# Who may come in


@pytest.mark.parametrize("path", ["/vendor/webhooks/", "/vendor/webhooks/new/", "/vendor/webhooks/1/"])
def test_it_sends_anonymous_visitors_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/vendor/webhooks/")


def test_it_sends_anonymous_actions_to_sign_in_and_does_nothing(client, endpoint):
    delivery = delivery_for(endpoint)
    for path in (
        url(endpoint, "ping"),
        url(endpoint, "deactivate"),
        f"{url(endpoint)}deliveries/{delivery.pk}/redeliver/",
    ):
        assert client.post(path).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active
    assert WebhookDelivery.objects.count() == 1
    assert not OutboxMessage.objects.exists()


def test_it_hides_another_vendors_endpoints_and_deliveries(globex_client, endpoint):
    delivery = delivery_for(endpoint)
    listing = globex_client.get("/vendor/webhooks/").content
    assert b"hooks.acme.example" not in listing
    delivery_url = f"{url(endpoint)}deliveries/{delivery.pk}/"
    assert globex_client.get(url(endpoint)).status_code == 404
    assert globex_client.get(delivery_url).status_code == 404
    for path in (
        url(endpoint),
        url(endpoint, "reveal"),
        url(endpoint, "ping"),
        url(endpoint, "deactivate"),
        url(endpoint, "activate"),
        delivery_url + "redeliver/",
    ):
        response = globex_client.post(path, {"url": "https://evil.example/", "description": "mine now"})
        assert response.status_code == 404, path
        assert endpoint.secret.encode() not in response.content
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description, endpoint.active) == ("https://hooks.acme.example/ow", "", True)
    assert WebhookDelivery.objects.count() == 1
    assert not OutboxMessage.objects.exists()


def test_it_answers_404_for_a_delivery_under_the_wrong_endpoint(acme_client, acme, acme_member, endpoint):
    other = WebhookEndpoint.objects.create(vendor=acme, owner=acme_member, url="https://two.acme.example/")
    delivery = delivery_for(other)
    assert acme_client.get(f"{url(endpoint)}deliveries/{delivery.pk}/").status_code == 404


def test_it_never_lists_an_analysts_endpoint_owned_by_a_member(acme_client, acme_member):
    WebhookEndpoint.objects.create(vendor=None, owner=acme_member, url="https://analyst.example/")
    assert b"analyst.example" not in acme_client.get("/vendor/webhooks/").content


# Creating and editing


def test_it_creates_an_endpoint_and_shows_its_secret_once(acme_client, acme, acme_member):
    response = acme_client.post(
        "/vendor/webhooks/new/", {"url": "https://hooks.acme.example/ow", "description": "Triage bot"}
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(endpoint)
    assert (endpoint.vendor, endpoint.owner, endpoint.active) == (acme, acme_member, True)
    assert len(endpoint.secret) == 64

    first = acme_client.get(url(endpoint))
    assert endpoint.secret.encode() in first.content
    assert b"Copy this secret now" in first.content
    assert "no-store" in first["Cache-Control"]
    second = acme_client.get(url(endpoint))
    assert endpoint.secret.encode() not in second.content
    assert b"Reveal signing secret" in second.content

    listing = acme_client.get("/vendor/webhooks/")
    assert b"https://hooks.acme.example/ow" in listing.content
    assert endpoint.secret.encode() not in listing.content


def test_it_reveals_the_secret_on_request(acme_client, endpoint):
    assert acme_client.get(url(endpoint, "reveal")).status_code == 405
    response = acme_client.post(url(endpoint, "reveal"))
    assert response.status_code == 200
    assert endpoint.secret.encode() in response.content
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ftp://files.example.com/hook", b"The URL must start with https://"),
        ("javascript:alert(1)", b"Enter a valid URL."),
        ("http://localhost:8000/hook", b"localhost is not a public address"),
        ("http://10.0.0.7/hook", b"10.0.0.7 is not a public address"),
        ("http://[::1]/hook", b"::1 is not a public address"),
        ("", b"This field is required."),
        ("https://" + "a" * 500 + ".example/", b"at most 500 characters"),
    ],
)
def test_it_refuses_a_bad_url_next_to_the_field(acme_client, value, message):
    response = acme_client.post("/vendor/webhooks/new/", {"url": value})
    assert response.status_code == 400
    assert message in response.content
    assert b'id="id_url_error"' in response.content
    assert not WebhookEndpoint.objects.exists()


def test_it_accepts_a_local_url_when_private_networks_are_allowed(acme_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    response = acme_client.post("/vendor/webhooks/new/", {"url": "http://127.0.0.1:9000/hook"})
    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:9000/hook"


def test_it_caps_the_endpoints_of_a_vendor(acme_client, acme, acme_member):
    WebhookEndpoint.objects.bulk_create(
        WebhookEndpoint(vendor=acme, owner=acme_member, url=f"https://h{i}.example/")
        for i in range(MAX_ENDPOINTS_PER_VENDOR)
    )
    response = acme_client.post("/vendor/webhooks/new/", {"url": "https://one-more.example/"})
    assert response.status_code == 400
    assert b"already has 20 endpoints" in response.content
    assert WebhookEndpoint.objects.count() == MAX_ENDPOINTS_PER_VENDOR


def test_it_edits_an_endpoint(acme_client, endpoint):
    response = acme_client.post(url(endpoint), {"url": "https://new.acme.example/hook", "description": "New"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description) == ("https://new.acme.example/hook", "New")


def test_it_keeps_the_endpoint_when_an_edit_is_refused(acme_client, endpoint):
    response = acme_client.post(url(endpoint), {"url": "ftp://nope.example/", "description": "x"})
    assert response.status_code == 400
    content = response.content.decode()
    assert "The URL must start with https://" in content
    assert "<dd><code>https://hooks.acme.example/ow</code></dd>" in content
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.acme.example/ow"


def test_it_deactivates_and_activates_an_endpoint(acme_client, endpoint):
    assert acme_client.post(url(endpoint, "deactivate")).status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert b"Deactivated" in acme_client.get(url(endpoint)).content
    acme_client.post(url(endpoint, "activate"))
    endpoint.refresh_from_db()
    assert endpoint.active


# Pings, the log and redelivery


def test_it_queues_a_test_ping(acme_client, endpoint):
    response = acme_client.post(url(endpoint, "ping"))
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.event) == (endpoint, webhooks.PING)
    assert OutboxMessage.objects.get().payload == {"delivery": delivery.pk}
    assert b"A test ping is on its way" in acme_client.get(url(endpoint)).content


def test_it_refuses_to_ping_a_deactivated_endpoint(acme_client, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    acme_client.post(url(endpoint, "ping"))
    assert not WebhookDelivery.objects.exists()
    assert b"activate it before sending a test ping" in acme_client.get(url(endpoint)).content


def test_it_shows_the_delivery_log(acme_client, endpoint):
    delivery_for(endpoint, attempts=3, last_status_code=500, last_error="HTTP 500", response_excerpt="<h1>boom</h1>")
    content = acme_client.get(url(endpoint)).content.decode()
    log = content.split('id="log-heading"')[1]
    assert "incident.vendor_notified" in log
    assert "HTTP 500" in log
    assert ">3<" in log


def test_it_shows_one_delivery_with_its_payload_and_answer(acme_client, endpoint):
    delivery = delivery_for(
        endpoint, payload={"event": "ping", "note": "<script>x</script>"}, response_excerpt="<h1>boom</h1>"
    )
    response = acme_client.get(f"{url(endpoint)}deliveries/{delivery.pk}/")
    assert response.status_code == 200
    assert b"&lt;script&gt;x&lt;/script&gt;" in response.content
    assert b"&lt;h1&gt;boom&lt;/h1&gt;" in response.content


def test_it_pages_the_delivery_log(acme_client, endpoint, monkeypatch):
    monkeypatch.setattr(DeliveryPagination, "page_size", 2)
    for _ in range(3):
        delivery_for(endpoint)
    first = acme_client.get(url(endpoint))
    assert len(first.context["deliveries"]) == 2
    second = acme_client.get(first.context["next_url"])
    assert len(second.context["deliveries"]) == 1
    assert acme_client.get(url(endpoint), {"cursor": "forged"}).status_code == 400


def test_it_shows_the_log_in_a_bounded_number_of_queries(acme_client, endpoint, django_assert_max_num_queries):
    for _ in range(20):
        delivery_for(endpoint, attempts=1, last_status_code=200)
    with django_assert_max_num_queries(8):
        acme_client.get(url(endpoint))
    with django_assert_max_num_queries(8):
        acme_client.get("/vendor/webhooks/")


def test_it_redelivers(acme_client, endpoint):
    delivery = delivery_for(endpoint)
    response = acme_client.post(f"{url(endpoint)}deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 302
    assert OutboxMessage.objects.get().payload == {"delivery": delivery.pk}
    assert WebhookDelivery.objects.count() == 1


def test_it_refuses_to_redeliver_to_a_deactivated_endpoint(acme_client, endpoint):
    delivery = delivery_for(endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    acme_client.post(f"{url(endpoint)}deliveries/{delivery.pk}/redeliver/")
    assert not OutboxMessage.objects.exists()


class Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body.decode()))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_it_sends_a_signed_ping_end_to_end(acme_client, receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    acme_client.post("/vendor/webhooks/new/", {"url": receiver})
    endpoint = WebhookEndpoint.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        acme_client.post(url(endpoint, "ping"))

    (headers, body), *_ = Receiver.received
    timestamp, signature = (part.split("=", 1)[1] for part in headers["x-overridewatch-signature"].split(","))
    assert signature == webhooks.sign(endpoint.secret, int(timestamp), body)
    assert json.loads(body)["event"] == "ping"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status_code) == (1, 204)
    assert delivery.delivered_at is not None
    assert b"HTTP 204" in acme_client.get(url(endpoint)).content
