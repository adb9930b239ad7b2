"""Every API endpoint × every caller × every incident state: who sees and may do what, and that nothing leaks.

The world: vendor A (Acme) has an incident in every status, each with a reporter who left an email,
a receipt token and a transcript with its violation marked; vendor B (Globex) has one embargoed
incident. Each role has a token: anonymous (none), a machine reporter, a member of A, a member of
B, an analyst and staff. A, B and the analyst each have a webhook endpoint that existed while the
incidents moved, so their delivery logs hold whatever the webhooks told them.

Write endpoints are probed with a body that fails validation: a 400 proves the caller got past
visibility and permission without changing anything, a 401/403/404 that they did not.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Group

from incidents import workflow
from incidents.access import ANALYSTS
from incidents.models import PUBLIC_STATUSES, Incident, Status, VendorMembership, WebhookEndpoint
from incidents.tokens import REPORTERS, issue_token
from tests.incidents.test_eval_dataset import AGENT_FIELDS, AGENT_TRANSCRIPT, VIOLATION_TURN, mark

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "reporter", "vendor_a", "vendor_b", "analyst", "staff")
VENDOR_STATES = (Status.VENDOR_NOTIFIED, Status.VENDOR_RESPONDED)
API = "/api/v1"


def may_see(role: str, status: str) -> bool:
    """The rule under test, for vendor A's incidents."""
    if role == "staff" or status in PUBLIC_STATUSES:
        return True
    return role == "vendor_a" and status in VENDOR_STATES


@dataclass
class World:
    incidents: dict[str, Incident]  # vendor A's, by status
    globex_embargoed: Incident
    tokens: dict[str, str]
    endpoints: dict[str, WebhookEndpoint]
    secrets: list[str] = field(default_factory=list)  # reporter emails and receipt tokens

    def headers(self, role: str) -> dict:
        token = self.tokens.get(role)
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}


def build_world(make_incident, acme_system, globex_system, django_user_model) -> World:
    tokens = {}
    users = {}
    for role in ROLES[1:]:
        user = django_user_model.objects.create_user(f"matrix-{role}")  # no password: hashing is slow
        users[role] = user
    users["staff"].is_staff = True
    users["staff"].save()
    users["reporter"].groups.add(Group.objects.get_or_create(name=REPORTERS)[0])
    users["analyst"].groups.add(Group.objects.get_or_create(name=ANALYSTS)[0])
    VendorMembership.objects.create(user=users["vendor_a"], vendor=acme_system.vendor)
    VendorMembership.objects.create(user=users["vendor_b"], vendor=globex_system.vendor)
    for role, user in users.items():
        tokens[role] = issue_token(user, name="matrix")[1]
    hook = "https://hooks.example.com/{}"
    endpoints = {
        "vendor_a": WebhookEndpoint.objects.create(
            vendor=acme_system.vendor, owner=users["vendor_a"], url=hook.format("a")
        ),
        "vendor_b": WebhookEndpoint.objects.create(
            vendor=globex_system.vendor, owner=users["vendor_b"], url=hook.format("b")
        ),
        "analyst": WebhookEndpoint.objects.create(owner=users["analyst"], url=hook.format("analyst")),
    }

    def incident(status: str, system, email: str) -> Incident:
        created = make_incident(status, ai_system=system, email=email, transcript=AGENT_TRANSCRIPT, **AGENT_FIELDS)
        return mark(created, violations=[VIOLATION_TURN], instruction_turn=0)

    incidents = {}
    # The duplicate last: it is merged into the published incident.
    for status in sorted(Status, key=lambda s: s == Status.DUPLICATE):
        email = f"reporter-{status.value.replace('_', '-')}@example.org"
        if status == Status.REJECTED:
            created = incident(Status.TRIAGE, acme_system, email)
            workflow.transition(created, Status.REJECTED, actor=None, reason="Not an override.")
        elif status == Status.DUPLICATE:
            created = incident(Status.TRIAGE, acme_system, email)
            workflow.merge_duplicate(created, incidents[Status.PUBLISHED], actor=None, reason="Same report.")
        else:
            created = incident(status, acme_system, email)
        created.refresh_from_db()
        assert created.status == status
        incidents[status] = created
    globex = incident(Status.VENDOR_NOTIFIED, globex_system, "reporter-globex@example.org")
    secrets = [f"reporter-{s.value.replace('_', '-')}@example.org" for s in Status] + ["reporter-globex@example.org"]
    secrets += [i.receipt_token for i in [*incidents.values(), globex]]
    return World(incidents, globex, tokens, endpoints, secrets)


