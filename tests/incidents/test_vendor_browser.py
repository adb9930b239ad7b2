"""The vendor portal as a vendor's member uses it, in a real Chromium."""

import pytest

from incidents.models import AISystem, Incident, Status, Vendor, VendorMembership
from tests.conftest import screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "pw-acme-member-123"


@pytest.fixture
def acme_incident(make_incident, django_user_model) -> Incident:
    vendor = Vendor.objects.create(name="Acme AI", slug="acme-ai")
    system = AISystem.objects.create(vendor=vendor, name="Acme Mail Agent", slug="acme-mail-agent")
    user = django_user_model.objects.create_user("acme-member", password=PASSWORD, email="security@acme.example")
    VendorMembership.objects.create(user=user, vendor=vendor)
    return make_incident(Status.VENDOR_NOTIFIED, ai_system=system, title="Mail agent deleted what it was told to keep")


def test_it_lets_a_vendor_sign_in_acknowledge_and_make_a_statement(live_server, page, acme_incident):
    page.goto(live_server.url + "/vendor/")
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("Username").fill("acme-member")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server.url}/vendor/")
    assert page.get_by_role("heading", name="Incidents about Acme AI’s systems").is_visible()
    row = page.get_by_role("row").filter(has_text=acme_incident.public_id)
    assert row.locator(".countdown").inner_text() == "in 90 days"
    screenshot(page, "vendor-portal")

    page.get_by_role("link", name=acme_incident.title).click()
    page.wait_for_url(f"**/vendor/incidents/{acme_incident.public_id}/")
    assert page.get_by_role("heading", name=acme_incident.title).is_visible()
    assert page.locator(".private-note .countdown").inner_text() == "in 90 days"

    page.get_by_label("Acknowledged: we confirm the report").check()
    page.get_by_role("button", name="Send answer").click()
    assert page.get_by_text("Your answer is recorded: Acknowledged.").is_visible()

    page.get_by_label("Public statement: published with the incident").check()
    page.get_by_label("Text").fill("We reproduced this and ship a fix in Mail Agent 2.4.1.")
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
    vector = "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"
    assert page.locator("[data-severity-vector]").inner_text() == vector
    page.get_by_role("button", name="Send answer").click()
    assert page.get_by_text("Your answer is recorded: Public statement.").is_visible()
    assert page.locator(".vendor-responses").get_by_text("We reproduced this").is_visible()
    screenshot(page, "vendor-incident")

    acme_incident.refresh_from_db()
    assert acme_incident.status == Status.VENDOR_RESPONDED
    assert acme_incident.vendor_statement == "We reproduced this and ship a fix in Mail Agent 2.4.1."
    assert acme_incident.vendor_severity_vector == vector
    assert page.dialogs == []
