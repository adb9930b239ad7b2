"""The life of one incident, walked through the real pages by the people who live it.

A reporter files it, a triager screens it and asks a question, the reporter answers from their
receipt page, the vendor is told and answers, staff publish it, a visitor reads it, and staff
resolve it. Each person has a browser of their own (a separate context: no shared session), and
every step is checked by what that person sees. The side paths (a rejection with its reason, a
reopening with its reason) have a shorter walk of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from incidents.models import AISystem, Comment, Incident, IncidentEvent, Status, Vendor, VendorMembership
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORTER_EMAIL = "reporter.walk@example.org"
# The reporter's own address sits inside the evidence: the public must only ever see it as [EMAIL_1].
TRANSCRIPT = f"""System: You are a calendar assistant. Never cancel or delete an event without asking first.
User: Tidy up my calendar for next week, but do not cancel anything. Questions go to {REPORTER_EMAIL}.
Assistant: Done. I cancelled 14 meetings that looked optional and emailed {REPORTER_EMAIL} a summary.
"""
SEVERITY = {
    "instruction": "E",
    "action": "T",
    "reversibility": "C",
    "scope": "O",
    "harm": "L",
    "disclosure": "D",
    "acknowledgement": "N",
}
VECTOR = "OVR:1.0/IN:E/AC:T/RV:C/SC:O/HM:L/DC:D/AK:N"
QUESTION = "Were any of the cancelled meetings restored, and did the attendees get cancellation emails?"
ANSWER = "Two were restored by hand. All 14 sent cancellation emails to every attendee."
STATEMENT = "We reproduced this. CalPilot 3.2 now asks before cancelling any event the user did not create."
VENDOR_PASSWORD = "pw-acme-security-123"
STAFF_PASSWORD = "pw-triager-123"  # the staff_user fixture's


# People and their browsers ------------------------------------------------------------------------


def watch(page: Page) -> list[str]:
    """Script errors, CSP violations and failed page loads on ``page`` (the favicon probe aside)."""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"{page.url}: {message.text}")

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return errors


@pytest.fixture
def person(browser: Browser) -> Iterator[Callable[[], Page]]:
    """A new person at a new browser: their own cookies, their own session. ``page.errors`` collects problems."""
    contexts = []

    def open_browser() -> Page:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.errors = watch(page)
        return page

    yield open_browser
    for context in contexts:
        context.close()


@pytest.fixture(autouse=True)
def no_second_factor(settings) -> None:
    # Staff confirm sign-in with an authenticator code in production; the walk signs in with a password.
    settings.OTP_REQUIRED_FOR_STAFF = False


def sign_in(page: Page, live_server, username: str, password: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def status_of(page: Page) -> str:
    return page.locator("#status-heading").inner_text()


def click_and_wait(page: Page, name: str, url: str) -> None:
    """Press a button that posts and redirects, and wait for the page it lands on."""
    with page.expect_navigation(url=re.compile(re.escape(url) + "$")):
        page.get_by_role("button", name=name, exact=True).click()


def receipt_path(message: mail.EmailMessage) -> str:
    """The receipt link in an email, as the reporter would follow it (the host is the site's, not the test's)."""
    found = re.search(r"/receipt/[\w-]+/", message.body)
    assert found, message.body
    return found.group(0)


def timeline(page: Page) -> list[str]:
    """The public timeline's entries without their dates ("23 Nov 2026 Published" -> "Published")."""
    items = page.locator("ol.timeline > li").all_inner_texts()
    return [re.sub(r"^\d{1,2} \w{3} \d{4}\s+", "", item).strip() for item in items]


def history(incident: Incident) -> list[tuple[str, str, str, str]]:
    return list(
        incident.events.order_by("created", "id").values_list("action", "from_status", "to_status", "actor_label")
    )


# The whole life --------------------------------------------------------------------------------


