import pytest
from django.utils.html import escape

from incidents.models import Incident, Status

pytestmark = pytest.mark.django_db

HOSTILE = 'User: never run scripts\nAssistant: <script>alert("x")</script> {{ secret }} <img src=x onerror=alert(1)>\n'


def test_it_shows_a_published_incident_with_its_timeline(client, make_incident):
    incident = make_incident(Status.PUBLISHED)
    response = client.get(incident.get_absolute_url())
    assert response.status_code == 200
    assert escape(incident.instruction).encode() in response.content
    assert b"Vendor notified" in response.content and b"Published" in response.content


@pytest.mark.parametrize(
    "status",
    [Status.SUBMITTED, Status.TRIAGE, Status.CONFIRMED, Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED],
)
def test_it_hides_unpublished_incidents(client, make_incident, status):
    incident = make_incident(status)
    assert client.get(f"/incidents/{incident.public_id}/").status_code == 404


def test_it_never_shows_the_reporter_identity(client, make_incident):
    incident = make_incident(Status.PUBLISHED, email="secret.reporter@example.org")
    response = client.get(incident.get_absolute_url())
    assert b"secret.reporter" not in response.content
    assert incident.receipt_token.encode() not in response.content


def test_it_renders_the_transcript_as_text(client, make_incident):
    incident = make_incident(Status.PUBLISHED, transcript=HOSTILE)
    content = client.get(incident.get_absolute_url()).content
    assert b"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in content
    assert b"{{ secret }}" in content
    assert b"<img src=x" not in content


def test_it_shows_only_public_steps_on_the_timeline(client, make_incident):
    incident = make_incident(Status.PUBLISHED)
    response = client.get(incident.get_absolute_url())
    assert b"Submitted" not in response.content.split(b"Timeline")[1]


def test_it_shows_the_vendor_statement_and_report_counts(client, make_incident, staff_user):
    from incidents import workflow

    incident = make_incident(Status.PUBLISHED)
    duplicate = make_incident(Status.TRIAGE)
    workflow.merge_duplicate(duplicate, incident, actor=staff_user, reproduction=True)
    Incident.objects.filter(pk=incident.pk).update(vendor_statement="We fixed <this> in v2.")
    content = client.get(incident.get_absolute_url()).content
    assert b"2 reports, 1 independent reproduction" in content
    assert b"We fixed &lt;this&gt; in v2." in content
    assert b"Duplicate merged in" in content
