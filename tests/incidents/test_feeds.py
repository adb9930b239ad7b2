import xml.etree.ElementTree as ET

import pytest

from incidents.models import Status

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def test_it_is_a_valid_atom_feed_of_published_incidents(client, make_incident):
    published = make_incident(Status.PUBLISHED, title="Shutdown script <rewritten>")
    embargoed = make_incident(Status.VENDOR_NOTIFIED)
    response = client.get("/feeds/incidents.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    titles = [entry.find(f"{ATOM}title").text for entry in entries]
    assert titles == [f"{published.public_id}: Shutdown script <rewritten>"]
    assert embargoed.public_id.encode() not in response.content
    assert entries[0].find(f"{ATOM}link").get("href").endswith(published.get_absolute_url())
