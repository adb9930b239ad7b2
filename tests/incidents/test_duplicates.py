"""Suggested duplicates, the side-by-side compare page and "merge as duplicate"."""

import pytest
from django.db import connection

from incidents import duplicates, workflow
from incidents.models import AISystem, IncidentEvent, Status, Vendor

pytestmark = pytest.mark.django_db
# The suite runs on PostgreSQL; the embedded SQLite default has only the simple fallback.
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram and full-text search")

TRANSCRIPT = "User: Summarise my inbox, but don't delete anything.\nAssistant: Done. I deleted 212 old emails.\n"


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


def ids(suggestions) -> list[str]:
    return [s.incident.public_id for s in suggestions]


def unrelated(make_incident, **overrides):
    fields = {
        "title": "Coding agent pushed to the main branch",
        "instruction": "Never push to main without review.",
        "action_taken": "It force-pushed over the release branch.",
        "system_name_reported": "CodeHelper",
        "transcript": "User: never push to main\nAssistant: pushed to main\n",
    }
    return make_incident(**{**fields, **overrides})


# Suggestions (PostgreSQL: trigram word similarity, full text, transcript hashes)


@postgresql_only
def test_it_suggests_the_same_system_with_similar_text(make_incident):
    original = make_incident(title="Email agent deleted mail after being told not to", transcript=None)
    reworded = make_incident(
        title="Mail agent deleted my emails despite being told not to",
        instruction="Summarize my inbox, but do not delete any emails please",
        transcript=None,
    )
    other = unrelated(make_incident)
    suggestions = duplicates.suggest(reworded)
    assert ids(suggestions) == [original.public_id]
    best = suggestions[0]
    assert "Same AI system as reported (“MailPilot”)" in best.reasons
    assert any(reason.startswith("Similar title") for reason in best.reasons)
    assert any(reason.startswith("Similar instruction") for reason in best.reasons)
    assert 0 < best.score <= 1
    assert other.public_id not in ids(duplicates.suggest(original))


@postgresql_only
def test_it_suggests_similar_text_from_another_system_below_the_same_system(make_incident):
    incident = make_incident(transcript=None)
    same_system = make_incident(transcript=None)
    elsewhere = make_incident(system_name_reported="InboxBot", transcript=None)
    assert ids(duplicates.suggest(incident)) == [same_system.public_id, elsewhere.public_id]


def test_it_suggests_an_identical_transcript_whatever_the_text(make_incident):
    incident = make_incident(transcript=TRANSCRIPT)
    same_evidence = unrelated(make_incident, transcript=TRANSCRIPT)
    suggestion = duplicates.suggest(incident)[0]
    assert suggestion.incident == same_evidence
    assert suggestion.reasons[0].startswith("Identical transcript (SHA-256 ")
    assert suggestion.score == 1.0


@postgresql_only
def test_it_uses_full_text_within_the_linked_system(make_incident):
    vendor = Vendor.objects.create(name="Acme", slug="acme")
    system = AISystem.objects.create(vendor=vendor, name="Mailer", slug="mailer")
    incident = make_incident(
        title="Assistant purged archived invoices", instruction="Only read the invoices.", transcript=None
    )
    sibling = make_incident(
        title="Bot wiped the archived invoices folder",
        instruction="You may look but not touch.",
        action_taken="It purged every archived invoice.",
        transcript=None,
    )
    for item in (incident, sibling):
        item.ai_system = system
        item.save()
    suggestion = next(s for s in duplicates.suggest(incident) if s.incident == sibling)
    assert "Same AI system (Acme Mailer)" in suggestion.reasons
    assert "Shares words about what the AI did" in suggestion.reasons


def test_it_leaves_out_itself_rejected_ones_and_offers_a_duplicates_canonical(make_incident):
    incident = make_incident()
    rejected = make_incident()
    workflow.transition(rejected, Status.REJECTED, actor=None, reason="Spam")
    canonical = unrelated(make_incident, transcript=TRANSCRIPT)
    duplicate = make_incident()
    workflow.merge_duplicate(duplicate, canonical, actor=None)
    suggested = ids(duplicates.suggest(incident))
    assert incident.public_id not in suggested
    assert rejected.public_id not in suggested and duplicate.public_id not in suggested
    assert canonical.public_id in suggested  # same transcript as the duplicate, which points to it


def test_it_returns_at_most_the_limit_best_first(make_incident):
    incident = make_incident(transcript=None)
    for _ in range(8):
        make_incident(transcript=None)
    suggestions = duplicates.suggest(incident, limit=3)
    assert len(suggestions) == 3
    assert [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True)


def test_it_suggests_with_a_bounded_number_of_queries(make_incident, django_assert_max_num_queries):
    incident = make_incident()
    for _ in range(20):
        make_incident()
    with django_assert_max_num_queries(8):
        assert len(duplicates.suggest(incident, limit=20)) == 20


# The portable fallback (SQLite)


def test_the_simple_fallback_matches_the_system_name_and_shared_words(make_incident):
    incident = make_incident(transcript=None)
    same = make_incident(title="Mail agent deleted everything", transcript=None)
    other_words = make_incident(title="Calendar invites", instruction="Keep quiet", transcript=None)
    other_system = make_incident(system_name_reported="InboxBot", transcript=None)
    suggestions = duplicates.suggest_simple(incident)
    assert same.public_id in ids(suggestions)
    assert other_words.public_id not in ids(suggestions)
    assert other_system.public_id not in ids(suggestions)
    assert "Same AI system as reported (“MailPilot”)" in suggestions[0].reasons


