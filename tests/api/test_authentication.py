from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import ApiToken, Status
from incidents.tokens import revoke_token

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


def test_it_authenticates_a_bearer_token_as_its_user(api, make_incident, acme_system, acme_member):
    embargoed = make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system)
    assert embargoed.public_id not in api.get(URL).content.decode()
    response = api.get(URL, **acme_member.headers)
    assert response.status_code == 200
    assert [item["public_id"] for item in response.json()["results"]] == [embargoed.public_id]


def test_it_does_not_let_one_vendors_token_see_anothers_incidents(api, make_incident, acme_system, globex_member):
    embargoed = make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system)
    assert api.get(URL, **globex_member.headers).json()["results"] == []
    assert api.get(f"{URL}{embargoed.public_id}/", **globex_member.headers).status_code == 404


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ow_0123456789_not-the-secret",
        "Bearer nonsense",
        "Bearer",
        "Bearer one two",
        "Bearer ow_zzzzzzzzzz_abc",
    ],
)
def test_it_refuses_a_bad_token_with_401(api, acme_member, header):
    response = api.get(URL, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


def test_it_refuses_the_right_prefix_with_the_wrong_secret(api, acme_member):
    prefix = acme_member.token.split("_")[1]
    forged = f"ow_{prefix}_{'x' * 43}"
    assert api.get(URL, HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401


def test_it_refuses_a_revoked_token(api, acme_member):
    revoke_token(ApiToken.objects.get(user=acme_member.user))
    assert api.get(URL, **acme_member.headers).status_code == 401


def test_it_refuses_an_expired_token(api, acme_member):
    ApiToken.objects.filter(user=acme_member.user).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get(URL, **acme_member.headers).status_code == 401


def test_it_refuses_the_token_of_a_deactivated_user(api, acme_member):
    acme_member.user.is_active = False
    acme_member.user.save()
    assert api.get(URL, **acme_member.headers).status_code == 401


def test_it_records_the_last_use_at_most_once_a_minute(api, acme_member, django_assert_num_queries):
    token = ApiToken.objects.get(user=acme_member.user)
    assert token.last_used_at is None
    api.get(URL, **acme_member.headers)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    # Token lookup and the page: no write while the stamp is fresh.
    with django_assert_num_queries(2):
        api.get(URL, **acme_member.headers)
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=5))
    api.get(URL, **acme_member.headers)
    token.refresh_from_db()
    assert token.last_used_at > first


def test_it_accepts_the_session_for_the_browsable_api(client, make_incident, acme_system, acme_member):
    embargoed = make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system)
    client.force_login(acme_member.user)
    page = client.get(URL, HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and embargoed.public_id.encode() in page.content


def test_it_treats_a_staff_session_without_second_factor_as_the_public(client, api, make_incident, staff, settings):
    settings.OTP_REQUIRED_FOR_STAFF = True
    hidden = make_incident(Status.TRIAGE)
    client.force_login(staff.user)
    assert client.get(f"{URL}{hidden.public_id}/").status_code == 404
    # A staff token was created through a verified session or on the server: it counts as staff.
    assert api.get(f"{URL}{hidden.public_id}/", **staff.headers).status_code == 200


def test_it_lets_a_token_skip_csrf_but_not_a_session(api, client, acme_member, make_incident, acme_system):
    incident = make_incident(Status.VENDOR_NOTIFIED, ai_system=acme_system)
    url = f"{URL}{incident.public_id}/responses/"
    assert api.post(url, {"kind": "acknowledged"}, format="json", **acme_member.headers).status_code == 201
    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.force_login(acme_member.user)
    response = csrf_client.post(url, {"kind": "acknowledged"}, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
