"""Severity vectors: a CVSS-like, versioned rating for instruction overrides.

A vector such as ``OVR:1.0/IN:E/AC:T/RV:I/SC:U/HM:S/DC:O/AK:Y`` records seven metrics.
Each metric value carries an integer weight ``w`` (a percentage, 0 <= w < 100) and the score is

    score = 10 * (1 - prod(100 - w) / 100**7) / (1 - prod(100 - w_max) / 100**7)

rounded half-up to one decimal. It is computed with integers only, so the browser calculator
(static/incidents/severity.js, fed by ``formula_for_js()``) reproduces it exactly.
See docs/severity.md for the rationale, the monotonicity argument and worked examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from math import prod
from typing import Any

VERSION = "1.0"
PREFIX = f"OVR:{VERSION}"


class SeverityVectorError(ValueError):
    """A vector string or a set of metric choices is not a valid severity vector."""


@dataclass(frozen=True)
class Metric:
    key: str
    code: str
    label: str
    help_text: str
    # (code, human label), least severe first: the order defines "worse" for monotonicity.
    values: tuple[tuple[str, str], ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.values)


METRICS: tuple[Metric, ...] = (
    Metric(
        "instruction",
        "IN",
        "Instruction",
        "What the AI overrode; an explicit instruction from its user is the clearest, so the worst to break.",
        (("I", "Implied expectation"), ("P", "Operator policy"), ("E", "Explicit user instruction")),
    ),
    Metric(
        "action",
        "AC",
        "Action",
        "How the AI carried out the override: in its output, through a tool, or over autonomous steps.",
        (("O", "Output only"), ("T", "Tool action"), ("M", "Multi-step autonomous")),
    ),
    Metric(
        "reversibility",
        "RV",
        "Reversibility",
        "How hard it is to undo what the AI actually did.",
        (("R", "Reversible"), ("C", "Costly to reverse"), ("I", "Irreversible")),
    ),
    Metric(
        "scope",
        "SC",
        "Scope",
        "The widest circle that the override actually reached.",
        (
            ("S", "This session only"),
            ("U", "The user's own assets"),
            ("O", "The organisation"),
            ("T", "Third parties or the public"),
        ),
    ),
    Metric(
        "harm",
        "HM",
        "Harm realised",
        "How much harm actually happened, not how much could have.",
        (("N", "None"), ("L", "Limited"), ("S", "Significant"), ("C", "Critical")),
    ),
    Metric(
        "disclosure",
        "DC",
        "Disclosure",
        "Whether the AI's own account made the override visible, left it out, or hid or denied it.",
        (("D", "Disclosed by the AI"), ("O", "Omitted"), ("C", "Concealed or denied")),
    ),
    Metric(
        "acknowledgement",
        "AK",
        "Acknowledged first",
        "Whether the AI acknowledged the instruction before breaking it; knowingly breaking it is worse.",
        (("N", "No"), ("Y", "Yes")),
    ),
)

_BY_CODE = {metric.code: metric for metric in METRICS}
_BY_KEY = {metric.key: metric for metric in METRICS}

# Percentage weights, one per value in the same order as Metric.values (strictly increasing, < 100).
# Harm dominates so that realised damage outweighs conduct; no value reaches 100 so that every
# other metric still counts. Changing any number here is a new formula and needs a new VERSION.
WEIGHTS: dict[str, dict[str, int]] = {
    "IN": {"I": 0, "P": 10, "E": 20},
    "AC": {"O": 0, "T": 12, "M": 22},
    "RV": {"R": 0, "C": 10, "I": 20},
    "SC": {"S": 0, "U": 6, "O": 12, "T": 20},
    "HM": {"N": 0, "L": 25, "S": 50, "C": 75},
    "DC": {"D": 0, "O": 12, "C": 25},
    "AK": {"N": 0, "Y": 10},
}

_SCALE = 100  # weights are percentages
_FULL = _SCALE ** len(METRICS)  # product of the factors when every weight is 0
_WORST = prod(_SCALE - max(WEIGHTS[m.code].values()) for m in METRICS)  # the worst vector

# Lower bound of each band, as in CVSS v3: none is exactly 0.0.
BANDS: tuple[tuple[str, Decimal], ...] = (
    ("none", Decimal("0.0")),
    ("low", Decimal("0.1")),
    ("medium", Decimal("4.0")),
    ("high", Decimal("7.0")),
    ("critical", Decimal("9.0")),
)
BAND_LABELS: dict[str, str] = {
    "none": "None",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "critical": "Critical",
}


def band_for(score: Decimal) -> str:
    """The highest band whose lower bound the score reaches."""
    if not Decimal(0) <= score <= Decimal(10):
        raise ValueError(f"score must be between 0.0 and 10.0, got {score}")
    band = BANDS[0][0]
    for name, lower in BANDS:
        if score >= lower:
            band = name
    return band


def _score_tenths(codes: dict[str, str]) -> int:
    """The score in tenths, from metric code -> value code.

    Keep this arithmetic identical to scoreTenths() in static/incidents/severity.js: integers only
    (BigInt there), so both sides agree to the last digit without a shared float implementation.
    """
    product = prod(_SCALE - WEIGHTS[code][value] for code, value in codes.items())
    numerator = 100 * (_FULL - product)  # 100 tenths = 10.0
    denominator = _FULL - _WORST
    # floor(n/d + 1/2): ROUND_HALF_UP on the exact rational, valid because n, d >= 0.
    return (2 * numerator + denominator) // (2 * denominator)


def _missing(codes: list[str]) -> SeverityVectorError:
    noun = "metric" if len(codes) == 1 else "metrics"
    return SeverityVectorError(f"missing {noun} {', '.join(codes)}")


def _invalid_value(metric: Metric, value: object) -> SeverityVectorError:
    return SeverityVectorError(f"{metric.code}:{value} is not a valid value; expected one of {', '.join(metric.codes)}")


@dataclass(frozen=True)
class SeverityVector:
    """One rating. Fields are named by Metric.key and hold value codes, e.g. instruction="E"."""

    instruction: str
    action: str
    reversibility: str
    scope: str
    harm: str
    disclosure: str
    acknowledgement: str

    def __post_init__(self) -> None:
        for metric in METRICS:
            value = getattr(self, metric.key)
            if not isinstance(value, str) or value not in metric.codes:
                raise _invalid_value(metric, value)

    @classmethod
    def parse(cls, text: str) -> SeverityVector:
        """Parse a vector string: version prefix first, then every metric exactly once, any order.

        Only surrounding whitespace is forgiven; codes are case-sensitive, as in CVSS.
        """
        if not isinstance(text, str):
            raise SeverityVectorError(f"vector must be a string, got {type(text).__name__}")
        text = text.strip()
        if not text:
            raise SeverityVectorError("vector is empty")
        head, *parts = text.split("/")
        if not head.startswith("OVR:") or head == "OVR:":
            raise SeverityVectorError(f"vector must start with {PREFIX}")
        if head != PREFIX:
            raise SeverityVectorError(f"unsupported version {head}")
        found: dict[str, str] = {}
        for part in parts:
            if not part:
                raise SeverityVectorError("empty metric: check for a doubled or trailing '/'")
            code, colon, value = part.partition(":")
            if code == "OVR":
                raise SeverityVectorError(f"{PREFIX} must appear only once, at the start")
            metric = _BY_CODE.get(code)
            if metric is None:
                raise SeverityVectorError(f"unknown metric {code!r}")
            if code in found:
                raise SeverityVectorError(f"metric {code} given twice")
            if not colon:
                raise SeverityVectorError(f"metric {code} has no value; write it as {code}:<value>")
            if value not in metric.codes:
                raise _invalid_value(metric, value)
            found[code] = value
        missing = [metric.code for metric in METRICS if metric.code not in found]
        if missing:
            raise _missing(missing)
        return cls(**{metric.key: found[metric.code] for metric in METRICS})

    @classmethod
    def from_choices(cls, **values: Any) -> SeverityVector:
        """Build from form-style choices keyed by Metric.key; blank or None counts as missing."""
        for key in values:
            if key not in _BY_KEY:
                raise SeverityVectorError(f"unknown metric {key!r}")
        missing = [metric.code for metric in METRICS if values.get(metric.key) in (None, "")]
        if missing:
            raise _missing(missing)
        return cls(**values)

    def __str__(self) -> str:
        return "/".join([PREFIX, *(f"{metric.code}:{getattr(self, metric.key)}" for metric in METRICS)])

    @property
    def score(self) -> Decimal:
        """0.0 to 10.0, one decimal place."""
        tenths = _score_tenths({metric.code: getattr(self, metric.key) for metric in METRICS})
        return Decimal(tenths).scaleb(-1)

    @property
    def band(self) -> str:
        return band_for(self.score)

    def as_dict(self) -> dict[str, str]:
        return {metric.key: getattr(self, metric.key) for metric in METRICS}


def formula_for_js() -> dict[str, Any]:
    """Everything static/incidents/severity.js needs, so the weights live only in this module.

    The JS combines these numbers with the same integer arithmetic as _score_tenths().
    """
    return {
        "version": VERSION,
        "prefix": PREFIX,
        "scale": _SCALE,
        "metrics": [
            {"key": metric.key, "code": metric.code, "weights": dict(WEIGHTS[metric.code])} for metric in METRICS
        ],
        # Lower bounds in tenths, so the browser never compares decimals.
        "bands": [[name, int(lower * 10)] for name, lower in BANDS],
        "band_labels": dict(BAND_LABELS),
    }
