from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.models import ApiToken
from incidents.tokens import verify_token

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_prints_the_token_alone_on_stdout(django_user_model):
    user = django_user_model.objects.create_user("monitor")
    raw, note = run("monitor", "--name", "guardrail", "--expires-days", "30")
    token = ApiToken.objects.get(user=user)
    assert verify_token(raw) == token
    assert token.name == "guardrail" and token.expires_at is not None
    assert "shown only now" in note and raw not in note


def test_it_makes_a_token_that_never_expires_by_default(django_user_model):
    django_user_model.objects.create_user("monitor")
    run("monitor")
    token = ApiToken.objects.get()
    assert token.expires_at is None and token.name == "Command line"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody",), "No user"),
        (("monitor", "--expires-days", "0"), "--expires-days"),
        (("monitor", "--name", " "), "name"),
    ],
)
def test_it_refuses_bad_arguments_and_creates_nothing(django_user_model, args, message):
    django_user_model.objects.create_user("monitor")
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not ApiToken.objects.exists()
