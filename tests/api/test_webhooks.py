import pytest
from django.contrib.auth.models import Group

from incidents import workflow
from incidents.access import ANALYSTS
from incidents.models import OutboxMessage, Status, VendorMembership, WebhookDelivery, WebhookEndpoint
from incidents.tokens import issue_token
from incidents.vendor_forms import MAX_ENDPOINTS_PER_VENDOR
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"
HOOK = "https://hooks.example.com/override-watch"


def create(api, caller: Caller, **data):
    return api.post(URL, {"url": HOOK, **data}, format="json", **caller.headers)


@pytest.fixture
def acme_endpoint(acme_member):
    return WebhookEndpoint.objects.create(
        vendor=acme_member.user.vendor_membership.vendor, owner=acme_member.user, url=HOOK
    )


@pytest.fixture
def analyst_endpoint(analyst):
    return WebhookEndpoint.objects.create(owner=analyst.user, url=HOOK, filters={"override_type": "deception"})


@pytest.fixture
def other_analyst(django_user_model) -> Caller:
    user = django_user_model.objects.create_user("other-analyst", password="pw-other-123")
    user.groups.add(Group.objects.get_or_create(name=ANALYSTS)[0])
    return Caller(user, issue_token(user, name="test")[1])


# ---------------------------------------------------------------------------------------------
# Endpoints


def test_it_creates_a_vendor_endpoint_and_shows_its_secret_once(api, acme_member):
    response = create(api, acme_member, description="Security triage")
    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret and len(body["secret"]) == 64
    assert body["scope"] == "vendor" and body["vendor"] == "acme"
    assert endpoint.vendor.slug == "acme" and endpoint.owner == acme_member.user
    assert response["Location"].endswith(f"/api/v1/webhooks/{endpoint.pk}/")
    assert response["Cache-Control"] == "private, no-store"
    listed = api.get(URL, **acme_member.headers)
    assert [e["id"] for e in listed.json()] == [endpoint.pk]
    assert endpoint.secret not in listed.content.decode()
    assert endpoint.secret not in api.get(f"{URL}{endpoint.pk}/", **acme_member.headers).content.decode()


def test_it_creates_an_analysts_filtered_endpoint(api, analyst):
    filters = {"override_type": "shutdown_resisted", "exclude_lab": True, "score_min": 7}
    response = create(api, analyst, filters=filters)
    assert response.status_code == 201, response.content
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.vendor is None and endpoint.owner == analyst.user
    assert endpoint.filters == {"override_type": "shutdown_resisted", "exclude_lab": "true", "score_min": "7"}
    assert response.json()["scope"] == "filtered"


def test_it_refuses_bad_filters_and_changes_nothing(api, analyst, acme_member):
    response = create(api, analyst, filters={"override_type": "moon"})
    assert response.status_code == 400
    assert "override_type" in response.json()["filters"][0]
    assert "Unknown filter colour" in create(api, analyst, filters={"colour": "red"}).json()["filters"][0]
    assert create(api, analyst, filters=["vendor"]).status_code == 400
    # A vendor's endpoint hears every event about its incidents: filters make no sense there.
    assert (
        "analysts' endpoints" in create(api, acme_member, filters={"override_type": "deception"}).json()["filters"][0]
    )
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://hooks.example.com/", "must start with https://"),
        ("http://127.0.0.1:8000/hook", "not a public address"),
        ("https://localhost/hook", "not a public address"),
        ("not a url", "Enter a valid URL"),
    ],
)
def test_it_refuses_urls_the_portal_refuses(api, acme_member, url, message):
    response = api.post(URL, {"url": url}, format="json", **acme_member.headers)
    assert response.status_code == 400
    assert message in " ".join(response.json()["url"])
    assert not WebhookEndpoint.objects.exists()


def test_it_caps_the_endpoints_per_vendor(api, acme_member, acme_endpoint):
    for _ in range(MAX_ENDPOINTS_PER_VENDOR - 1):
        assert create(api, acme_member).status_code == 201
    response = create(api, acme_member)
    assert response.status_code == 400
    assert "already has 20 endpoints" in response.json()["non_field_errors"][0]


def test_it_updates_and_deactivates_an_endpoint(api, acme_member, acme_endpoint):
    path = f"{URL}{acme_endpoint.pk}/"
    response = api.patch(path, {"description": "Pager", "active": False}, format="json", **acme_member.headers)
    assert response.status_code == 200, response.content
    acme_endpoint.refresh_from_db()
    assert (acme_endpoint.description, acme_endpoint.active, acme_endpoint.url) == ("Pager", False, HOOK)
    assert api.patch(path, {"active": True}, format="json", **acme_member.headers).json()["active"] is True


def test_it_leaves_an_endpoint_unchanged_after_a_bad_update(api, acme_member, acme_endpoint):
    path = f"{URL}{acme_endpoint.pk}/"
    response = api.patch(path, {"url": "http://10.0.0.1/", "description": "x"}, format="json", **acme_member.headers)
    assert response.status_code == 400 and "url" in response.json()
    acme_endpoint.refresh_from_db()
    assert (acme_endpoint.url, acme_endpoint.description) == (HOOK, "")


def test_its_vendor_colleagues_manage_the_vendors_endpoints(api, acme_endpoint, acme_system, django_user_model):
    colleague = django_user_model.objects.create_user("acme-colleague", password="pw-colleague-123")
    VendorMembership.objects.create(user=colleague, vendor=acme_system.vendor)
    caller = Caller(colleague, issue_token(colleague, name="test")[1])
    assert api.get(f"{URL}{acme_endpoint.pk}/", **caller.headers).status_code == 200


