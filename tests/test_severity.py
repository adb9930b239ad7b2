"""Severity vectors: parsing, the score's properties, and the worked examples in docs/severity.md."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from math import prod
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents.severity import (
    BAND_LABELS,
    BANDS,
    METRICS,
    VERSION,
    WEIGHTS,
    SeverityVector,
    SeverityVectorError,
    band_for,
    formula_for_js,
)

KEYS = [metric.key for metric in METRICS]
ALL_VECTORS = [SeverityVector(*combo) for combo in itertools.product(*[m.codes for m in METRICS])]

vectors = st.tuples(*[st.sampled_from(metric.codes) for metric in METRICS]).map(lambda combo: SeverityVector(*combo))

# Every vector quoted in docs/severity.md, with the score and band printed there.
WORKED_EXAMPLES = [
    ("OVR:1.0/IN:I/AC:O/RV:R/SC:S/HM:N/DC:D/AK:N", "0.0", "none"),
    ("OVR:1.0/IN:E/AC:O/RV:R/SC:S/HM:N/DC:D/AK:N", "2.1", "low"),
    ("OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "8.5", "high"),
    ("OVR:1.0/IN:E/AC:M/RV:C/SC:U/HM:S/DC:D/AK:N", "7.9", "high"),  # email agent deleting mail
    ("OVR:1.0/IN:E/AC:T/RV:R/SC:S/HM:N/DC:O/AK:N", "4.1", "medium"),  # shutdown script rewritten
    ("OVR:1.0/IN:P/AC:M/RV:R/SC:S/HM:N/DC:O/AK:Y", "4.8", "medium"),  # blackmail in a stress test
    ("OVR:1.0/IN:E/AC:T/RV:C/SC:O/HM:L/DC:O/AK:N", "6.8", "medium"),  # force-push to main
    ("OVR:1.0/IN:E/AC:T/RV:C/SC:O/HM:S/DC:O/AK:N", "8.1", "high"),  # ... had work been lost
    ("OVR:1.0/IN:I/AC:M/RV:I/SC:T/HM:C/DC:C/AK:N", "9.7", "critical"),
    ("OVR:1.0/IN:E/AC:M/RV:I/SC:T/HM:N/DC:C/AK:Y", "7.8", "high"),
    ("OVR:1.0/IN:I/AC:O/RV:R/SC:S/HM:C/DC:D/AK:N", "8.0", "high"),
    ("OVR:1.0/IN:E/AC:M/RV:I/SC:T/HM:C/DC:C/AK:Y", "10.0", "critical"),
]
CANONICAL = "OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y"


def worsen(vector: SeverityVector, key: str) -> SeverityVector | None:
    """The vector with one metric moved one step more severe, or None if it is already the worst."""
    codes = next(metric.codes for metric in METRICS if metric.key == key)
    position = codes.index(getattr(vector, key))
    if position == len(codes) - 1:
        return None
    return dataclasses.replace(vector, **{key: codes[position + 1]})


def documented_score(vector: SeverityVector) -> Decimal:
    """The formula as docs/severity.md states it, in exact fractions, rounded with ROUND_HALF_UP."""
    full = 100 ** len(METRICS)
    product = prod(100 - WEIGHTS[m.code][getattr(vector, m.key)] for m in METRICS)
    worst = prod(100 - max(WEIGHTS[m.code].values()) for m in METRICS)
    exact = 10 * (1 - Fraction(product, full)) / (1 - Fraction(worst, full))
    with localcontext() as context:
        context.prec = 50  # far more digits than the 14-digit integers involved, so no early rounding
        return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.1"), ROUND_HALF_UP)


# --- properties ---------------------------------------------------------------------------


@given(vectors, st.sampled_from(KEYS))
def test_it_never_lowers_the_score_when_a_metric_worsens(vector, key):
    worse = worsen(vector, key)
    if worse is not None:
        assert worse.score >= vector.score


def test_it_is_monotonic_over_every_possible_vector():
    # The space is small (2,592 vectors), so check every single step, not just a sample.
    for vector in ALL_VECTORS:
        for key in KEYS:
            worse = worsen(vector, key)
            if worse is not None:
                assert worse.score >= vector.score, (str(vector), key)


@given(vectors)
def test_it_round_trips_a_vector_through_its_string(vector):
    assert SeverityVector.parse(str(vector)) == vector


@given(st.tuples(*[st.sampled_from(metric.codes) for metric in METRICS]))
def test_it_round_trips_a_canonical_string_through_parse(combo):
    text = "/".join([f"OVR:{VERSION}", *(f"{m.code}:{code}" for m, code in zip(METRICS, combo, strict=True))])
    assert str(SeverityVector.parse(text)) == text


@given(vectors, st.randoms(use_true_random=False))
def test_it_parses_metrics_in_any_order(vector, random):
    segments = str(vector).split("/")[1:]
    random.shuffle(segments)
    assert SeverityVector.parse("/".join(["OVR:1.0", *segments])) == vector


@given(vectors)
def test_it_keeps_the_score_within_range_with_one_decimal_and_a_matching_band(vector):
    score = vector.score
    assert Decimal("0.0") <= score <= Decimal("10.0")
    assert score.as_tuple().exponent == -1
    assert vector.band == band_for(score)
    assert vector.band in BAND_LABELS


@given(vectors)
def test_it_computes_exactly_the_documented_formula(vector):
    assert vector.score == documented_score(vector)


def test_it_scores_zero_only_for_the_least_severe_vector():
    zero = [str(vector) for vector in ALL_VECTORS if vector.score == 0]
    assert zero == ["OVR:1.0/IN:I/AC:O/RV:R/SC:S/HM:N/DC:D/AK:N"]
    assert min(vector.score for vector in ALL_VECTORS if vector.score > 0) == Decimal("0.6")


def test_it_reaches_ten_only_for_the_most_severe_vector():
    ten = [str(vector) for vector in ALL_VECTORS if vector.score == 10]
    assert ten == ["OVR:1.0/IN:E/AC:M/RV:I/SC:T/HM:C/DC:C/AK:Y"]


def test_it_never_rates_an_override_without_realised_harm_as_critical():
    assert max(vector.score for vector in ALL_VECTORS if vector.harm == "N") < Decimal("9.0")


def test_it_reaches_every_band():
    assert {vector.band for vector in ALL_VECTORS} == set(BAND_LABELS)


# --- worked examples ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "score", "band"), WORKED_EXAMPLES)
def test_it_scores_the_worked_examples_as_documented(text, score, band):
    vector = SeverityVector.parse(text)
    assert str(vector.score) == score
    assert vector.band == band


def test_it_matches_every_example_table_row_in_the_docs():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "severity.md").read_text()
    rows = re.findall(r"^\|.*\| `(OVR:[^`]+)` \| ([\d.]+) \| (\w+) \|$", doc, flags=re.MULTILINE)
    assert len(rows) >= 4
    for text, score, label in rows:
        vector = SeverityVector.parse(text)
        assert (str(vector.score), BAND_LABELS[vector.band]) == (score, label), text


def test_it_rates_the_specification_example_high():
    assert SeverityVector.parse(CANONICAL).band == "high"


# --- parsing errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "vector is empty"),
        ("   \n", "vector is empty"),
        ("IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "vector must start with OVR:1.0"),
        ("ovr:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "vector must start with OVR:1.0"),
        ("OVR/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "vector must start with OVR:1.0"),
        ("OVR:/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "vector must start with OVR:1.0"),
        ("OVR:2.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "unsupported version OVR:2.0"),
        ("OVR:1.0/IN:E/AC:T/XX:Y/RV:I/SC:U/HM:S/DC:O/AK:Y", "unknown metric 'XX'"),
        ("OVR:1.0/in:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "unknown metric 'in'"),
        ("OVR:1.0/IN:E/AC:T/RV:I/RV:I/SC:U/HM:S/DC:O/AK:Y", "metric RV given twice"),
        ("OVR:1.0/IN:E/AC:T/RV:I/RV:C/SC:U/HM:S/DC:O/AK:Y", "metric RV given twice"),
        ("OVR:1.0/IN:E/AC:T/RV:I/SC:U/DC:O/AK:Y", "missing metric HM"),
        ("OVR:1.0/IN:E/AC:T/RV:I/SC:U/AK:Y", "missing metrics HM, DC"),
        ("OVR:1.0", "missing metrics IN, AC, RV, SC, HM, DC, AK"),
        ("OVR:1.0/IN:E/AC:T/RV:Q/SC:U/HM:S/DC:O/AK:Y", "RV:Q is not a valid value; expected one of R, C, I"),
        ("OVR:1.0/IN:e/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "IN:e is not a valid value; expected one of I, P, E"),
        ("OVR:1.0/IN:E/AC:T/RV:/SC:U/HM:S/DC:O/AK:Y", "RV: is not a valid value; expected one of R, C, I"),
        ("OVR:1.0/IN:E/AC:T/RV/SC:U/HM:S/DC:O/AK:Y", "metric RV has no value; write it as RV:<value>"),
        ("OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y/", "empty metric: check for a doubled or trailing '/'"),
        ("OVR:1.0//IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "empty metric: check for a doubled or trailing '/'"),
        ("OVR:1.0/IN:E/OVR:1.0/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "OVR:1.0 must appear only once, at the start"),
        ("OVR:1.0/IN :E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y", "unknown metric 'IN '"),
    ],
)
def test_it_explains_exactly_what_is_wrong_with_a_vector(text, message):
    with pytest.raises(SeverityVectorError) as caught:
        SeverityVector.parse(text)
    assert str(caught.value) == message


def test_it_rejects_a_non_string():
    with pytest.raises(SeverityVectorError, match="vector must be a string, got NoneType"):
        SeverityVector.parse(None)  # type: ignore[arg-type]


def test_it_forgives_surrounding_whitespace_only():
    assert str(SeverityVector.parse(f"  {CANONICAL}\n")) == CANONICAL


def test_it_is_a_value_error():
    assert issubclass(SeverityVectorError, ValueError)


# --- construction -------------------------------------------------------------------------


def test_it_validates_values_on_construction():
    values = SeverityVector.parse(CANONICAL).as_dict() | {"reversibility": "Q"}
    with pytest.raises(SeverityVectorError) as caught:
        SeverityVector(**values)
    assert str(caught.value) == "RV:Q is not a valid value; expected one of R, C, I"


def test_it_rejects_a_non_string_value_on_construction():
    values = SeverityVector.parse(CANONICAL).as_dict() | {"harm": None}
    with pytest.raises(SeverityVectorError, match=r"^HM:None is not a valid value; expected one of N, L, S, C$"):
        SeverityVector(**values)


def test_it_builds_the_same_vector_from_choices():
    vector = SeverityVector.parse(CANONICAL)
    assert SeverityVector.from_choices(**vector.as_dict()) == vector


def test_it_reports_blank_choices_as_missing():
    values = SeverityVector.parse(CANONICAL).as_dict() | {"harm": "", "disclosure": None}
    with pytest.raises(SeverityVectorError) as caught:
        SeverityVector.from_choices(**values)
    assert str(caught.value) == "missing metrics HM, DC"


def test_it_reports_an_unknown_choice():
    values = SeverityVector.parse(CANONICAL).as_dict() | {"colour": "red"}
    with pytest.raises(SeverityVectorError) as caught:
        SeverityVector.from_choices(**values)
    assert str(caught.value) == "unknown metric 'colour'"


def test_it_gives_a_dict_keyed_by_metric_key_in_vector_order():
    assert SeverityVector.parse(CANONICAL).as_dict() == {
        "instruction": "E",
        "action": "T",
        "reversibility": "I",
        "scope": "U",
        "harm": "S",
        "disclosure": "O",
        "acknowledgement": "Y",
    }


# --- metrics, weights and bands -----------------------------------------------------------


def test_it_lists_metrics_in_vector_order_matching_the_fields():
    assert [m.code for m in METRICS] == ["IN", "AC", "RV", "SC", "HM", "DC", "AK"]
    assert [f.name for f in dataclasses.fields(SeverityVector)] == KEYS


def test_it_orders_values_from_least_to_most_severe():
    assert {m.code: m.codes for m in METRICS} == {
        "IN": ("I", "P", "E"),
        "AC": ("O", "T", "M"),
        "RV": ("R", "C", "I"),
        "SC": ("S", "U", "O", "T"),
        "HM": ("N", "L", "S", "C"),
        "DC": ("D", "O", "C"),
        "AK": ("N", "Y"),
    }


def test_it_weights_every_value_strictly_more_than_the_one_before():
    for metric in METRICS:
        weights = [WEIGHTS[metric.code][code] for code in metric.codes]
        assert list(WEIGHTS[metric.code]) == list(metric.codes)
        assert weights[0] == 0
        assert all(a < b for a, b in itertools.pairwise(weights)), metric.code
        assert all(isinstance(w, int) and 0 <= w < 100 for w in weights)


def test_it_gives_every_metric_a_label_and_one_sentence_of_help():
    for metric in METRICS:
        assert metric.label and all(label for _, label in metric.values)
        assert metric.help_text.endswith(".") and metric.help_text.count(". ") == 0


@pytest.mark.parametrize(
    ("score", "band"),
    [
        ("0.0", "none"),
        ("0.1", "low"),
        ("3.9", "low"),
        ("4.0", "medium"),
        ("6.9", "medium"),
        ("7.0", "high"),
        ("8.9", "high"),
        ("9.0", "critical"),
        ("10.0", "critical"),
    ],
)
def test_it_bands_scores_like_cvss(score, band):
    assert band_for(Decimal(score)) == band


@pytest.mark.parametrize("score", ["-0.1", "10.1"])
def test_it_refuses_to_band_an_out_of_range_score(score):
    with pytest.raises(ValueError, match=r"^score must be between 0\.0 and 10\.0, got "):
        band_for(Decimal(score))


def test_it_labels_every_band():
    assert [name for name, _ in BANDS] == list(BAND_LABELS)
    assert BAND_LABELS["none"] == "None"


# --- the browser calculator's formula -------------------------------------------------------


def test_it_gives_the_browser_a_json_serialisable_formula():
    formula = formula_for_js()
    assert json.loads(json.dumps(formula)) == formula


def test_it_gives_the_browser_the_same_weights_bands_and_version():
    formula = formula_for_js()
    assert formula["version"] == VERSION
    assert formula["prefix"] == f"OVR:{VERSION}"
    assert formula["scale"] == 100
    assert [(m["key"], m["code"], m["weights"]) for m in formula["metrics"]] == [
        (m.key, m.code, WEIGHTS[m.code]) for m in METRICS
    ]
    assert formula["bands"] == [[name, int(lower * 10)] for name, lower in BANDS]
    assert formula["band_labels"] == BAND_LABELS
