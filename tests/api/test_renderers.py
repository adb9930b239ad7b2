"""The orjson renderer writes the bytes DRF's JSON renderer writes, whatever the response holds."""

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict

from api.renderers import OrjsonRenderer

DOCUMENTS = {
    "times": {
        "utc": datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
        "whole_second": datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
        "offset": datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=-5))),
        "naive": datetime(2026, 3, 1, 12, 30),
        "day": date(2026, 3, 1),
        "clock": time(9, 15),
        "duration": timedelta(days=1, seconds=3),
    },
    "values": [Decimal("7.5"), uuid.UUID("12345678-1234-5678-1234-567812345678"), None, True, 0, -3, "", 2**63 - 1],
    "text": {
        "lazy": gettext_lazy("This field is required."),
        "error": ErrorDetail("Not a valid severity.", code="invalid"),
        "separators": "line\u2028paragraph\u2029end",
        "unicode": 'ünïcode — 🙂 "quoted" \\ <tag> \x00\x1f',
    },
    "nested": ReturnDict({"errors": {"status": [ErrorDetail("Pick one.", code="invalid_choice")]}}, serializer=None),
    "keys": {1: "one", None: "none"},
    "tuple": (1, "two"),
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_it_writes_the_same_bytes_as_drf(name):
    document = {name: DOCUMENTS[name]}
    assert OrjsonRenderer().render(document, "application/json") == JSONRenderer().render(document, "application/json")


def test_it_leaves_indented_json_to_drf():
    document = {"title": "ünïcode", "when": datetime(2026, 3, 1, tzinfo=UTC)}
    for media_type, context in (("application/json; indent=2", {}), ("application/json", {"indent": 4})):
        ours = OrjsonRenderer().render(document, media_type, context)
        assert ours == JSONRenderer().render(document, media_type, context)
        assert b"\n" in ours


def test_it_writes_what_orjson_cannot_as_drf_does():
    deep: list = []
    for _ in range(300):  # deeper than orjson's limit
        deep = [deep]
    for document in ({"deep": deep}, {"big": 2**70}):
        assert OrjsonRenderer().render(document) == JSONRenderer().render(document)


def test_it_refuses_what_drf_refuses():
    with pytest.raises(TypeError):
        OrjsonRenderer().render({"object": object()})


def test_it_writes_nothing_for_no_data():
    assert OrjsonRenderer().render(None) == b""