@pytest.fixture
def acme(django_user_model) -> AISystem:
    """The vendor the reporter's AI belongs to, with a member who speaks for it."""
    vendor = Vendor.objects.create(name="Acme AI", slug="acme-ai", disclosure_days=90)
    member = django_user_model.objects.create_user(
        "acme-security", password=VENDOR_PASSWORD, email="security@acme.example", first_name="Acme", last_name="PSIRT"
    )
    VendorMembership.objects.create(user=member, vendor=vendor)
    return AISystem.objects.create(vendor=vendor, name="CalPilot", slug="calpilot")


@pytest.fixture
def other_vendor_member(django_user_model):
    member = django_user_model.objects.create_user(
        "globex-security", password=VENDOR_PASSWORD, email="sec@globex.example"
    )
    VendorMembership.objects.create(user=member, vendor=Vendor.objects.create(name="Globex", slug="globex"))
    return member


def test_it_walks_an_incident_from_report_to_resolution(
    live_server, person, staff_user, acme, other_vendor_member, mailoutbox
):
    staff_user.first_name, staff_user.last_name = "Tess", "Triager"
    staff_user.save()

    # 1. The reporter files the report on /report/, previews the transcript and marks its turns.
    reporter = person()
    reporter.goto(live_server.url + "/report/")
    reporter.get_by_label("Short title").fill("Calendar agent cancelled meetings it was told to keep")
    reporter.get_by_label("AI system (as reported)").fill("CalPilot calendar agent")
    reporter.get_by_label("Version (as reported)").fill("3.1")
    reporter.get_by_label("Deployment context").select_option("email_agent")
    reporter.get_by_label("Environment").select_option("production")
    reporter.get_by_label("The instruction the AI was given").fill("Tidy up my calendar, but do not cancel anything.")
    reporter.get_by_label("Where the instruction was given").select_option("user_turn")
    reporter.get_by_label("What the AI did instead").fill("It cancelled 14 meetings and told me it was done.")
    reporter.get_by_label("Could it be undone?").select_option("costly")
    reporter.get_by_label("Did the AI acknowledge the instruction before breaking it?").select_option("no")
    reporter.get_by_label("Kind of override").select_option("prohibited_action")
    reporter.get_by_label("When did it happen?").fill("2026-03-02")
    reporter.get_by_label("You are").select_option("end_user")
    reporter.get_by_label("Your email (optional)").fill(REPORTER_EMAIL)
    reporter.get_by_label("Transcript (paste)").fill(TRANSCRIPT)
    reporter.get_by_role("button", name="Preview transcript").click()
    preview = reporter.locator(".transcript")
    expect(preview).to_contain_text("[EMAIL_1]")
    expect(preview).not_to_contain_text(REPORTER_EMAIL)
    reporter.locator("#preview-turn-1").get_by_label("The instruction was given here").check()
    reporter.locator("#preview-turn-2").get_by_label("The override happened here").check()
    reporter.get_by_role("button", name="Submit report").click()

    reporter.wait_for_url("**/receipt/**")
    incident = Incident.objects.get()
    public_id = incident.public_id
    triage_url = f"{live_server.url}/triage/{public_id}/"
    expect(reporter.get_by_role("heading", name=f"Your report {public_id}")).to_be_visible()
    expect(reporter.get_by_text("Thank you: your report is filed.")).to_be_visible()
    expect(reporter.locator(".facts .status")).to_have_text("Submitted")
    expect(reporter.locator(".transcript")).to_contain_text("[EMAIL_1]")
    assert reporter.url == live_server.url + incident.get_receipt_url()
    transcript = incident.transcripts.get()
    assert (transcript.instruction_turn, transcript.violation_turns) == (1, [2])
    screenshot(reporter, "walkthrough-receipt")

    # Nobody else can see it yet: not the public, not a vendor.
    visitor = person()
    assert visitor.request.get(f"{live_server.url}/incidents/{public_id}/").status == 404
    assert visitor.request.get(triage_url, max_redirects=0).status == 302  # to the sign-in page

    # 2. A triager signs in, finds it in the queue by searching, and claims it there.
    triager = person()
    sign_in(triager, live_server, "triager", STAFF_PASSWORD)
    triager.get_by_role("link", name="Triage", exact=True).click()
    triager.wait_for_url(live_server.url + "/triage/")
    triager.get_by_label("Search:", exact=True).fill("calendar cancelled")
    triager.get_by_role("button", name="Apply", exact=True).click()
    row = triager.get_by_role("row").filter(has_text=public_id)
    expect(row).to_contain_text("Calendar agent cancelled meetings it was told to keep")
    expect(row).to_contain_text("Submitted")
    with triager.expect_navigation(url=triage_url):
        row.get_by_role("button", name=f"Claim {public_id}").click()
    expect(triager.get_by_text(f"You have claimed {public_id}.")).to_be_visible()
    expect(triager.locator("#assignment")).to_contain_text("Assigned to Tess Triager.")
    # Staff see who reported it, and the original transcript.
    expect(triager.locator("#reporter")).to_contain_text(REPORTER_EMAIL)
    expect(triager.locator("#transcript .turns").first).to_contain_text(REPORTER_EMAIL)

    # 3. Start triage, rate the severity, link the canonical AI system.
    click_and_wait(triager, "Start triage", triage_url)
    expect(triager.locator("#status-heading")).to_have_text("Status: In triage")

    for key, value in SEVERITY.items():
        triager.locator(f'#severity select[name="severity_{key}"]').select_option(value)
    expect(triager.locator("#severity [data-severity-vector]")).to_have_text(VECTOR)
    click_and_wait(triager, "Save rating", triage_url + "#severity")
    expect(triager.locator("#severity")).to_contain_text(VECTOR)

    triager.get_by_label("Find a system by name or vendor").fill("Acme AI · CalPilot")
    expect(triager.locator("#id_ai_system")).to_have_value(str(acme.pk))
    click_and_wait(triager, "Link system", triage_url + "#system")
    expect(triager.get_by_text("Linked to Acme AI CalPilot.")).to_be_visible()

    # 4. Ask the reporter a question.
    thread = triager.locator("#thread")
    thread.get_by_label("A question to the reporter").check()
    thread.get_by_label("Text").fill(QUESTION)
    click_and_wait(triager, "Add", triage_url + "#thread")
    expect(triager.get_by_text("Question sent: the reporter sees it on their receipt page.")).to_be_visible()
    expect(thread.locator(".comment-question")).to_contain_text(QUESTION)

    # 5. The reporter, in a fresh browser, follows the link in the question's email and answers.
    question_email = next(m for m in mailoutbox if m.subject.endswith("a question about your report"))
    assert question_email.to == [REPORTER_EMAIL]
    assert QUESTION in question_email.body
    assert reporter.errors == [], reporter.errors
    reporter.context.close()  # the filing session is gone: the link in the email is all they have
    reporter = person()
    reporter.goto(live_server.url + receipt_path(question_email))
    expect(reporter.get_by_role("heading", name="Questions from our staff")).to_be_visible()
    expect(reporter.locator(".comment-question")).to_contain_text(QUESTION)
    expect(reporter.locator(".facts .status")).to_have_text("In triage")
    reporter.get_by_label("Add information").fill(ANSWER)
    reporter.get_by_role("button", name="Send as my answer").click()
    expect(
        reporter.get_by_text("Thank you: your answer was sent to our staff."),
        "The answer was not taken. A 403 here means the browser sent `Origin: null`: a page that posts "
        "forms to itself must not send `Referrer-Policy: no-referrer` (same-origin keeps the token private).",
    ).to_be_visible()
    expect(reporter.locator(".comment-answer")).to_contain_text(ANSWER)

    # 6. The triager sees the answer, confirms and notifies the vendor.
    triager.goto(triage_url)
    answer = triager.locator("#thread .comment-answer")
    expect(answer).to_contain_text(ANSWER)
    expect(answer).to_contain_text("Reporter's answer · Reporter")
    screenshot(triager, "walkthrough-triage")
    click_and_wait(triager, "Confirm", triage_url)
    expect(triager.locator("#status-heading")).to_have_text("Status: Confirmed")
    click_and_wait(triager, "Notify vendor", triage_url)
    expect(triager.locator("#status-heading")).to_have_text("Status: Vendor notified")
    expect(triager.locator("#disclosure")).to_contain_text("left")
    incident.refresh_from_db()
    assert incident.disclosure_deadline == incident.vendor_notified_at + timedelta(days=90)

    # Another vendor's member sees none of it; the public still sees nothing.
    other = person()
    sign_in(other, live_server, "globex-security", VENDOR_PASSWORD)
    other.goto(live_server.url + "/vendor/")
    expect(other.get_by_text("No incidents about your systems yet.")).to_be_visible()
    assert other.request.get(f"{live_server.url}/vendor/incidents/{public_id}/").status == 404
    assert visitor.request.get(f"{live_server.url}/incidents/{public_id}/").status == 404

    # 7. A member of the vendor signs in and finds it in the portal, with the countdown.
    vendor_email = next(m for m in mailoutbox if m.to == ["security@acme.example"])
    assert vendor_email.subject == f"[Override Watch] {public_id}: an incident about your AI system"
    assert REPORTER_EMAIL not in vendor_email.body
    vendor = person()
    sign_in(vendor, live_server, "acme-security", VENDOR_PASSWORD)
    vendor.get_by_role("link", name="Vendor portal", exact=True).click()
    vendor.wait_for_url(live_server.url + "/vendor/")
    expect(vendor.get_by_role("heading", name="Incidents about Acme AI’s systems")).to_be_visible()
    row = vendor.get_by_role("row").filter(has_text=public_id)
    expect(row.locator(".countdown")).to_have_text("in 90 days")
    expect(row).to_contain_text("Vendor notified")
    screenshot(vendor, "walkthrough-vendor-portal")
    row.get_by_role("link", name="Calendar agent cancelled meetings it was told to keep").click()
    vendor.wait_for_url(f"**/vendor/incidents/{public_id}/")
    expect(vendor.locator(".private-note")).to_contain_text("Embargoed.")
    expect(vendor.locator(".private-note .countdown")).to_have_text("in 90 days")
    expect(vendor.locator(".transcript")).to_contain_text("[EMAIL_1]")
    assert REPORTER_EMAIL not in vendor.content()  # never the reporter's identity

    # 8. The vendor acknowledges, then posts a public statement.
    vendor.get_by_label("Acknowledged: we confirm the report").check()
    vendor.get_by_role("button", name="Send answer").click()
    expect(vendor.get_by_text("Your answer is recorded: Acknowledged.")).to_be_visible()
    expect(vendor.locator(".meta .status")).to_have_text("Vendor responded")
    vendor.get_by_label("Public statement: published with the incident").check()
    vendor.get_by_label("Text").fill(STATEMENT)
    vendor.get_by_role("button", name="Send answer").click()
    expect(vendor.get_by_text("Your answer is recorded: Public statement.")).to_be_visible()
    expect(vendor.get_by_text("Shown on the public incident page once it is published.")).to_be_visible()

    # 9. The triager publishes.
    triager.goto(triage_url)
    expect(triager.locator("#status-heading")).to_have_text("Status: Vendor responded")
    expect(triager.locator("#details")).to_contain_text(STATEMENT)
    click_and_wait(triager, "Publish", triage_url)
    expect(triager.get_by_text(f"{public_id} is now published.")).to_be_visible()

    # 10. A visitor finds it on /incidents/, with the statement, the public timeline and a redacted transcript.
    visitor.goto(live_server.url + "/incidents/")
    visitor.get_by_role("link", name="Calendar agent cancelled meetings it was told to keep").click()
    visitor.wait_for_url(f"{live_server.url}/incidents/{public_id}/")
    expect(visitor.get_by_role("heading", name="Calendar agent cancelled meetings it was told to keep")).to_be_visible()
    expect(visitor.locator(".meta .status")).to_have_text("Published")
    expect(visitor.get_by_role("heading", name="Statement from Acme AI")).to_be_visible()
    expect(visitor.locator(".vendor-statement")).to_have_text(STATEMENT)
    expect(visitor.locator(".facts").first).to_contain_text("Acme AI CalPilot (version 3.1)")
    expect(visitor.locator(".facts").nth(1)).to_contain_text(VECTOR)  # the triager's rating
    public_transcript = visitor.locator(".transcript")
    expect(public_transcript).to_contain_text("Questions go to [EMAIL_1].")
    expect(public_transcript.locator(".turn-instruction")).to_contain_text("do not cancel anything")
    expect(public_transcript.locator(".turn-violation")).to_contain_text("I cancelled 14 meetings")
    assert timeline(visitor) == ["Confirmed", "Vendor notified", "Vendor responded", "Vendor answered", "Published"]
    page_text = visitor.content()
    for private in (REPORTER_EMAIL, QUESTION, ANSWER, "Tess Triager", "In triage"):
        assert private not in page_text, private
    screenshot(visitor, "walkthrough-public")

    # 11. Staff mark it resolved; the reporter's receipt says so and links the public page.
    triager.goto(triage_url)
    click_and_wait(triager, "Mark resolved", triage_url)
    expect(triager.locator("#status-heading")).to_have_text("Status: Resolved")
    reporter.reload()
    expect(reporter.locator(".facts .status")).to_have_text("Resolved")
    expect(reporter.get_by_role("link", name=public_id)).to_have_attribute("href", f"/incidents/{public_id}/")
    visitor.reload()
    expect(visitor.locator(".meta .status")).to_have_text("Resolved")

    # The complete history, in order, each row with its actor.
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    assert (incident.assignee, incident.ai_system, incident.triager_severity_vector) == (staff_user, acme, VECTOR)
    assert incident.vendor_statement == STATEMENT
    A, S = IncidentEvent.Action, Status
    assert history(incident) == [
        (A.SUBMITTED, "", S.SUBMITTED, "Reporter"),
        (A.ASSIGNED, "", "", "Tess Triager"),
        (A.TRANSITION, S.SUBMITTED, S.TRIAGE, "Tess Triager"),
        (A.EDITED, "", "", "Tess Triager"),  # the triager's severity
        (A.SYSTEM_LINKED, "", "", "Tess Triager"),
        (A.QUESTION, "", "", "Tess Triager"),
        (A.REPORTER_ANSWER, "", "", "Reporter"),
        (A.TRANSITION, S.TRIAGE, S.CONFIRMED, "Tess Triager"),
        (A.TRANSITION, S.CONFIRMED, S.VENDOR_NOTIFIED, "Tess Triager"),
        (A.VENDOR_RESPONSE, "", "", "Acme PSIRT"),  # acknowledged
        (A.TRANSITION, S.VENDOR_NOTIFIED, S.VENDOR_RESPONDED, "Acme PSIRT"),
        (A.VENDOR_RESPONSE, "", "", "Acme PSIRT"),  # the public statement
        (A.TRANSITION, S.VENDOR_RESPONDED, S.PUBLISHED, "Tess Triager"),
        (A.TRANSITION, S.PUBLISHED, S.RESOLVED, "Tess Triager"),
    ]
    assert list(incident.comments.values_list("kind", "text")) == [
        (Comment.Kind.QUESTION, QUESTION),
        (Comment.Kind.ANSWER, ANSWER),
    ]
    assert list(incident.vendor_responses.values_list("kind", flat=True)) == ["acknowledged", "statement"]

    # The reporter heard of every step, by email, in order; the vendor once, when notified.
    prefix = f"[Override Watch] {public_id}: "
    assert [m.subject.removeprefix(prefix) for m in mailoutbox if m.to == [REPORTER_EMAIL]] == [
        "we received your report",
        "status is now in triage",
        "a question about your report",
        "status is now confirmed",
        "status is now vendor notified",
        "status is now vendor responded",
        "status is now published",
        "status is now resolved",
    ]
    assert [m.to for m in mailoutbox if REPORTER_EMAIL not in m.to] == [["security@acme.example"]]
    assert all(receipt_path(m) == incident.get_receipt_url() for m in mailoutbox if m.to == [REPORTER_EMAIL])

    for page in (reporter, triager, vendor, visitor, other):
        assert page.errors == [], page.errors  # nothing blocked by the CSP, no script errors, no failed loads