@pytest.fixture
def world(make_incident, acme_system, globex_system, django_user_model, unthrottled) -> World:
    return build_world(make_incident, acme_system, globex_system, django_user_model)


@pytest.fixture
def call(api, world):
    """Calls the API as a role; every non-staff answer is checked for reporter identity."""

    def request(role: str, method: str, path: str, data: dict | None = None):
        sender = getattr(api, method)
        kwargs = {"format": "json"} if method != "get" else {}
        response = sender(path, data, **kwargs, **world.headers(role))
        text = b"".join(response.streaming_content) if response.streaming else response.content
        response.body_text = text.decode()
        if role != "staff":
            for secret in world.secrets:
                assert secret not in response.body_text, f"{role} {method.upper()} {path} leaked {secret}"
            assert "reporter_contact" not in response.body_text
        return response

    return request


def _ids(text: str) -> set[str]:
    return {item["public_id"] for item in json.loads(text)["results"]}


# ---------------------------------------------------------------------------------------------
# Reading incidents


def test_it_lists_exactly_what_each_role_may_see(call, world, subtests):
    for role in ROLES:
        with subtests.test(role=role):
            expected = {i.public_id for s, i in world.incidents.items() if may_see(role, s)}
            if role in ("vendor_b", "staff"):
                expected.add(world.globex_embargoed.public_id)
            response = call(role, "get", f"{API}/incidents/?page_size=100")
            assert _ids(response.body_text) == expected
            # Filtering by status can never widen it.
            for status in Status:
                filtered = call(role, "get", f"{API}/incidents/?status={status.value}")
                if filtered.status_code == 200:
                    assert _ids(filtered.body_text) <= expected
                else:
                    assert filtered.status_code == 400 and not may_see(role, status)


def test_it_answers_detail_and_transcript_only_where_visible(call, world, subtests):
    for role in ROLES:
        with subtests.test(role=role):
            for status, incident in world.incidents.items():
                code = 200 if may_see(role, status) else 404
                detail = call(role, "get", f"{API}/incidents/{incident.public_id}/")
                assert detail.status_code == code, (role, status)
                transcript = call(role, "get", f"{API}/incidents/{incident.public_id}/transcript/")
                assert transcript.status_code == code, (role, status)
                if code == 200:
                    (entry,) = json.loads(transcript.body_text)["transcripts"]
                    assert entry["redacted"] is (role != "staff")
                    assert ("jane.doe@example.com" in transcript.body_text) is (role == "staff")
                    body = json.loads(detail.body_text)
                    assert ("staff" in body) is (role == "staff")
                    assert ("disclosure" in body) is (role in ("staff", "vendor_a"))
            globex = call(role, "get", f"{API}/incidents/{world.globex_embargoed.public_id}/")
            assert globex.status_code == (200 if role in ("vendor_b", "staff") else 404)


def test_it_shows_staff_the_reporter(call, world):
    # The counterpart of the leak checks: the identity is there, for staff only.
    incident = world.incidents[Status.SUBMITTED]
    detail = call("staff", "get", f"{API}/incidents/{incident.public_id}/")
    assert json.loads(detail.body_text)["staff"]["reporter_contact"]["email"] == "reporter-submitted@example.org"


# ---------------------------------------------------------------------------------------------
# Exports and the evaluation dataset


def test_it_exports_exactly_what_each_role_may_see(call, world, subtests):
    for role in ROLES:
        with subtests.test(role=role):
            expected = {i.public_id for s, i in world.incidents.items() if may_see(role, s)}
            if role in ("vendor_b", "staff"):
                expected.add(world.globex_embargoed.public_id)
            as_csv = call(role, "get", f"{API}/exports/incidents.csv")
            assert {row["public_id"] for row in csv.DictReader(io.StringIO(as_csv.body_text))} == expected
            as_jsonl = call(role, "get", f"{API}/exports/incidents.jsonl")
            assert {json.loads(line)["public_id"] for line in as_jsonl.body_text.splitlines()} == expected