def test_the_simple_fallback_also_finds_identical_transcripts(make_incident):
    incident = make_incident(transcript=TRANSCRIPT)
    same_evidence = unrelated(make_incident, transcript=TRANSCRIPT)
    assert ids(duplicates.suggest_simple(incident)) == [same_evidence.public_id]


def test_significant_words_prefers_longer_uncommon_words():
    assert duplicates.significant_words("The agent deleted 212 emails after being told not to")[:3] == [
        "deleted",
        "emails",
        "agent",
    ]


# Pages


def test_it_shows_suggestions_on_arrival(staff, make_incident):
    incident = make_incident()
    twin = make_incident()
    html = staff.get(f"/triage/{incident.public_id}/").content.decode()
    assert f'Compare with <span class="public-id">{twin.public_id}</span>' in html
    assert f"/triage/{incident.public_id}/compare/{twin.public_id}/" in html


def test_it_looks_for_duplicates_on_demand(staff, make_incident):
    incident = make_incident(Status.PUBLISHED)  # past screening: the page links to the search instead
    twin = make_incident()
    assert staff.get(f"/triage/{incident.public_id}/").context["suggestions"] is None
    response = staff.get(f"/triage/{incident.public_id}/duplicates/")
    assert response.status_code == 200
    assert twin.public_id in ids(response.context["suggestions"])


def test_it_compares_with_an_incident_by_id(staff, make_incident):
    incident, other = make_incident(), unrelated(make_incident)
    response = staff.get(f"/triage/{incident.public_id}/duplicates/", {"other": other.public_id.lower()})
    assert response.status_code == 302
    assert response["Location"] == f"/triage/{incident.public_id}/compare/{other.public_id}/"
    response = staff.get(f"/triage/{incident.public_id}/duplicates/", {"other": "AIO-1999-00001"})
    assert response.status_code == 400
    assert "No incident has the id “AIO-1999-00001”." in response.content.decode()


def test_it_compares_side_by_side(staff, make_incident):
    incident = make_incident(title="<b>Left</b> title")
    other = unrelated(make_incident)
    response = staff.get(f"/triage/{incident.public_id}/compare/{other.public_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;b&gt;Left&lt;/b&gt; title" in html and "Coding agent pushed to the main branch" in html
    rows = {row["label"]: row for row in response.context["rows"]}
    assert not rows["Title"]["same"] and rows["Environment"]["same"]
    assert f"Merge {incident.public_id} into {other.public_id}" in html


def test_it_refuses_to_compare_an_incident_with_itself(staff, make_incident):
    incident = make_incident()
    response = staff.get(f"/triage/{incident.public_id}/compare/{incident.public_id}/")
    assert response.status_code == 400
    assert "These are the same incident" in response.content.decode()


def test_it_answers_404_when_comparing_with_an_unknown_incident(staff, make_incident):
    incident = make_incident()
    assert staff.get(f"/triage/{incident.public_id}/compare/AIO-1999-00001/").status_code == 404


# Merging


def test_it_merges_a_duplicate_into_its_canonical_incident(staff, make_incident, staff_user):
    canonical, incident = make_incident(Status.TRIAGE), make_incident()
    response = staff.post(
        f"/triage/{incident.public_id}/merge/",
        {"canonical": canonical.public_id, "reason": "Same mailbox, same day", "reproduction": "on"},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    canonical.refresh_from_db()
    assert incident.status == Status.DUPLICATE and incident.duplicate_of == canonical and incident.is_reproduction
    assert (canonical.report_count, canonical.reproduction_count) == (2, 1)
    assert incident.events.get(to_status=Status.DUPLICATE).reason == "Same mailbox, same day"
    assert canonical.events.filter(action=IncidentEvent.Action.MERGED, actor=staff_user).exists()

    page = staff.get(f"/triage/{canonical.public_id}/").content.decode()
    assert "2 reports in all, 1 independent reproduction." in page
    assert incident.public_id in page
    tombstone = staff.get(f"/triage/{incident.public_id}/").content.decode()
    assert "Supplemental report of" in tombstone and "Same mailbox, same day" in tombstone


def test_it_refuses_to_merge_into_a_rejected_incident(staff, make_incident):
    canonical, incident = make_incident(), make_incident()
    workflow.transition(canonical, Status.REJECTED, actor=None, reason="Spam")
    response = staff.post(f"/triage/{incident.public_id}/merge/", {"canonical": canonical.public_id})
    assert response.status_code == 409
    assert "is not a canonical incident" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_it_refuses_to_merge_what_cannot_become_a_duplicate(staff, make_incident):
    canonical, published = make_incident(), make_incident(Status.PUBLISHED)
    response = staff.post(f"/triage/{published.public_id}/merge/", {"canonical": canonical.public_id})
    assert response.status_code == 409
    assert "cannot go from published to duplicate" in response.content.decode()
    canonical.refresh_from_db()
    assert canonical.report_count == 1


def test_it_refuses_to_merge_into_an_unknown_incident(staff, make_incident):
    incident = make_incident()
    response = staff.post(f"/triage/{incident.public_id}/merge/", {"canonical": "AIO-1999-00001"})
    assert response.status_code == 400
    assert "No incident has the id “AIO-1999-00001”." in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED
