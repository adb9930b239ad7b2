"""A triager works the queue in a real Chromium: sign in, claim, triage, mark, rate, link, confirm."""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import AISystem, Incident, IncidentEvent, Status, Vendor
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, path: str = "/triage/") -> None:
    page.goto(live_server.url + path)
    assert "/accounts/login/" in page.url  # staff pages send visitors to sign in first
    page.get_by_label("Username").fill("triager")
    page.get_by_label("Password").fill("pw-triager-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(live_server.url + path) + r"$"))


def console_errors(page) -> list[str]:
    """Script errors, CSP violations and failed page requests (the browser's own favicon probe aside)."""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    return errors


def test_a_triager_claims_marks_rates_links_and_confirms(live_server, page, staff_user, make_incident):
    errors = console_errors(page)
    system = AISystem.objects.create(
        vendor=Vendor.objects.create(name="Acme AI", slug="acme-ai"), name="Mailer", slug="mailer"
    )
    incident = make_incident(title="Email agent deleted mail it was told to keep", email="reporter@example.org")
    make_incident(title="Coding agent pushed to main", system_name_reported="CodeHelper", transcript=None)

    sign_in(page, live_server)
    assert page.get_by_role("heading", name="Triage queue").is_visible()
    assert page.get_by_role("link", name=incident.public_id).is_visible()
    screenshot(page, "triage-queue")

    page.get_by_role("button", name=f"Claim {incident.public_id}").click()
    page.wait_for_url(f"**/triage/{incident.public_id}/")
    assert page.get_by_text(f"You have claimed {incident.public_id}.").is_visible()
    assert page.get_by_text("reporter@example.org").is_visible()

    page.get_by_role("button", name="Start triage").click()
    page.wait_for_url(f"**/triage/{incident.public_id}/")
    assert page.get_by_role("heading", name="Status: In triage").is_visible()

    # Mark where the instruction was given and where it was broken, right on the turns.
    page.locator("#transcript-1-0").get_by_label("The instruction was given here").check()
    page.locator("#transcript-1-1").get_by_label("The override happened here").check()
    page.get_by_role("button", name="Save marks and redaction terms").click()
    page.wait_for_url(f"**/triage/{incident.public_id}/#transcript")
    expect(page.locator("#transcript-1-0 .mark-instruction")).to_be_visible()
    expect(page.locator("#transcript-1-1 .mark-violation")).to_be_visible()

    choices = {
        "instruction": "E",
        "action": "T",
        "reversibility": "I",
        "scope": "U",
        "harm": "S",
        "disclosure": "O",
        "acknowledgement": "Y",
    }
    for key, value in choices.items():
        page.locator(f'select[name="severity_{key}"]').select_option(value)
    # The live calculator (severity.js) shows the vector before anything is saved.
    assert page.locator("#severity [data-severity-vector]").inner_text() == "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"
    page.get_by_role("button", name="Save rating").click()
    page.wait_for_url(f"**/triage/{incident.public_id}/#severity")

    # The autocomplete asks /triage/systems/ and picks the system in the <select> the form sends.
    page.get_by_label("Find a system by name or vendor").fill("Acme AI · Mailer")
    expect(page.locator("#id_ai_system")).to_have_value(str(system.pk))
    page.get_by_role("button", name="Link system").click()
    page.wait_for_url(f"**/triage/{incident.public_id}/#system")

    page.get_by_role("button", name="Confirm", exact=True).click()
    page.wait_for_url(f"**/triage/{incident.public_id}/")
    assert page.get_by_role("heading", name="Status: Confirmed").is_visible()

    history = page.locator("#history").inner_text()
    for step in (
        "Assigned",
        "Status changed: Submitted → In triage",
        "Instruction turn",
        "Triager's severity",
        "Linked to AI system",
        "Acme AI Mailer",
        "Status changed: In triage → Confirmed",
    ):
        assert step in history, step
    screenshot(page, "triage-incident")

    incident.refresh_from_db()
    assert (incident.status, incident.assignee, incident.ai_system) == (Status.CONFIRMED, staff_user, system)
    assert incident.triager_severity_vector == "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"
    assert incident.events.filter(actor=staff_user).count() == 6
    assert errors == []  # nothing blocked by the Content-Security-Policy, no script errors


def test_a_triager_rejects_spam_from_the_keyboard(live_server, page, staff_user, make_incident):
    errors = console_errors(page)
    keep = make_incident(title="A real report")
    spam = make_incident(title="Buy cheap watches", transcript=None)
    sign_in(page, live_server)

    assert page.get_by_text("Keyboard:").is_visible()
    page.keyboard.press("j")
    page.keyboard.press("j")  # the second row: the newer incident, as the queue shows oldest first
    assert page.evaluate("document.activeElement.textContent") == spam.public_id
    page.keyboard.press("x")
    assert page.get_by_label(f"Select {spam.public_id}").is_checked()
    assert not page.get_by_label(f"Select {keep.public_id}").is_checked()

    page.get_by_label("With the selected").select_option("reject_spam")
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_url(f"{live_server.url}/triage/")
    assert page.get_by_text("1 incident rejected as spam.").is_visible()
    assert page.get_by_role("link", name=spam.public_id).count() == 0

    spam.refresh_from_db()
    keep.refresh_from_db()
    assert (spam.status, keep.status) == (Status.REJECTED, Status.SUBMITTED)
    assert spam.events.get(action=IncidentEvent.Action.TRANSITION).reason == "Spam"

    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    assert errors == []


def test_select_all_picks_every_row_on_the_page(live_server, page, staff_user, make_incident):
    incidents = [make_incident(title=f"Report {n}") for n in range(3)]
    sign_in(page, live_server)
    page.get_by_label("Select every incident on this page").check()
    page.get_by_label("With the selected").select_option("assign_me")
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_url(f"{live_server.url}/triage/")
    assert page.get_by_text("3 incidents assigned to you.").is_visible()
    assert Incident.objects.filter(pk__in=[i.pk for i in incidents], assignee=staff_user).count() == 3
