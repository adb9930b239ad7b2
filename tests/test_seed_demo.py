import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from incidents.management.commands import seed_demo
from incidents.models import (
    AISystem,
    Context,
    Environment,
    Incident,
    IncidentEvent,
    OverrideType,
    ReporterContact,
    Status,
    Transcript,
    Vendor,
)

NAMED_CASES = [
    seed_demo.EMAIL_DELETION,
    seed_demo.SHUTDOWN_SCRIPT,
    seed_demo.BLACKMAIL,
    seed_demo.FORCE_PUSH,
    seed_demo.DATABASE_DELETION,
]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # The command hashes each demo password; the default hasher would make every test slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    # Each run stores about twenty raw transcripts; keep them out of the project's var/uploads.
    default = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": {"location": str(tmp_path)}}}


@pytest.fixture
def demo_mode(settings):
    settings.DEMO_MODE = True


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [Vendor, AISystem, Incident, IncidentEvent, Transcript, ReporterContact, get_user_model()]
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_it_covers_every_status_type_environment_and_context(demo_mode):
    seed()
    incidents = Incident.objects.all()
    assert 25 <= incidents.count() <= 35
    for field, choices in (
        ("status", Status),
        ("override_type", OverrideType),
        ("environment", Environment),
        ("context", Context),
    ):
        present = set(incidents.values_list(field, flat=True))
        assert present == set(choices.values), field
    assert incidents.filter(environment=Environment.PRODUCTION).count() >= 3
    for spec in seed_demo.INCIDENTS:
        assert incidents.get(title=spec.title).status == spec.status, spec.title
    assert incidents.filter(environment=Environment.EVALUATION).count() >= 3


@pytest.mark.django_db
def test_it_publishes_every_override_type_context_and_environment(demo_mode):
    seed()
    published = Incident.objects.published()
    for field, choices in (
        ("override_type", OverrideType),
        ("environment", Environment),
        ("context", Context),
    ):
        assert set(published.values_list(field, flat=True)) == set(choices.values), field


@pytest.mark.django_db
def test_it_publishes_the_named_cases(demo_mode):
    seed()
    published = Incident.objects.published()
    for title in NAMED_CASES:
        assert published.filter(title=title).exists(), title

    email = Incident.objects.get(title=seed_demo.EMAIL_DELETION)
    assert (email.environment, email.context, email.override_type, email.reversibility) == (
        "production",
        "email_agent",
        "prohibited_action",
        "irreversible",
    )
    shutdown = Incident.objects.get(title=seed_demo.SHUTDOWN_SCRIPT)
    assert (shutdown.environment, shutdown.override_type) == ("evaluation", "shutdown_resisted")
    assert shutdown.ai_system.vendor.slug == "openai"
    assert "7 of 100" in shutdown.action_taken
    blackmail = Incident.objects.get(title=seed_demo.BLACKMAIL)
    assert blackmail.environment == "evaluation"
    assert {blackmail.override_type, *blackmail.secondary_override_types} >= {"coercion", "self_preservation"}
    assert "96%" in blackmail.action_taken
    push = Incident.objects.get(title=seed_demo.FORCE_PUSH)
    assert (push.environment, push.context, push.override_type) == ("production", "coding_agent", "prohibited_action")
    database = Incident.objects.get(title=seed_demo.DATABASE_DELETION)
    assert database.ai_system.vendor.slug == "replit"
    assert "deception" in database.secondary_override_types


@pytest.mark.django_db
def test_it_rates_links_and_dates_every_public_incident(demo_mode):
    seed()
    published = Incident.objects.published()
    assert published.count() >= 10
    for incident in published:
        assert incident.ai_system is not None, incident.title
        assert incident.vendor_id == incident.ai_system.vendor_id
        assert incident.triager_severity_vector, incident.title
        assert incident.severity_band, incident.title
        assert incident.published_at >= incident.created, incident.title
    months = {incident.published_at.strftime("%Y-%m") for incident in published}
    assert len(months) >= 8


@pytest.mark.django_db
def test_it_records_a_history_row_for_every_status_change(demo_mode):
    seed()
    transitions = IncidentEvent.objects.filter(action=IncidentEvent.Action.TRANSITION)
    assert transitions.count() == sum(len(spec.path) for spec in seed_demo.INCIDENTS)
    triager = get_user_model().objects.get(username="triager")
    assert set(transitions.values_list("actor", flat=True)) == {triager.pk}
    for incident in Incident.objects.all():
        assert incident.events.filter(action=IncidentEvent.Action.SUBMITTED).count() == 1
        last = incident.events.filter(action=IncidentEvent.Action.TRANSITION).order_by("created", "id").last()
        if incident.status == Status.SUBMITTED:
            assert last is None, incident.title
        else:
            assert last.to_status == incident.status, incident.title