def test_it_puts_only_published_incidents_in_the_eval_dataset(call, world, subtests):
    for role in ROLES:
        with subtests.test(role=role):
            response = call(role, "get", f"{API}/exports/eval-dataset.jsonl")
            ids = {json.loads(line)["id"] for line in response.body_text.splitlines()}
            assert ids == {world.incidents[s].public_id for s in PUBLIC_STATUSES}
            assert "jane.doe@example.com" not in response.body_text  # redacted turns, for staff too


# ---------------------------------------------------------------------------------------------
# Acting on incidents


def _expected_write(role: str, status: str, allowed: bool) -> int:
    if not may_see(role, status):
        return 404
    if allowed:
        return 400  # authorised; the probe body is invalid, so nothing changes
    return 401 if role == "anonymous" else 403


def test_it_lets_only_the_incidents_vendor_answer(call, world, subtests):
    for role in ROLES:
        with subtests.test(role=role):
            for status, incident in world.incidents.items():
                response = call(
                    role, "post", f"{API}/incidents/{incident.public_id}/responses/", {"kind": "no-such-kind"}
                )
                assert response.status_code == _expected_write(role, status, allowed=role == "vendor_a"), (role, status)
            globex = call(role, "post", f"{API}/incidents/{world.globex_embargoed.public_id}/responses/", {"kind": "x"})
            assert globex.status_code == {"vendor_b": 400, "staff": 403}.get(role, 404)


def test_it_lets_only_staff_move_incidents(call, world, subtests):
    for role in ROLES:
        with subtests.test(role=role):
            for status, incident in world.incidents.items():
                response = call(
                    role, "post", f"{API}/incidents/{incident.public_id}/transitions/", {"action": "no-such"}
                )
                assert response.status_code == _expected_write(role, status, allowed=role == "staff"), (role, status)
            for status, incident in world.incidents.items():
                incident.refresh_from_db()
                assert incident.status == status  # nothing moved


# ---------------------------------------------------------------------------------------------
# Webhooks


def test_it_scopes_webhook_endpoints_to_their_owners(call, world, subtests):
    for role in ROLES:
        with subtests.test(role=role):
            listed = call(role, "get", f"{API}/webhooks/")
            if role in ("anonymous", "reporter"):
                assert listed.status_code == (401 if role == "anonymous" else 403)
            else:
                own = world.endpoints.get(role)
                assert [e["id"] for e in json.loads(listed.body_text)] == ([own.pk] if own else [])
            for owner, endpoint in world.endpoints.items():
                path = f"{API}/webhooks/{endpoint.pk}/"
                if role == "anonymous":
                    codes = {401}
                elif role == "reporter":
                    codes = {403}
                else:
                    codes = {200} if owner == role else {404}
                for suffix in ("", "deliveries/"):
                    assert call(role, "get", path + suffix).status_code in codes, (role, owner, suffix)
                ping = call(role, "post", path + "ping/")
                assert ping.status_code in ({202} if codes == {200} else codes), (role, owner)


def test_it_never_tells_an_endpoint_about_incidents_its_owner_may_not_see(call, world, subtests):
    for role in ("vendor_a", "vendor_b", "analyst"):
        with subtests.test(role=role):
            endpoint = world.endpoints[role]
            log = json.loads(call(role, "get", f"{API}/webhooks/{endpoint.pk}/deliveries/?page_size=100").body_text)
            told = set()
            for delivery in log["results"]:
                detail = call(role, "get", f"{API}/webhooks/{endpoint.pk}/deliveries/{delivery['id']}/")
                told.add(json.loads(detail.body_text)["payload"]["incident"]["public_id"])
            visible = {i.public_id for s, i in world.incidents.items() if may_see(role, s)}
            if role == "vendor_b":
                visible.add(world.globex_embargoed.public_id)
            assert told and told <= visible
            if role == "vendor_b":
                assert told == {world.globex_embargoed.public_id}
