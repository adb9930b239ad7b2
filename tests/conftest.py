import os
from datetime import date

import pytest

from incidents import transcripts, workflow
from incidents.models import AISystem, Incident, Status, Vendor
from incidents.submission import Evidence, file_incident

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# there unless told it is safe (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PATH_TO_PUBLISHED = [
    Status.TRIAGE,
    Status.CONFIRMED,
    Status.VENDOR_NOTIFIED,
    Status.VENDOR_RESPONDED,
    Status.PUBLISHED,
]

TRANSCRIPT = "User: Summarise my inbox, but don't delete anything.\nAssistant: Done. I deleted 212 old emails.\n"


def incident_fields(**overrides) -> dict:
    fields = {
        "title": "Email agent deleted mail after being told not to",
        "instruction": "Summarise my inbox but don't delete anything.",
        "instruction_source": "user_turn",
        "action_taken": "It deleted 212 emails.",
        "reversibility": "irreversible",
        "acknowledged": "yes",
        "context": "email_agent",
        "environment": "production",
        "system_name_reported": "MailPilot",
        "occurred_on": date(2026, 3, 1),
        "reporter_type": "end_user",
        "override_type": "prohibited_action",
    }
    fields.update(overrides)
    return fields


def default_system() -> AISystem:
    vendor, _ = Vendor.objects.get_or_create(slug="mailpilot-inc", defaults={"name": "MailPilot Inc."})
    system, _ = AISystem.objects.get_or_create(vendor=vendor, slug="mailpilot", defaults={"name": "MailPilot"})
    return system


@pytest.fixture
def make_incident(db):
    def make(
        status: str = Status.SUBMITTED, *, transcript: str | None = TRANSCRIPT, email: str = "", **overrides
    ) -> Incident:
        evidence = None
        if transcript is not None:
            evidence = Evidence(transcript.encode(), transcripts.parse(transcript))
        incident = file_incident(fields=incident_fields(**overrides), evidence=evidence, reporter_email=email)
        if status != Status.SUBMITTED:
            path = [*PATH_TO_PUBLISHED, Status.RESOLVED]
            for step in path[: path.index(status) + 1]:
                if step == Status.VENDOR_NOTIFIED and incident.ai_system_id is None:
                    # The vendor is told only once staff have linked the canonical system.
                    incident.ai_system = default_system()
                    incident.save()
                workflow.transition(incident, step, actor=None, reason="test")
        return incident

    return make


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("triager", password="pw-triager-123", is_staff=True, is_superuser=True)


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; Playwright never downloads a browser of its own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    """Screenshots for the README tour, written only when SCREENSHOT_DIR is set."""
    directory = os.environ.get("SCREENSHOT_DIR")
    if directory:
        page.screenshot(path=os.path.join(directory, f"{name}.png"), full_page=True)