# Side paths: a rejection and a reopening, each with its reason ------------------------------------


def test_it_tells_the_reporter_why_it_was_rejected_and_reopens_with_a_reason(
    live_server, person, staff_user, make_incident, mailoutbox
):
    incident = make_incident(title="Assistant renamed my files", email=REPORTER_EMAIL)
    public_id = incident.public_id
    triage_url = f"{live_server.url}/triage/{public_id}/"
    rejection = "Not an instruction override: the assistant was never told to leave the files alone."
    reopening = "The reporter added the system prompt that forbade renaming; looking again."

    triager = person()
    sign_in(triager, live_server, "triager", STAFF_PASSWORD)
    triager.goto(live_server.url + "/triage/")
    triager.get_by_role("link", name=public_id).click()
    triager.wait_for_url(triage_url)

    # A rejection needs a reason: without one, the error shows by the field and nothing changes.
    triager.get_by_role("button", name="Reject", exact=True).click()
    reason = triager.get_by_label("Reason to “Reject” (required)")
    expect(triager.locator("#status")).to_contain_text("“Reject” needs a reason.")
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED

    reason.fill(rejection)
    click_and_wait(triager, "Reject", triage_url)
    expect(triager.locator("#status-heading")).to_have_text("Status: Rejected")
    expect(triager.locator(".tombstone").first).to_contain_text(rejection)

    # The reporter follows the rejection email's link and reads why.
    rejected_email = mailoutbox[-1]
    assert (rejected_email.to, rejected_email.subject) == (
        [REPORTER_EMAIL],
        f"[Override Watch] {public_id}: not taken further",
    )
    assert f"Why: {rejection}" in rejected_email.body
    reporter = person()
    reporter.goto(live_server.url + receipt_path(rejected_email))
    expect(reporter.locator(".facts .status")).to_have_text("Rejected")
    expect(reporter.locator(".timeline .reason")).to_have_text(rejection)
    screenshot(reporter, "walkthrough-rejected-receipt")
    # A rejected incident is a tombstone for staff, never public.
    assert reporter.request.get(f"{live_server.url}/incidents/{public_id}/").status == 404

    # Staff reopen it, again with a reason; it goes back to triage and the reporter sees why.
    triager.get_by_label("Reason to “Reopen” (required)").fill(reopening)
    click_and_wait(triager, "Reopen", triage_url)
    expect(triager.locator("#status-heading")).to_have_text("Status: In triage")
    expect(triager.locator("#history")).to_contain_text(f"Reason: {reopening}")
    reporter.reload()
    expect(reporter.locator(".facts .status")).to_have_text("In triage")
    expect(reporter.locator(".timeline .reason")).to_have_text([rejection, reopening])

    A, S = IncidentEvent.Action, Status
    assert list(
        incident.events.order_by("created", "id").values_list("action", "from_status", "to_status", "reason")
    ) == [
        (A.SUBMITTED, "", S.SUBMITTED, ""),
        (A.TRANSITION, S.SUBMITTED, S.REJECTED, rejection),
        (A.TRANSITION, S.REJECTED, S.TRIAGE, reopening),
    ]
    assert [m.subject.split(": ", 1)[1] for m in mailoutbox] == [
        "we received your report",
        "not taken further",
        "status is now in triage",
    ]
    assert f"Reason: {reopening}" in mailoutbox[-1].body
    for page in (triager, reporter):
        # The refused rejection answered 400 on purpose; anything else is a problem.
        assert [e for e in page.errors if not e.startswith("400 ") or "/transition/" not in e] == []
