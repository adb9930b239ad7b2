import pytest

from incidents.models import Incident
from tests.api.test_submit import URL, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**rates: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
        }

    return set_rates


def test_it_throttles_anonymous_callers_by_address_with_retry_after(api, rates):
    rates(anon="2/min")
    codes = [api.get(URL).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = api.get(URL)
    assert int(refused["Retry-After"]) > 0 and "throttled" in refused.json()["detail"].lower()
    # Another address has its own budget.
    assert api.get(URL, REMOTE_ADDR="192.0.2.7").status_code == 200


def test_it_throttles_each_token_on_its_own(api, rates, acme_member, globex_member):
    rates(user="2/min", anon="1/min")
    assert [api.get(URL, **acme_member.headers).status_code for _ in range(3)] == [200, 200, 429]
    assert api.get(URL, **acme_member.headers)["Retry-After"]
    assert api.get(URL, **globex_member.headers).status_code == 200
    # Tokens do not use up the anonymous budget of the address they call from.
    assert api.get(URL).status_code == 200


def test_it_throttles_anonymous_filing_harder_than_reading(api, rates):
    rates(submit="1/min", anon="100/min")
    assert api.post(URL, report(), format="json").status_code == 201
    refused = api.post(URL, report(), format="json")
    assert refused.status_code == 429 and refused["Retry-After"]
    assert Incident.objects.count() == 1
    assert api.get(URL).status_code == 200


def test_it_lets_a_reporter_token_file_past_the_anonymous_limit(api, rates, monitor):
    rates(submit="1/min")
    for _ in range(3):
        assert api.post(URL, report(reporter_type="monitor"), format="json", **monitor.headers).status_code == 201


def test_it_falls_back_to_a_default_rate_when_the_scope_is_not_configured(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    assert api.post(URL, report(), format="json").status_code == 201
