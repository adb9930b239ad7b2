import pytest

from incidents.models import Status, Vendor

pytestmark = pytest.mark.django_db


def test_it_lists_published_and_resolved_only(client, make_incident):
    published = make_incident(Status.PUBLISHED, title="Published one")
    resolved = make_incident(Status.RESOLVED, title="Resolved one")
    hidden = [
        make_incident(status, title=f"Hidden {status}")
        for status in (
            Status.SUBMITTED,
            Status.TRIAGE,
            Status.CONFIRMED,
            Status.VENDOR_NOTIFIED,
            Status.VENDOR_RESPONDED,
        )
    ]
    response = client.get("/incidents/")
    assert response.status_code == 200
    assert published.public_id.encode() in response.content
    assert resolved.public_id.encode() in response.content
    for incident in hidden:
        assert incident.public_id.encode() not in response.content


def test_it_filters_by_override_type_and_environment(client, make_incident):
    lab = make_incident(Status.PUBLISHED, override_type="shutdown_resisted", environment="evaluation")
    prod = make_incident(Status.PUBLISHED, override_type="prohibited_action", environment="production")
    response = client.get("/incidents/", {"override_type": "shutdown_resisted"})
    assert lab.public_id.encode() in response.content and prod.public_id.encode() not in response.content
    response = client.get("/incidents/", {"exclude_lab": "on"})
    assert lab.public_id.encode() not in response.content and prod.public_id.encode() in response.content


def test_it_filters_by_vendor(client, make_incident):
    vendor = Vendor.objects.create(name="Acme", slug="acme")
    system = vendor.systems.create(name="Agent", slug="agent")
    linked = make_incident(Status.PUBLISHED)
    linked.ai_system = system
    linked.save()
    other = make_incident(Status.PUBLISHED)
    response = client.get("/incidents/", {"vendor": "acme"})
    assert linked.public_id.encode() in response.content and other.public_id.encode() not in response.content


def test_it_searches_text(client, make_incident):
    match = make_incident(Status.PUBLISHED, title="Agent rewrote the shutdown script")
    miss = make_incident(Status.PUBLISHED, title="Agent deleted mail", instruction="keep", action_taken="deleted")
    response = client.get("/incidents/", {"q": "shutdown"})
    assert match.public_id.encode() in response.content and miss.public_id.encode() not in response.content


def test_it_answers_bad_filters_with_400(client, make_incident):
    response = client.get("/incidents/", {"override_type": "not-a-type"})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content


def test_it_pages_with_a_cursor(client, make_incident):
    incidents = [make_incident(Status.PUBLISHED, title=f"Incident {n}") for n in range(30)]
    first = client.get("/incidents/")
    assert len(first.context["incidents"]) == 25
    assert first.context["next_url"]
    second = client.get(first.context["next_url"])
    assert len(second.context["incidents"]) == 5
    shown = {i.public_id for i in first.context["incidents"]} | {i.public_id for i in second.context["incidents"]}
    assert shown == {i.public_id for i in incidents}


def test_it_answers_a_forged_cursor_with_400(client, make_incident):
    make_incident(Status.PUBLISHED)
    assert client.get("/incidents/", {"cursor": "garbage"}).status_code == 400


def test_it_uses_a_bounded_number_of_queries(client, make_incident, django_assert_max_num_queries):
    for _ in range(30):
        make_incident(Status.PUBLISHED)
    with django_assert_max_num_queries(6):
        client.get("/incidents/")
