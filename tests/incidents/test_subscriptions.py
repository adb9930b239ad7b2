"""Following a vendor, system or kind of override: the page, the digests and the filtered feed."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import digests
from incidents.models import OutboxMessage, Status, Subscription, Vendor
from tests.conftest import default_system

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def analyst(django_user_model):
    return django_user_model.objects.create_user("analyst", email="analyst@example.org", password="pw-analyst-123")


def test_it_asks_anonymous_visitors_to_sign_in(client):
    response = client.get("/subscriptions/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_follows_and_unfollows_a_vendor(client, analyst):
    system = default_system()
    client.force_login(analyst)
    response = client.post("/subscriptions/", {"follow": f"vendor:{system.vendor.slug}", "frequency": "immediate"})
    assert response.status_code == 302
    subscription = analyst.subscriptions.get()
    assert subscription.vendor == system.vendor and subscription.frequency == "immediate"
    page = client.get("/subscriptions/")
    assert f"/feeds/incidents.atom?vendor={system.vendor.slug}".encode() in page.content
    again = client.post("/subscriptions/", {"follow": f"vendor:{system.vendor.slug}", "frequency": "weekly"})
    assert again.status_code == 400 and "already follow" in again.context["form"].errors["follow"][0]
    client.post(f"/subscriptions/{subscription.pk}/frequency/", {"frequency": "weekly"})
    assert Subscription.objects.get().frequency == "weekly"
    client.post(f"/subscriptions/{subscription.pk}/delete/")
    assert not Subscription.objects.exists()


def test_it_rejects_a_bad_choice_next_to_the_field(client, analyst):
    client.force_login(analyst)
    response = client.post("/subscriptions/", {"follow": "vendor:nobody", "frequency": "hourly"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"follow", "frequency"}
    assert not Subscription.objects.exists()


def test_it_never_lets_one_user_touch_anothers_subscription(client, analyst, django_user_model):
    other = django_user_model.objects.create_user("other", password="pw-other-12345")
    theirs = Subscription.objects.create(user=other, override_type="coercion")
    client.force_login(analyst)
    assert client.post(f"/subscriptions/{theirs.pk}/delete/").status_code == 404
    assert client.post(f"/subscriptions/{theirs.pk}/frequency/", {"frequency": "immediate"}).status_code == 404
    assert client.get("/subscriptions/").context["subscriptions"] == []
    assert Subscription.objects.filter(pk=theirs.pk, frequency="weekly").exists()


def test_it_emails_immediate_subscribers_once_per_published_incident(analyst, make_incident):
    Subscription.objects.create(user=analyst, override_type="coercion", frequency="immediate")
    Subscription.objects.create(user=analyst, vendor=default_system().vendor, frequency="immediate")
    incident = make_incident(Status.PUBLISHED, override_type="coercion")
    embargoed = make_incident(Status.VENDOR_NOTIFIED, override_type="coercion")
    # Publication queued the email in its own transaction; another run sends nothing more.
    assert digests.send_immediate(incident.pk) == 0
    assert digests.send_immediate(embargoed.pk) == 0
    message = OutboxMessage.objects.get(dedupe__startswith="subscription:")
    assert message.payload["to"] == ["analyst@example.org"]
    assert incident.public_id in message.payload["body"]
    assert "/feeds/incidents.atom?override_type=coercion" in message.payload["body"]


def test_it_sends_a_weekly_digest_of_what_was_published_since_the_last(analyst, make_incident):
    vendor = default_system().vendor
    subscription = Subscription.objects.create(user=analyst, vendor=vendor, frequency="weekly")
    Subscription.objects.filter(pk=subscription.pk).update(created=timezone.now() - timedelta(days=8))
    published = make_incident(Status.PUBLISHED)
    hidden = make_incident(Status.VENDOR_RESPONDED)
    assert published.vendor == vendor
    assert digests.send_weekly() == 1
    body = OutboxMessage.objects.get().payload["body"]
    assert published.public_id in body and hidden.public_id not in body
    assert digests.send_weekly() == 0  # not due again for a week
    assert digests.send_weekly(timezone.now() + timedelta(days=7)) == 0  # due, but nothing new


def test_it_filters_the_feed_the_same_way(client, make_incident):
    mine = make_incident(Status.PUBLISHED, override_type="coercion")
    make_incident(Status.PUBLISHED, override_type="deception")
    make_incident(Status.VENDOR_NOTIFIED, override_type="coercion")
    feed = ET.fromstring(client.get("/feeds/incidents.atom", {"override_type": "coercion"}).content)
    ids = [e.find(f"{ATOM}title").text.split(":")[0] for e in feed.findall(f"{ATOM}entry")]
    assert ids == [mine.public_id]
    vendor = Vendor.objects.get()
    by_vendor = ET.fromstring(client.get("/feeds/incidents.atom", {"vendor": vendor.slug}).content)
    assert len(by_vendor.findall(f"{ATOM}entry")) == 2
    bad = client.get("/feeds/incidents.atom", {"vendor": "nobody"})
    assert bad.status_code == 400 and b"vendor" in bad.content
