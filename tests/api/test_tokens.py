import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings

from incidents import tokens
from incidents.access import ANALYSTS
from incidents.models import ApiToken, Vendor, VendorMembership

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("someone", password="pw-someone-123")


def test_it_issues_a_token_shown_once_and_stored_as_a_hash(user):
    token, raw = tokens.issue_token(user, name="nightly sync", expires_in=timedelta(days=30))
    assert re.fullmatch(r"ow_[0-9a-f]{10}_[A-Za-z0-9_-]{43}", raw)
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.prefix == raw.split("_")[1]
    assert raw not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    assert stored.name == "nightly sync" and stored.expires_at > stored.created
    assert tokens.verify_token(raw) == stored


def test_it_rejects_a_wrong_secret_with_a_valid_prefix(user):
    _, raw = tokens.issue_token(user, name="t")
    assert tokens.verify_token(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert tokens.verify_token(raw + "x") is None


def test_it_keys_the_hash_with_the_secret_key(user):
    _, raw = tokens.issue_token(user, name="t")
    with override_settings(SECRET_KEY="another-secret-key"):
        assert tokens.verify_token(raw) is None


def test_it_does_not_query_for_malformed_tokens(user, django_assert_num_queries):
    with django_assert_num_queries(0):
        for raw in ("", "ow_", "ow_short_secret", "xx_0123456789_secret", "ow_ABCDEFGHIJ_secret", "ow_" + "a" * 300):
            assert tokens.verify_token(raw) is None


def test_it_revokes_once(user):
    token, raw = tokens.issue_token(user, name="t")
    assert tokens.revoke_token(token) is True
    assert tokens.revoke_token(token) is False
    assert tokens.verify_token(raw) is None
    assert tokens.token_state(token) == "revoked"


def test_it_expires(user):
    token, raw = tokens.issue_token(user, name="t", expires_in=timedelta(days=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=token.created - timedelta(seconds=1))
    assert tokens.verify_token(raw) is None
    token.refresh_from_db()
    assert tokens.token_state(token) == "expired"


@pytest.mark.parametrize(
    ("name", "expires_in", "message"),
    [
        ("  ", None, "name"),
        ("x" * 101, None, "100 characters"),
        ("t", timedelta(0), "expires"),
        ("t", timedelta(days=tokens.MAX_EXPIRY_DAYS + 1), "expires"),
    ],
)
def test_it_refuses_bad_requests_and_creates_nothing(user, name, expires_in, message):
    with pytest.raises(tokens.TokenError, match=message):
        tokens.issue_token(user, name=name, expires_in=expires_in)
    assert not ApiToken.objects.exists()


def test_it_caps_the_number_of_active_tokens(user):
    for n in range(tokens.MAX_ACTIVE_TOKENS):
        tokens.issue_token(user, name=f"t{n}")
    with pytest.raises(tokens.TokenError, match="revoke one"):
        tokens.issue_token(user, name="one too many")
    tokens.revoke_token(user.api_tokens.first())
    tokens.issue_token(user, name="now it fits")


def test_it_lets_staff_vendors_analysts_and_reporters_hold_tokens(django_user_model, user):
    assert not tokens.may_hold_tokens(user)
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    member = django_user_model.objects.create_user("member")
    VendorMembership.objects.create(user=member, vendor=Vendor.objects.create(name="Acme", slug="acme"))
    analyst = django_user_model.objects.create_user("analyst")
    analyst.groups.add(Group.objects.create(name=ANALYSTS))
    reporter = django_user_model.objects.create_user("monitor")
    reporter.groups.add(Group.objects.create(name=tokens.REPORTERS))
    assert all(tokens.may_hold_tokens(u) for u in (staff, member, analyst, reporter))
    staff.is_active = False
    assert not tokens.may_hold_tokens(staff)