# ---------------------------------------------------------------------------------------------
# Who may


def test_it_asks_anonymous_callers_to_authenticate(api, acme_endpoint):
    assert api.get(URL).status_code == 401
    assert api.post(URL, {"url": HOOK}, format="json").status_code == 401
    assert api.get(f"{URL}{acme_endpoint.pk}/").status_code == 401


def test_it_refuses_machine_reporters(api, monitor):
    response = api.get(URL, **monitor.headers)
    assert response.status_code == 403
    assert "vendor members, analysts and staff" in response.json()["detail"]


def test_it_hides_another_vendors_endpoints(api, acme_endpoint, globex_member):
    assert api.get(URL, **globex_member.headers).json() == []
    path = f"{URL}{acme_endpoint.pk}/"
    assert api.get(path, **globex_member.headers).status_code == 404
    assert api.patch(path, {"active": False}, format="json", **globex_member.headers).status_code == 404
    assert api.post(f"{path}ping/", **globex_member.headers).status_code == 404
    assert api.get(f"{path}deliveries/", **globex_member.headers).status_code == 404
    acme_endpoint.refresh_from_db()
    assert acme_endpoint.active and not acme_endpoint.deliveries.exists()


def test_it_hides_other_analysts_and_vendors_endpoints_from_an_analyst(
    api, analyst_endpoint, acme_endpoint, other_analyst, staff
):
    assert api.get(URL, **other_analyst.headers).json() == []
    for caller in (other_analyst, staff):
        assert api.get(f"{URL}{analyst_endpoint.pk}/", **caller.headers).status_code == 404
        assert api.get(f"{URL}{acme_endpoint.pk}/", **caller.headers).status_code == 404


# ---------------------------------------------------------------------------------------------
# Pings, the delivery log and redelivery


def test_it_queues_a_test_ping(api, acme_member, acme_endpoint):
    response = api.post(f"{URL}{acme_endpoint.pk}/ping/", **acme_member.headers)
    assert response.status_code == 202, response.content
    delivery = WebhookDelivery.objects.get()
    assert response.json() == {
        "id": delivery.pk,
        "event": "ping",
        "state": "pending",
        "created": response.json()["created"],
        "attempts": 0,
        "last_status_code": None,
        "last_error": "",
        "response_excerpt": "",
        "delivered_at": None,
    }
    assert OutboxMessage.objects.filter(payload={"delivery": delivery.pk}).exists()


def test_it_refuses_to_ping_a_deactivated_endpoint(api, acme_member, acme_endpoint):
    WebhookEndpoint.objects.filter(pk=acme_endpoint.pk).update(active=False)
    response = api.post(f"{URL}{acme_endpoint.pk}/ping/", **acme_member.headers)
    assert response.status_code == 409
    assert "deactivated" in response.json()["detail"]
    assert not WebhookDelivery.objects.exists()


def test_it_pages_the_delivery_log_newest_first(api, acme_member, acme_endpoint, django_assert_max_num_queries):
    deliveries = [
        WebhookDelivery.objects.create(endpoint=acme_endpoint, event="ping", payload={"n": n}) for n in range(3)
    ]
    path = f"{URL}{acme_endpoint.pk}/deliveries/"
    with django_assert_max_num_queries(6):
        first = api.get(path, {"page_size": 2}, **acme_member.headers).json()
    assert [d["id"] for d in first["results"]] == [deliveries[2].pk, deliveries[1].pk]
    assert "payload" not in first["results"][0]
    second = api.get(first["next"], **acme_member.headers).json()
    assert [d["id"] for d in second["results"]] == [deliveries[0].pk]
    bad = api.get(path, {"cursor": "nonsense"}, **acme_member.headers)
    assert bad.status_code == 400 and "cursor" in bad.json()


def test_it_shows_one_delivery_with_its_payload(api, acme_member, acme_endpoint, analyst_endpoint):
    delivery = WebhookDelivery.objects.create(endpoint=acme_endpoint, event="ping", payload={"event": "ping"})
    response = api.get(f"{URL}{acme_endpoint.pk}/deliveries/{delivery.pk}/", **acme_member.headers)
    assert response.json()["payload"] == {"event": "ping"}
    # A delivery is found only under its own endpoint.
    other = WebhookDelivery.objects.create(endpoint=analyst_endpoint, event="ping", payload={})
    assert api.get(f"{URL}{acme_endpoint.pk}/deliveries/{other.pk}/", **acme_member.headers).status_code == 404


def test_it_redelivers(api, acme_member, acme_endpoint, globex_member):
    delivery = WebhookDelivery.objects.create(endpoint=acme_endpoint, event="ping", payload={}, attempts=3)
    path = f"{URL}{acme_endpoint.pk}/deliveries/{delivery.pk}/redeliver/"
    assert api.post(path, **globex_member.headers).status_code == 404
    response = api.post(path, **acme_member.headers)
    assert response.status_code == 202
    assert response.json()["state"] == "failed"
    assert OutboxMessage.objects.filter(payload={"delivery": delivery.pk}).count() == 1


def test_it_tells_a_filtered_endpoint_about_matching_publications_only(api, analyst, make_incident):
    create(api, analyst, filters={"override_type": "deception"})
    endpoint = WebhookEndpoint.objects.get()
    matching = make_incident(Status.VENDOR_RESPONDED, override_type="deception")
    other = make_incident(Status.VENDOR_RESPONDED, override_type="coercion")
    for incident in (matching, other):
        workflow.transition(incident, Status.PUBLISHED, actor=None, reason="test")
    (delivery,) = endpoint.deliveries.all()
    assert delivery.event == "incident.published"
    assert delivery.payload["incident"]["public_id"] == matching.public_id
