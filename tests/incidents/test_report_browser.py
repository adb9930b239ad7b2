"""The report form as a person uses it, in a real Chromium, with JavaScript and without."""

import re
import threading

import pytest
from playwright.sync_api import expect

from incidents.models import Incident, Status
from incidents.views import public
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

    expect(page.get_by_role("alert")).to_be_visible()
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


# --- Uploading a transcript file: progress, the size limit checked before sending, the server's answer.

FILE_LABEL = "…or upload a transcript file"


def transcript_file(text: str, name: str = "chat.txt") -> dict:
    return {"name": name, "mimeType": "text/plain", "buffer": text.encode()}


def report_posts(page) -> list[str]:
    """The resource type ("xhr" or "document") of every POST to the form, in order."""
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.resource_type) if r.method == "POST" and "/report/" in r.url else None)
    return posts


def console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


def test_it_uploads_a_file_and_lands_on_the_receipt_with_its_message(live_server, page):
    posts, errors = report_posts(page), console_errors(page)
    page.goto(live_server.url + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Report an incident").click()
    fill_required(page)
    page.get_by_label(FILE_LABEL).set_input_files(transcript_file(HOSTILE_TRANSCRIPT, "hostile.txt"))
    page.get_by_role("button", name="Submit report").click()

    page.wait_for_url("**/receipt/**")
    incident = Incident.objects.get()
    assert posts == ["xhr"]
    assert page.url == live_server.url + incident.get_receipt_url()
    expect(page.get_by_role("heading", name=f"Your report {incident.public_id}")).to_be_visible()
    # The answer to the request is shown, so the one-off confirmation is not lost.
    expect(page.get_by_text("Thank you: your report is filed.")).to_be_visible()
    transcript = incident.transcripts.get()
    assert transcript.raw.read() == HOSTILE_TRANSCRIPT.encode()
    assert transcript.original_filename == "hostile.txt"
    assert '<script>window.__pwned = "script"</script>' in page.locator(".transcript").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert errors == []
    # The page written from the answer still runs under the site's policy: inline script stays blocked.
    page.evaluate(
        "document.body.append(Object.assign(document.createElement('script'), {textContent: 'window.__inline = 1'}))"
    )
    assert page.evaluate("window.__inline") is None

    # Reloading asks for the receipt again (no resubmission); Back leaves the form that was sent.
    page.reload()
    expect(page.get_by_role("heading", name=f"Your report {incident.public_id}")).to_be_visible()
    assert posts == ["xhr"]
    assert Incident.objects.count() == 1
    page.go_back()
    page.wait_for_url(live_server.url + "/")


# Every text the status line shows, however briefly (a local upload is over in a blink).
RECORD_STATUS_TEXTS = """() => {
  const line = document.querySelector("[data-upload-status-text]");
  window.__statusTexts = [];
  new MutationObserver(() => window.__statusTexts.push(line.textContent)).observe(line, {childList: true});
}"""


def test_it_shows_the_upload_progress_until_the_server_answers(live_server, page, monkeypatch):
    answered = threading.Event()
    file_incident = public.file_incident

    def slow_file_incident(**kwargs):
        answered.wait(timeout=30)  # holds the answer so the finished upload can be looked at
        return file_incident(**kwargs)

    monkeypatch.setattr(public, "file_incident", slow_file_incident)
    text = "User: Keep every file.\nAssistant: " + "I removed the old files. " * 24_000 + "\n"
    page.goto(live_server.url + "/report/")
    status = page.locator("[data-upload-status]")
    expect(status).to_be_hidden()
    fill_required(page)
    page.get_by_label(FILE_LABEL).set_input_files(transcript_file(text))
    page.evaluate(RECORD_STATUS_TEXTS)
    try:
        page.get_by_role("button", name="Submit report").click()
        progress = page.get_by_role("progressbar", name="Upload progress")
        expect(progress).to_be_visible()
        status_text = status.locator("[aria-live=polite]")
        expect(status_text).to_have_text(re.compile(r"^Uploaded (\d+\.\d) of \1 MB\. Checking your report…$"))
        maximum = float(progress.get_attribute("max"))
        assert maximum >= len(text)  # the whole request: the file and the other fields
        assert float(progress.get_attribute("value")) == maximum
        assert status_text.inner_text().startswith(f"Uploaded {maximum / 1024 / 1024:.1f} of ")
        assert any(re.fullmatch(r"Uploading \d+\.\d of \d+\.\d MB", t) for t in page.evaluate("window.__statusTexts"))
    finally:
        answered.set()
    page.wait_for_url("**/receipt/**")
    assert Incident.objects.get().transcripts.get().raw.read() == text.encode()


def test_it_refuses_an_oversized_file_before_sending_anything(live_server, page, settings):
    settings.TRANSCRIPT_MAX_BYTES = 100 * 1024
    posts = report_posts(page)
    page.goto(live_server.url + "/report/")
    fill_required(page)
    file_input = page.get_by_label(FILE_LABEL)
    file_input.set_input_files(transcript_file("User: hi\nAssistant: " + "x" * 300 * 1024))

    error = page.get_by_role("alert")
    expect(error).to_have_text("The file is 0.3 MB; the limit is 0.1 MB. Choose a smaller file.")
    expect(file_input).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Submit report").click()
    expect(file_input).to_be_focused()
    expect(error).to_be_visible()
    expect(page.locator("[data-upload-status]")).to_be_hidden()
    assert posts == []
    assert page.url == live_server.url + "/report/"

    # A file within the limit clears the message and goes through.
    file_input.set_input_files(transcript_file("User: keep it\nAssistant: deleted it\n"))
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(file_input).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Submit report").click()
    page.wait_for_url("**/receipt/**")
    assert posts == ["xhr"]
    assert Incident.objects.count() == 1


def test_it_says_when_an_upload_fails_and_lets_the_reporter_try_again(live_server, page):
    page.goto(live_server.url + "/report/")
    fill_required(page)
    page.get_by_label(FILE_LABEL).set_input_files(transcript_file("User: keep it\nAssistant: deleted it\n"))
    status_text = page.locator("[data-upload-status] [aria-live=polite]")

    page.route("**/report/", lambda route: route.abort("connectionreset"))
    page.get_by_role("button", name="Submit report").click()
    expect(status_text).to_have_text("The upload was interrupted. Check your connection and submit again.")
    expect(page.get_by_role("progressbar")).to_be_hidden()
    page.unroute("**/report/")

    # A proxy in front of the site may answer with something that is not a page: it is not shown as one.
    page.route(
        "**/report/", lambda route: route.fulfill(status=413, content_type="text/plain", body="<b>Too large</b>")
    )
    page.get_by_role("button", name="Submit report").click()
    expect(status_text).to_have_text("The server gave an unexpected answer (status 413). Please try again.")
    expect(page.locator("b", has_text="Too large")).to_have_count(0)
    page.unroute("**/report/")

    page.get_by_role("button", name="Submit report").click()
    page.wait_for_url("**/receipt/**")
    assert Incident.objects.count() == 1


def test_it_shows_the_servers_field_errors_and_stays_usable(live_server, page):
    posts = report_posts(page)
    page.goto(live_server.url + "/report/")
    fill_required(page)
    page.get_by_label("Short title").fill("")
    page.get_by_label(FILE_LABEL).set_input_files(
        {"name": "log.bin", "mimeType": "application/octet-stream", "buffer": bytes(range(256)) * 10}
    )
    page.get_by_role("button", name="Submit report").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the highlighted fields")
    expect(summary.get_by_role("link", name=re.compile(r"^Short title: "))).to_be_visible()
    expect(summary.get_by_role("link", name=re.compile(r"^…or upload a transcript file: .*UTF-8"))).to_be_visible()
    expect(page.locator("#id_transcript_file_error")).to_be_visible()
    assert page.get_by_label("What the AI did instead").input_value() == "It deleted 212 emails."
    assert page.url == live_server.url + "/report/"
    assert posts == ["xhr"]
    assert not Incident.objects.exists()

    # The page written from the answer runs its scripts again: the calculator and the upload both work.
    for key, value in {"instruction": "E", "action": "T", "reversibility": "I", "scope": "U"}.items():
        page.locator(f"select[name=severity_{key}]").select_option(value)
    for key, value in {"harm": "S", "disclosure": "O", "acknowledgement": "Y"}.items():
        page.locator(f"select[name=severity_{key}]").select_option(value)
    expect(page.locator("[data-severity-vector]")).to_have_text("OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y")
    page.get_by_label("Short title").fill("Email agent deleted mail it was told to keep")
    page.get_by_label(FILE_LABEL).set_input_files(transcript_file("User: keep it\nAssistant: deleted it\n"))
    page.get_by_role("button", name="Submit report").click()
    page.wait_for_url("**/receipt/**")
    assert posts == ["xhr", "xhr"]
    assert Incident.objects.get().reporter_severity_vector == "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"


def test_it_previews_an_uploaded_file_then_files_it(live_server, page):
    posts = report_posts(page)
    page.goto(live_server.url + "/report/")
    fill_required(page)
    page.get_by_label(FILE_LABEL).set_input_files(transcript_file("User: keep it\nAssistant: deleted it\n"))
    page.get_by_role("button", name="Preview transcript").click()

    expect(page.get_by_role("heading", name="Preview, as the public will see it")).to_be_visible()
    # The file stays on the server: the page names it, and its text is not put into the paste box.
    file_input = page.get_by_label(FILE_LABEL)
    expect(file_input).to_have_accessible_description(re.compile("Using your file “chat.txt” \\(36\\sbytes\\)"))
    expect(
        page.get_by_text("Using your file “chat.txt” (36 bytes) — choose another file to replace it.")
    ).to_be_visible()
    assert page.get_by_label("Transcript (paste)").input_value() == ""
    assert not Incident.objects.exists()
    page.get_by_role("button", name="Submit report").click()
    page.wait_for_url("**/receipt/**")
    assert posts == ["xhr", "xhr"]
    # Filed from the staged file: the bytes chosen, not a copy with the browser's line ends.
    transcript = Incident.objects.get().transcripts.get()
    assert transcript.raw.read() == b"User: keep it\nAssistant: deleted it\n"
    assert transcript.original_filename == "chat.txt"


def test_it_previews_an_uploaded_file_then_files_it_without_javascript(live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    posts = report_posts(page)
    text = "User: keep it\nAssistant: deleted it\n"
    try:
        page.goto(live_server.url + "/report/")
        fill_required(page)
        page.get_by_label(FILE_LABEL).set_input_files(transcript_file(text, "first.txt"))
        page.get_by_role("button", name="Preview transcript").click()
        expect(page.get_by_text("Using your file “first.txt”")).to_be_visible()
        # A file chosen now replaces the staged one.
        page.get_by_label(FILE_LABEL).set_input_files(transcript_file(text.replace("it", "them"), "second.txt"))
        page.get_by_role("button", name="Calculate score").click()
        expect(page.get_by_text("Using your file “second.txt”")).to_be_visible()
        page.get_by_role("button", name="Submit report").click()
        page.wait_for_url("**/receipt/**")
    finally:
        context.close()
    assert posts == ["document", "document", "document"]
    transcript = Incident.objects.get().transcripts.get()
    assert (transcript.raw.read(), transcript.original_filename) == (text.replace("it", "them").encode(), "second.txt")


def test_it_uploads_a_file_without_javascript(live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    posts = report_posts(page)
    try:
        page.goto(live_server.url + "/report/")
        expect(page.locator("[data-upload-status]")).to_be_hidden()
        fill_required(page)
        page.get_by_label(FILE_LABEL).set_input_files(transcript_file("User: keep it\nAssistant: deleted it\n"))
        page.get_by_role("button", name="Submit report").click()
        page.wait_for_url("**/receipt/**")
        expect(page.get_by_text("Thank you: your report is filed.")).to_be_visible()
    finally:
        context.close()
    assert posts == ["document"]
    assert Incident.objects.get().transcripts.get().raw.read() == b"User: keep it\nAssistant: deleted it\n"
