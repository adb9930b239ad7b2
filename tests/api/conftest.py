"""Callers for API tests: two vendors with a member each, an analyst, staff, a machine reporter."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

from incidents.access import ANALYSTS
from incidents.models import AISystem, Vendor, VendorMembership
from incidents.tokens import REPORTERS, issue_token


@dataclass
class Caller:
    user: object
    token: str

    @property
    def headers(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()


@pytest.fixture
def unthrottled(settings) -> None:
    """Rate limits high enough for tests that make hundreds of calls (the limits have tests of their own)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "anon": "100000/min",
            "user": "100000/min",
            "submit": "100000/min",
            "transcript_parse": "100000/min",
        },
    }


@pytest.fixture
def api():
    return APIClient()


def _system(slug: str, name: str) -> AISystem:
    vendor = Vendor.objects.create(slug=slug, name=name)
    return AISystem.objects.create(vendor=vendor, slug=f"{slug}-agent", name=f"{name} Agent")


@pytest.fixture
def acme_system(db) -> AISystem:
    return _system("acme", "Acme")


@pytest.fixture
def globex_system(db) -> AISystem:
    return _system("globex", "Globex")


def _caller(django_user_model, username: str, **extra) -> Caller:
    user = django_user_model.objects.create_user(username, password=f"pw-{username}-123", **extra)
    return Caller(user, "")


def _with_token(caller: Caller) -> Caller:
    caller.token = issue_token(caller.user, name="test")[1]
    return caller


@pytest.fixture
def acme_member(django_user_model, acme_system) -> Caller:
    caller = _caller(django_user_model, "acme-member")
    VendorMembership.objects.create(user=caller.user, vendor=acme_system.vendor)
    return _with_token(caller)


@pytest.fixture
def globex_member(django_user_model, globex_system) -> Caller:
    caller = _caller(django_user_model, "globex-member")
    VendorMembership.objects.create(user=caller.user, vendor=globex_system.vendor)
    return _with_token(caller)


@pytest.fixture
def analyst(django_user_model) -> Caller:
    caller = _caller(django_user_model, "analyst")
    caller.user.groups.add(Group.objects.get_or_create(name=ANALYSTS)[0])
    return _with_token(caller)


@pytest.fixture
def staff(django_user_model) -> Caller:
    return _with_token(_caller(django_user_model, "staff-member", is_staff=True))


@pytest.fixture
def monitor(django_user_model) -> Caller:
    caller = _caller(django_user_model, "guardrail-monitor")
    caller.user.groups.add(Group.objects.get_or_create(name=REPORTERS)[0])
    return _with_token(caller)
