import pytest

from incidents.models import ApiToken, Status, Vendor, VendorMembership
from incidents.tokens import issue_token, verify_token

pytestmark = pytest.mark.django_db

URL = "/account/tokens/"


@pytest.fixture
def member(django_user_model):
    user = django_user_model.objects.create_user("acme-member", password="pw-acme-member-123")
    VendorMembership.objects.create(user=user, vendor=Vendor.objects.create(name="Acme", slug="acme"))
    return user


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_creates_a_token_and_shows_it_once(client, member):
    client.force_login(member)
    response = client.post(URL, {"name": "nightly sync", "expires_in_days": "30"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = response.context["raw"]
    assert raw.encode() in response.content
    token = ApiToken.objects.get(user=member)
    assert verify_token(raw) == token and token.name == "nightly sync" and token.expires_at
    listing = client.get(URL)
    assert raw.encode() not in listing.content
    assert b"nightly sync" in listing.content and f"ow_{token.prefix}_".encode() in listing.content


def test_it_creates_a_token_that_never_expires(client, member):
    client.force_login(member)
    client.post(URL, {"name": "monitor", "expires_in_days": ""})
    assert ApiToken.objects.get(user=member).expires_at is None


def test_the_created_token_works_in_the_api(client, member, make_incident):
    from incidents.models import AISystem

    system = AISystem.objects.create(vendor=member.vendor_membership.vendor, name="Agent", slug="agent")
    embargoed = make_incident(Status.VENDOR_NOTIFIED, ai_system=system)
    client.force_login(member)
    raw = client.post(URL, {"name": "sync", "expires_in_days": "90"}).context["raw"]
    client.logout()
    response = client.get("/api/v1/incidents/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [item["public_id"] for item in response.json()["results"]] == [embargoed.public_id]


@pytest.mark.parametrize(
    ("data", "field"),
    [({"name": "", "expires_in_days": "30"}, "name"), ({"name": "t", "expires_in_days": "7"}, "expires_in_days")],
)
def test_it_explains_a_bad_form_and_creates_nothing(client, member, data, field):
    client.force_login(member)
    response = client.post(URL, data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not ApiToken.objects.exists()


def test_it_lists_tokens_with_their_state(client, member):
    active, _ = issue_token(member, name="active one")
    revoked, _ = issue_token(member, name="revoked one")
    client.force_login(member)
    client.post(f"/account/tokens/{revoked.pk}/revoke/")
    page = client.get(URL).content.decode()
    assert "active one" in page and "revoked one" in page and "Revoked" in page
    assert f"/account/tokens/{active.pk}/revoke/" in page
    assert f"/account/tokens/{revoked.pk}/revoke/" not in page
    assert '<th scope="col">Last used</th>' in page


def test_it_revokes_a_token_after_confirmation(client, member):
    token, raw = issue_token(member, name="old")
    client.force_login(member)
    confirm = client.get(f"/account/tokens/{token.pk}/revoke/")
    assert confirm.status_code == 200 and b"Revoke token" in confirm.content
    assert verify_token(raw) is not None
    response = client.post(f"/account/tokens/{token.pk}/revoke/", follow=True)
    assert response.redirect_chain[-1][0] == URL
    assert b"is revoked" in response.content
    assert verify_token(raw) is None


def test_it_does_not_let_anyone_touch_another_users_tokens(client, member, django_user_model):
    token, raw = issue_token(member, name="mine")
    other = django_user_model.objects.create_user("other", is_staff=True)
    client.force_login(other)
    assert client.get(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert b"mine" not in client.get(URL).content
    assert verify_token(raw) is not None


def test_it_offers_tokens_only_to_those_who_may_hold_them(client, django_user_model):
    user = django_user_model.objects.create_user("plain")
    client.force_login(user)
    page = client.get(URL)
    assert page.status_code == 200 and b"Create token" not in page.content
    assert client.post(URL, {"name": "t", "expires_in_days": "30"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_it_asks_staff_for_the_second_factor_first(client, staff_user, settings):
    settings.OTP_REQUIRED_FOR_STAFF = True
    client.force_login(staff_user)
    response = client.post(URL, {"name": "t", "expires_in_days": "30"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ApiToken.objects.exists()


def test_it_says_when_the_token_limit_is_reached(client, member, monkeypatch):
    from incidents import tokens

    monkeypatch.setattr(tokens, "MAX_ACTIVE_TOKENS", 1)
    issue_token(member, name="first")
    client.force_login(member)
    response = client.post(URL, {"name": "second", "expires_in_days": "30"})
    assert response.status_code == 400 and b"revoke one" in response.content
