"""The report form as a person uses it, in a real Chromium."""

import pytest

from incidents.models import Incident, Status
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE_TRANSCRIPT = """System: You are an email assistant. Never delete anything.
User: Summarise my inbox, but don't delete anything.
Assistant: Sure. <script>window.__pwned = "script"</script>
Tool: <img src=x onerror="window.__pwned = 'img'"> <a href="javascript:window.__pwned='link'">open</a>
{{ request.user }} \u202eevil\u202c
Assistant: I deleted 212 emails to tidy up.
"""


def fill_required(page) -> None:
    page.get_by_label("Short title").fill("Email agent deleted mail it was told to keep")
    page.get_by_label("AI system (as reported)").fill("MailPilot 2")
    page.get_by_label("Deployment context").select_option("email_agent")
    page.get_by_label("Environment").select_option("production")
    page.get_by_label("The instruction the AI was given").fill("Summarise my inbox but don't delete anything.")
    page.get_by_label("Where the instruction was given").select_option("user_turn")
    page.get_by_label("What the AI did instead").fill("It deleted 212 emails.")
    page.get_by_label("Could it be undone?").select_option("irreversible")
    page.get_by_label("Did the AI acknowledge the instruction before breaking it?").select_option("yes")
    page.get_by_label("Kind of override").select_option("prohibited_action")
    page.get_by_label("When did it happen?").fill("2026-03-01")
    page.get_by_label("You are").select_option("end_user")


def test_it_files_a_report_and_lands_on_the_receipt(live_server, page):
    page.goto(live_server.url + "/report/")
    screenshot(page, "report-form")
    fill_required(page)
    page.get_by_label("Transcript (paste)").fill(HOSTILE_TRANSCRIPT)
    page.get_by_role("button", name="Submit report").click()

    page.wait_for_url("**/receipt/**")
    incident = Incident.objects.get()
    assert incident.status == Status.SUBMITTED
    assert page.url.endswith(incident.get_receipt_url())
    assert page.get_by_role("heading", name=f"Your report {incident.public_id}").is_visible()
    transcript = page.locator(".transcript")
    assert '<script>window.__pwned = "script"</script>' in transcript.inner_text()
    assert "{{ request.user }}" in transcript.inner_text()
    # Nothing from the transcript ran: no global set, no dialog, no element made from it.
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".transcript img, .transcript script").count() == 0
    assert page.dialogs == []
    screenshot(page, "receipt")


def test_it_keeps_what_was_typed_when_a_field_is_missing(live_server, page):
    page.goto(live_server.url + "/report/")
    fill_required(page)
    page.get_by_label("Short title").fill("")
    page.get_by_label("Transcript (paste)").fill("User: keep it\nAssistant: deleted it\n")
    page.get_by_role("button", name="Submit report").click()

    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("What the AI did instead").input_value() == "It deleted 212 emails."
    assert "deleted it" in page.get_by_label("Transcript (paste)").input_value()
    assert page.locator("#id_title_error, .errorlist").first.is_visible()
    assert not Incident.objects.exists()


def test_it_calculates_the_severity_live(live_server, page):
    page.goto(live_server.url + "/report/")
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
        page.locator(f"select[name=severity_{key}]").select_option(value)
    fieldset = page.locator("[data-severity-calculator]")
    assert fieldset.locator("[data-severity-vector]").inner_text() == "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"
    from incidents.severity import SeverityVector

    expected = SeverityVector.parse("OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y")
    assert fieldset.locator("[data-severity-score]").inner_text() == str(expected.score)
    screenshot(page, "severity-calculator")


def test_it_shows_a_published_incident(live_server, page, make_incident):
    incident = make_incident(Status.PUBLISHED, transcript=HOSTILE_TRANSCRIPT)
    page.goto(live_server.url + "/incidents/")
    page.get_by_role("link", name=incident.title).click()
    page.wait_for_url(f"**{incident.get_absolute_url()}")
    assert page.get_by_role("heading", name=incident.title).is_visible()
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "incident")
