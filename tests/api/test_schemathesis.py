"""Schemathesis against the live schema (``/api/v1/schema/``), through the WSGI application.

Every operation is called with generated requests, anonymously and with a staff token: first the
schema's own examples, then fuzzing with valid (positive) and invalid (negative) data; then
stateful sequences follow the links Schemathesis infers between operations (an incident filed
or listed, then its detail, transcript, responses and transitions; a webhook endpoint created,
then its detail, ping, delivery log and redelivery). Every answer must be no 5xx and must conform
to the schema: status code, content type, headers and body.

The database holds incidents in every status (the access matrix's world) and a staff member's
webhook endpoint with a delivery; half the generated path parameters are replaced by real ids, so
lookups find rows instead of always answering 404. The seed is fixed and examples are few, so the
run is the same every time and the module takes well under two minutes.
"""

from __future__ import annotations

import zlib

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from incidents import webhooks
from incidents.models import WebhookEndpoint
from tests.api.test_access_matrix import World, build_world

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260501,
        "suppress-health-check": ["all"],
        "generation": {"max-examples": 10, "mode": "all", "database": "none"},
        "phases": {"coverage": {"enabled": False}},
    }
)
# The database is built once per operation, on purpose: its examples share it.
SHARED_DATABASE = hypothesis.settings(
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture], deadline=None, database=None
)
STATEFUL = hypothesis.settings(
    max_examples=25,
    stateful_step_count=6,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
# Real ids for the generated path parameters, filled by the `world` fixture.
REAL_IDS: dict[str, list] = {}


@pytest.fixture(autouse=True)
def connection_kept_for_the_test():
    # Django closes the connection around each request; inside the test's transaction that would
    # end it. The test client disconnects these signals the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(make_incident, acme_system, globex_system, django_user_model, unthrottled) -> World:
    world = build_world(make_incident, acme_system, globex_system, django_user_model)
    staff = django_user_model.objects.get(username="matrix-staff")
    endpoint = WebhookEndpoint.objects.create(owner=staff, url="https://hooks.example.com/staff")
    delivery = webhooks.queue_ping(endpoint)
    REAL_IDS.update(
        public_id=[i.public_id for i in world.incidents.values()],
        id=[endpoint.pk],
        delivery_id=[delivery.pk],
    )
    yield world
    REAL_IDS.clear()


def _load_schema() -> schemathesis.BaseSchema:
    """The schema as the application serves it, read once at collection (it needs no database)."""
    return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application(), config=CONFIG)


schema = _load_schema()


@schema.hook
def flatmap_path_parameters(context, path_parameters: dict) -> st.SearchStrategy:
    """Half the time, the generated ids; half the time, ids of real rows."""
    real = {name: st.sampled_from(REAL_IDS[name]) for name in path_parameters or {} if REAL_IDS.get(name)}
    if not real:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries({**path_parameters, **real}))


@schema.parametrize()
@SHARED_DATABASE
def test_it_conforms_to_its_schema_anonymously(case, world):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@SHARED_DATABASE
def test_it_conforms_to_its_schema_as_staff(case, world):
    case.call_and_validate(headers={"Authorization": f"Bearer {world.tokens['staff']}"}, checks=CHECKS)


# Answers that fuzzing with these rates and tokens never provokes, provoked on purpose.


def test_a_throttled_answer_conforms(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1/min"},
    }
    case = schema["/api/v1/stats/summary/"]["GET"].Case()
    assert case.call().status_code == 200
    refused = case.call()
    assert refused.status_code == 429 and int(refused.headers["retry-after"][0]) >= 1
    case.validate_response(refused, checks=CHECKS)


def test_a_refused_token_conforms():
    case = schema["/api/v1/incidents/"]["GET"].Case(headers={"Authorization": "Bearer ow_unknown_token"})
    refused = case.call()
    assert refused.status_code == 401
    case.validate_response(refused, checks=CHECKS)


@pytest.mark.parametrize(
    "body",
    [{}, {"content": "User: a", "format": "klingon"}, {"content": ["User: a"]}, ["User: a"], {"content": "no labels"}],
)
def test_every_refusal_of_the_dry_run_conforms(body):
    case = schema["/api/v1/transcripts/parse/"]["POST"].Case(body=body, media_type="application/json")
    refused = case.call()
    assert refused.status_code == 400
    case.validate_response(refused, checks=CHECKS)


# A valid body for the operations that create what later steps use: generated bodies are almost
# never valid, so without these the sequences would rarely get past the first step.
VALID_BODIES = {
    "POST /api/v1/webhooks/": {"url": "https://hooks.example.com/sequence", "description": "Sequence"},
    "POST /api/v1/incidents/": {
        "title": "Agent deleted files after being told to keep them",
        "system_name_reported": "Acme Agent",
        "instruction": "Do not delete anything in /data.",
        "instruction_source": "system_prompt",
        "action_taken": "It ran rm -rf /data/archive.",
        "reversibility": "costly",
        "acknowledged": "yes",
        "override_type": "prohibited_action",
        "context": "coding_agent",
        "environment": "production",
        "occurred_on": "2026-03-01",
        "reporter_type": "monitor",
        "transcript": "User: Do not delete anything in /data.\nAssistant: Deleted /data/archive.",
    },
}


def test_it_conforms_in_stateful_sequences(world):
    token = world.tokens["staff"]
    calls = {"made": 0}

    class StaffSequences(schema.as_state_machine()):
        def setup(self) -> None:
            # Each sequence starts from the same world: what one creates, the next never sees.
            self.savepoint = transaction.atomic()
            self.savepoint.__enter__()

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self.savepoint.__exit__(None, None, None)

        def before_call(self, case) -> None:
            calls["made"] += 1
            body = VALID_BODIES.get(case.operation.label)
            # Half the bodies made valid, chosen by the generated body itself so a replay chooses alike.
            if body is not None and zlib.crc32(repr(case.body).encode()) % 2:
                case.body = dict(body)

        def get_call_kwargs(self, case) -> dict:
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    StaffSequences.run(settings=STATEFUL)
    assert calls["made"] >= STATEFUL.max_examples
