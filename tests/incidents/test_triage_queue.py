"""The staff queue at /triage/: filters, search, sorts, keyset pages, counts and bulk actions."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from incidents import workflow
from incidents.models import AISystem, Incident, IncidentEvent, Status, Vendor, VendorMembership
from incidents.views import triage

pytestmark = pytest.mark.django_db

HIGH = "OVR:1.0/IN:E/AC:M/RV:I/SC:T/HM:C/DC:C/AK:Y"
LOW = "OVR:1.0/IN:I/AC:O/RV:R/SC:S/HM:L/DC:D/AK:N"


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def colleague(django_user_model):
    return django_user_model.objects.create_user("colleague", password="pw-colleague-123", is_staff=True)


def shown(response) -> set[str]:
    return {incident.public_id for incident in response.context["incidents"]}


# Who may see it


def test_it_sends_anonymous_visitors_to_sign_in(client, make_incident):
    make_incident(title="A secret report")
    response = client.get("/triage/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/triage/")


def test_it_keeps_out_vendor_members_and_analysts(client, make_incident, django_user_model):
    make_incident(Status.VENDOR_NOTIFIED, title="Embargoed for the vendor")
    vendor = Vendor.objects.get()
    member = django_user_model.objects.create_user("vendor-person", password="x")
    VendorMembership.objects.create(user=member, vendor=vendor)
    analyst = django_user_model.objects.create_user("analyst", password="x")
    for user in (member, analyst):
        client.force_login(user)
        for url in ("/triage/", "/triage/systems/?q=mail"):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        response = client.post("/triage/bulk/", {"incidents": [], "action": "assign_me"})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# What it lists


def test_it_lists_open_incidents_by_default(staff, make_incident):
    open_ones = [make_incident(status) for status in (Status.SUBMITTED, Status.TRIAGE, Status.VENDOR_NOTIFIED)]
    closed = [make_incident(Status.PUBLISHED), make_incident(Status.RESOLVED)]
    rejected = make_incident()
    workflow.transition(rejected, Status.REJECTED, actor=None, reason="Spam")
    response = staff.get("/triage/")
    assert response.status_code == 200
    assert shown(response) == {i.public_id for i in open_ones}
    assert not {i.public_id for i in [*closed, rejected]} & shown(response)


def test_it_filters_by_status_or_shows_all(staff, make_incident):
    submitted, published = make_incident(), make_incident(Status.PUBLISHED)
    assert shown(staff.get("/triage/", {"status": "published"})) == {published.public_id}
    assert shown(staff.get("/triage/", {"status": "all"})) == {submitted.public_id, published.public_id}


def test_it_shows_mine_and_unassigned(staff, make_incident, staff_user, colleague):
    mine, theirs, nobodys = make_incident(), make_incident(), make_incident()
    workflow.assign(mine, staff_user, actor=staff_user)
    workflow.assign(theirs, colleague, actor=staff_user)
    assert shown(staff.get("/triage/", {"view": "mine"})) == {mine.public_id}
    assert shown(staff.get("/triage/", {"view": "unassigned"})) == {nobodys.public_id}
    assert shown(staff.get("/triage/", {"assignee": colleague.pk})) == {theirs.public_id}


def test_it_filters_by_type_severity_environment_and_vendor(staff, make_incident):
    lab = make_incident(override_type="shutdown_resisted", environment="evaluation", triager_severity_vector=HIGH)
    prod = make_incident(override_type="prohibited_action", environment="production", triager_severity_vector=LOW)
    unrated = make_incident()
    linked = make_incident(Status.VENDOR_NOTIFIED)  # linked to MailPilot Inc. on the way
    assert shown(staff.get("/triage/", {"override_type": "shutdown_resisted"})) == {lab.public_id}
    assert shown(staff.get("/triage/", {"environment": "production"})) == {
        prod.public_id,
        unrated.public_id,
        linked.public_id,
    }
    assert shown(staff.get("/triage/", {"severity_band": lab.severity_band})) == {lab.public_id}
    assert shown(staff.get("/triage/", {"severity_band": "unrated"})) == {unrated.public_id, linked.public_id}
    assert shown(staff.get("/triage/", {"vendor": "mailpilot-inc"})) == {linked.public_id}


def test_it_filters_by_age(staff, make_incident):
    now = timezone.now()
    fresh = make_incident(created=now - timedelta(hours=2))
    this_week = make_incident(created=now - timedelta(days=3))
    old = make_incident(created=now - timedelta(days=45))
    assert shown(staff.get("/triage/", {"age": "day"})) == {fresh.public_id}
    assert shown(staff.get("/triage/", {"age": "week"})) == {this_week.public_id}
    assert shown(staff.get("/triage/", {"age": "older"})) == {old.public_id}


def test_it_filters_on_having_a_transcript(staff, make_incident):
    with_transcript, without = make_incident(), make_incident(transcript=None)
    assert shown(staff.get("/triage/", {"has_transcript": "true"})) == {with_transcript.public_id}
    assert shown(staff.get("/triage/", {"has_transcript": "false"})) == {without.public_id}
    assert len(shown(staff.get("/triage/", {"has_transcript": "unknown"}))) == 2


def test_it_shows_overdue_incidents(staff, make_incident):
    overdue, on_time = make_incident(Status.VENDOR_NOTIFIED), make_incident(Status.VENDOR_NOTIFIED)
    Incident.objects.filter(pk=overdue.pk).update(disclosure_deadline=timezone.now() - timedelta(days=2))
    response = staff.get("/triage/", {"overdue": "on"})
    assert shown(response) == {overdue.public_id}
    assert b"Overdue by 2" in response.content
    assert on_time.public_id not in shown(response)


def test_it_searches_text_and_public_ids(staff, make_incident):
    shutdown = make_incident(title="Agent rewrote the shutdown script", instruction="Allow shutdown.")
    mail = make_incident(title="Agent deleted mail", instruction="Keep everything", action_taken="Deleted")
    assert shown(staff.get("/triage/", {"q": "shutdown"})) == {shutdown.public_id}
    assert shown(staff.get("/triage/", {"q": mail.public_id.lower()})) == {mail.public_id}


def test_it_answers_bad_filters_with_400(staff, make_incident):
    make_incident()
    response = staff.get("/triage/", {"status": "nonsense", "age": "forever"})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content


# Sorting and pages


def test_it_sorts_by_age_severity_and_activity(staff, make_incident):
    now = timezone.now()
    old = make_incident(created=now - timedelta(days=9), triager_severity_vector=LOW)
    severe = make_incident(created=now - timedelta(days=5), triager_severity_vector=HIGH)
    new = make_incident(created=now - timedelta(days=1))
    order = lambda response: [i.public_id for i in response.context["incidents"]]  # noqa: E731
    assert order(staff.get("/triage/")) == [old.public_id, severe.public_id, new.public_id]
    assert order(staff.get("/triage/", {"sort": "-age"})) == [new.public_id, severe.public_id, old.public_id]
    assert order(staff.get("/triage/", {"sort": "severity"})) == [severe.public_id, old.public_id, new.public_id]
    workflow.comment(old, kind="internal", text="Looked at it", actor=None)
    assert order(staff.get("/triage/", {"sort": "activity"}))[0] == old.public_id


@pytest.mark.parametrize("sort", ["age", "-age", "severity", "activity"])
def test_it_pages_with_a_keyset_cursor_both_ways(staff, make_incident, monkeypatch, sort):
    monkeypatch.setattr(triage, "PAGE_SIZE", 4)
    now = timezone.now()
    incidents = [
        # Ties in severity (and rows without one) must still give every row exactly one place.
        make_incident(created=now - timedelta(hours=n), triager_severity_vector=[HIGH, LOW, ""][n % 3])
        for n in range(10)
    ]
    seen, pages, url = [], [], "/triage/"
    params = {"sort": sort}
    while url:
        response = staff.get(url, params)
        assert response.status_code == 200
        page = [i.public_id for i in response.context["incidents"]]
        pages.append((page, response.context["previous_url"]))
        seen += page
        url, params = (
            (f"/triage/{response.context['next_url']}", None) if response.context["next_url"] else (None, None)
        )
    assert [len(page) for page, _ in pages] == [4, 4, 2]
    assert sorted(seen) == sorted(i.public_id for i in incidents)
    assert pages[0][1] is None
    # Walking back gives the same pages again.
    back = staff.get(f"/triage/{pages[2][1]}")
    assert [i.public_id for i in back.context["incidents"]] == pages[1][0]
    first = staff.get(f"/triage/{back.context['previous_url']}")
    assert [i.public_id for i in first.context["incidents"]] == pages[0][0]
    assert first.context["previous_url"] is None


def test_it_walks_the_most_severe_first_order_with_unrated_incidents_last(staff, make_incident, monkeypatch):
    monkeypatch.setattr(triage, "PAGE_SIZE", 2)
    now = timezone.now()
    for n in range(7):
        # Equal scores and several unrated incidents, so pages break inside runs of equal ranks.
        make_incident(created=now - timedelta(hours=n), triager_severity_vector=[HIGH, "", LOW, ""][n % 4])
    rows = Incident.objects.all()
    ranked = sorted(rows, key=lambda i: (-(i.severity_score if i.severity_score is not None else -1), i.created, i.pk))
    seen, url, params = [], "/triage/", {"sort": "severity"}
    while url:
        response = staff.get(url, params)
        seen += [i.public_id for i in response.context["incidents"]]
        next_url = response.context["next_url"]
        url, params = (f"/triage/{next_url}" if next_url else None), None
    assert seen == [i.public_id for i in ranked]
    assert [i.severity_score for i in ranked][-3:] == [None, None, None]


def test_it_answers_a_forged_or_foreign_cursor_with_400(staff, make_incident, monkeypatch):
    monkeypatch.setattr(triage, "PAGE_SIZE", 1)
    make_incident(), make_incident()
    assert staff.get("/triage/", {"cursor": "garbage"}).status_code == 400
    next_url = staff.get("/triage/", {"sort": "severity"}).context["next_url"]
    cursor = next_url.split("cursor=")[1]
    response = staff.get(f"/triage/?sort=age&cursor={cursor}")
    assert response.status_code == 400
    assert b"another sort order" in response.content


def test_it_uses_a_bounded_number_of_queries(staff, make_incident, staff_user, django_assert_max_num_queries):
    for n in range(30):
        incident = make_incident(Status.VENDOR_NOTIFIED if n % 2 else Status.SUBMITTED)
        workflow.assign(incident, staff_user, actor=staff_user)
    with django_assert_max_num_queries(10):
        response = staff.get("/triage/", {"sort": "severity"})
    assert len(response.context["incidents"]) == 30


# Counts per status


def test_it_counts_incidents_per_status(staff, make_incident):
    make_incident(), make_incident(), make_incident(Status.PUBLISHED)
    counts = {row["status"]: row["display"] for row in staff.get("/triage/").context["counts"]}
    assert counts["submitted"] == "2"
    assert counts["published"] == "1"
    assert counts["triage"] == "0"


def test_it_caps_the_counts(staff, make_incident, monkeypatch):
    monkeypatch.setattr(triage, "STATUS_COUNT_CAP", 2)
    for _ in range(3):
        make_incident()
    response = staff.get("/triage/")
    counts = {row["status"]: row["display"] for row in response.context["counts"]}
    assert counts["submitted"] == "2+"


# Rows


def test_it_shows_each_row_with_its_facts_as_text(staff, make_incident, staff_user):
    incident = make_incident(title='<script>alert("x")</script> deleted mail', system_name_reported="<b>Bot</b>")
    linked = make_incident(Status.VENDOR_NOTIFIED)
    workflow.assign(linked, staff_user, actor=staff_user)
    response = staff.get("/triage/")
    html = response.content.decode()
    assert escape('<script>alert("x")</script> deleted mail') in html
    assert "<script>alert" not in html
    assert "&lt;b&gt;Bot&lt;/b&gt;" in html
    assert f"Claim {incident.public_id}" in html  # unassigned: a claim button
    assert "MailPilot Inc. MailPilot" in html  # linked: the canonical system next to the typed one
    assert "in 2\xa0months" in html  # the deadline counting down


# Bulk actions


def test_it_assigns_the_selected_to_me(staff, make_incident, staff_user):
    first, second, untouched = make_incident(), make_incident(), make_incident()
    response = staff.post(
        "/triage/bulk/",
        {"incidents": [first.public_id, second.public_id], "action": "assign_me", "query": "view=unassigned"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/triage/?view=unassigned"
    assert set(Incident.objects.filter(assignee=staff_user)) == {first, second}
    untouched.refresh_from_db()
    assert untouched.assignee is None
    assert IncidentEvent.objects.filter(action=IncidentEvent.Action.ASSIGNED).count() == 2


def test_it_assigns_the_selected_to_a_colleague(staff, make_incident, colleague):
    incident = make_incident()
    response = staff.post(
        "/triage/bulk/", {"incidents": [incident.public_id], "action": "assign", "assignee": colleague.pk}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.assignee == colleague


def test_it_needs_an_assignee_to_assign(staff, make_incident):
    incident = make_incident()
    response = staff.post("/triage/bulk/", {"incidents": [incident.public_id], "action": "assign"})
    assert response.status_code == 400
    assert b"Choose whom to assign them to." in response.content
    incident.refresh_from_db()
    assert incident.assignee is None


def test_it_rejects_the_selected_as_spam(staff, make_incident):
    spam = [make_incident(), make_incident(Status.TRIAGE)]
    response = staff.post("/triage/bulk/", {"incidents": [i.public_id for i in spam], "action": "reject_spam"})
    assert response.status_code == 302
    for incident in spam:
        incident.refresh_from_db()
        assert incident.status == Status.REJECTED
        assert incident.events.filter(to_status=Status.REJECTED, reason="Spam").exists()


def test_it_changes_nothing_when_one_of_the_selected_cannot_be_rejected(staff, make_incident):
    fine, published = make_incident(), make_incident(Status.PUBLISHED)
    response = staff.post(
        "/triage/bulk/", {"incidents": [fine.public_id, published.public_id], "action": "reject_spam"}
    )
    assert response.status_code == 409
    assert "Nothing was changed" in response.content.decode()
    assert f"{published.public_id}: An incident cannot go from published to rejected." in response.content.decode()
    fine.refresh_from_db()
    assert fine.status == Status.SUBMITTED
    assert not IncidentEvent.objects.filter(to_status=Status.REJECTED).exists()


def test_it_refuses_an_empty_or_unknown_selection(staff, make_incident):
    make_incident()
    assert b"Select at least one incident." in staff.post("/triage/bulk/", {"action": "assign_me"}).content
    response = staff.post("/triage/bulk/", {"incidents": ["AIO-1999-99999"], "action": "assign_me"})
    assert response.status_code == 400
    assert b"AIO-1999-99999 is not an incident." in response.content


def test_it_keeps_the_redirect_on_the_queue(staff, make_incident):
    incident = make_incident()
    response = staff.post(
        "/triage/bulk/",
        {"incidents": [incident.public_id], "action": "assign_me", "query": "x=1\r\nLocation: https://evil.example"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/triage/?")
    assert "\n" not in response["Location"]


# Autocomplete


def test_it_suggests_systems_as_json(staff):
    vendor = Vendor.objects.create(name="Anthropic", slug="anthropic")
    AISystem.objects.create(vendor=vendor, name="Claude Code", slug="claude-code")
    AISystem.objects.create(vendor=Vendor.objects.create(name="OpenAI", slug="openai"), name="Codex", slug="codex")
    response = staff.get("/triage/systems/", {"q": "claude"})
    assert response.status_code == 200
    assert [r["label"] for r in response.json()["results"]] == ["Anthropic · Claude Code"]
    assert len(staff.get("/triage/systems/", {"q": "anthrop"}).json()["results"]) == 1
    assert len(staff.get("/triage/systems/", {"q": "Anthropic · Claude Code"}).json()["results"]) == 1
    assert len(staff.get("/triage/systems/", {"q": "openai claude"}).json()["results"]) == 0
    assert len(staff.get("/triage/systems/").json()["results"]) == 2


def test_it_answers_a_too_long_autocomplete_query_with_400(staff):
    response = staff.get("/triage/systems/", {"q": "x" * 101})
    assert response.status_code == 400
    assert "q" in response.json()["errors"]