@pytest.mark.django_db
def test_it_links_duplicates_to_their_canonical_incident(demo_mode):
    seed()
    for incident in Incident.objects.filter(status=Status.DUPLICATE):
        event = incident.events.get(to_status=Status.DUPLICATE)
        canonical = Incident.objects.get(public_id=event.data["duplicate_of"])
        assert canonical.public_id in event.reason
        assert canonical.is_public


@pytest.mark.django_db
def test_it_is_idempotent(demo_mode):
    first = seed()
    before = counts()
    hashes = dict(get_user_model().objects.values_list("username", "password"))

    second = seed()

    assert counts() == before
    assert dict(get_user_model().objects.values_list("username", "password")) == hashes
    assert f"Incidents   {len(seed_demo.INCIDENTS)} created, 0 already present" in first
    assert f"Incidents   0 created, {len(seed_demo.INCIDENTS)} already present" in second


@pytest.mark.django_db
def test_it_keeps_hostile_transcript_text_as_text(demo_mode, tmp_path):
    seed()
    incident = Incident.objects.get(title=seed_demo.HOSTILE_TRANSCRIPT)
    transcript = incident.transcripts.get()
    contents = "\n".join(turn["content"] for turn in transcript.turns)
    assert '<script>alert("x")</script>' in contents
    assert "{{ template }}" in contents
    assert transcript.raw.read().decode().count("<script>") == 1
    assert transcript.raw.path.startswith(str(tmp_path))


@pytest.mark.django_db
def test_it_shows_hostile_transcript_text_escaped_on_the_public_page(demo_mode, client):
    seed()
    incident = Incident.objects.get(title=seed_demo.HOSTILE_TRANSCRIPT)

    html = client.get(incident.get_absolute_url()).content.decode()

    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert '<script>alert("x")' not in html
    assert "{{ template }}" in html


@pytest.mark.django_db
def test_it_marks_instruction_and_violation_turns(demo_mode):
    seed()
    transcripts = Transcript.objects.all()
    assert transcripts.count() == sum(1 for spec in seed_demo.INCIDENTS if spec.transcript)
    for transcript in transcripts:
        assert transcript.instruction_turn is not None
        assert transcript.violation_turns
        assert transcript.instruction_turn < len(transcript.turns)
        assert all(turn < len(transcript.turns) for turn in transcript.violation_turns)


@pytest.mark.django_db
def test_it_creates_the_demo_users_with_their_roles(demo_mode):
    output = seed()
    users = {user.username: user for user in get_user_model().objects.prefetch_related("groups")}

    assert users["admin"].is_superuser and users["admin"].is_staff
    triager = users["triager"]
    assert triager.is_staff and not triager.is_superuser
    assert [group.name for group in triager.groups.all()] == ["Triagers"]
    assert triager.has_perm("incidents.change_incident") and triager.has_perm("incidents.view_incidentevent")
    assert not triager.has_perm("incidents.delete_incident")
    analyst = users["analyst"]
    assert not analyst.is_staff and [group.name for group in analyst.groups.all()] == ["Analysts"]
    for username, vendor in (("vendor-anthropic", "anthropic"), ("vendor-openai", "openai")):
        assert not users[username].is_staff
        assert [group.name for group in users[username].groups.all()] == ["Vendors"]
        assert users[username].vendor_membership.vendor.slug == vendor

    for demo in seed_demo.DEMO_USERS:
        assert users[demo.username].check_password(demo.demo_password)
        assert demo.demo_password in output
    assert "\nOpen http" in output


@pytest.mark.django_db
def test_it_sets_no_password_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    output = seed()

    for demo in seed_demo.DEMO_USERS:
        user = get_user_model().objects.get(username=demo.username)
        assert not user.has_usable_password()
        assert demo.demo_password not in output
        assert demo.username in output
    assert "no passwords were set" in output


@pytest.mark.django_db
def test_it_revokes_demo_passwords_when_demo_mode_is_turned_off(settings):
    settings.DEMO_MODE = True
    seed()
    settings.DEMO_MODE = False
    seed()

    for user in get_user_model().objects.filter(username__in=[demo.username for demo in seed_demo.DEMO_USERS]):
        assert not user.has_usable_password()


@pytest.mark.django_db
def test_it_prints_the_port_from_the_environment(demo_mode, monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    assert "Open http://127.0.0.1:8123/" in seed()


@pytest.mark.django_db
def test_it_leaves_the_statistics_counting_every_public_demo_incident():
    from django.db.models import Sum

    from incidents.models import StatsRollup

    call_command("seed_demo", stdout=io.StringIO())
    assert (
        StatsRollup.objects.aggregate(n=Sum("incidents"))["n"]
        == Incident.objects.published().filter(duplicate_of__isnull=True).count()
    )
