"""Deterministic redaction of transcripts: personal data and secrets become typed placeholders.

``redact_turns(turns, terms=...)`` returns new turns in which emails, phone numbers, card numbers,
IBANs, IP addresses, secrets and the listed terms (names, addresses) are replaced by placeholders
such as ``[EMAIL_1]``. The same value gets the same placeholder everywhere in the transcript, so the
redacted form stays readable. Redaction is idempotent: placeholders are never detected again and
redacting the output changes nothing. What each detector recognises, and misses: docs/redaction.md.
"""

from __future__ import annotations

import bisect
import copy
import ipaddress
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import phonenumbers

# Also the tie-break order when two detections cover exactly the same text.
KINDS = ("SECRET", "EMAIL", "IBAN", "CARD", "IP", "PHONE", "NAME")
_PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}

PLACEHOLDER = re.compile(r"\[(" + "|".join(KINDS) + r")_([0-9]+)\]")

# Turn fields that hold free text or data; everything else (index, role, ids, tool names,
# timestamps) is structure and is copied as is.
TEXT_FIELDS = ("content", "reasoning")

# Phone numbers written with a leading "+" are found whatever the region; these regions decide how
# national numbers such as "(212) 555-0123" or "020 7946 0958" are read.
PHONE_REGIONS = ("US", "GB")

# High-entropy strings: thresholds measured against random keys and against identifiers, paths
# and file names from real code (see docs/redaction.md).
ENTROPY_MIN_LENGTH = 24
ENTROPY_MIN_BITS = 3.7
ENTROPY_MAX_MEAN_PIECE = 2.5
ENTROPY_MAX_VOWEL_SHARE = 0.15

# Detecting a kind in a string that holds a placeholder can change what follows it, so a string is
# redacted until nothing more is found; each round removes detected text, so this bound is never
# reached in practice.
_MAX_ROUNDS = 8


@dataclass
class Redaction:
    turns: list[dict]
    # Placeholders issued by this call, per kind, e.g. {"EMAIL": 3}.
    counts: dict[str, int] = field(default_factory=dict)


def redact_turns(turns: list[dict], *, terms: Sequence[str] = ()) -> Redaction:
    """Redacted copies of ``turns`` (the input is not modified), numbered in reading order."""
    redactor = _Redactor(terms)
    for turn in turns:
        for value in _redactable_values(turn):
            redactor.note_existing(value)
    redacted = [redactor.turn(turn) for turn in turns]
    return Redaction(turns=redacted, counts=dict(redactor.counts))


def redact_text(text: str, *, terms: Sequence[str] = ()) -> str:
    """One string redacted on its own (placeholders consistent within it)."""
    redactor = _Redactor(terms)
    redactor.note_existing(text)
    return redactor.text(text)


def _redactable_values(turn: dict) -> Iterator[Any]:
    for name in TEXT_FIELDS:
        yield turn.get(name)
    for call in turn.get("tool_calls") or []:
        yield call.get("arguments") if isinstance(call, dict) else call
    for block in turn.get("raw") or []:
        yield {k: v for k, v in block.items() if k != "type"} if isinstance(block, dict) else block


# --- Detectors ------------------------------------------------------------------------------------


class _Hit(NamedTuple):
    start: int
    end: int
    kind: str
    key: str  # the normalised value: equal keys share a placeholder


# Private key blocks, whole; a block cut off before its END line is redacted to its last base64 line.
_PEM = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----"
    r"(?:.*?-----END \1-----|(?:[ \t]*(?:\r?\n|\\r\\n|\\n)[ \t]*[A-Za-z0-9+/=:,-]{1,80})*)",
    re.DOTALL,
)

# Provider keys, recognised by their documented prefixes.
_PROVIDER_PATTERNS = (
    r"sk-ant-[a-z]{2,8}[0-9]{2}-[A-Za-z0-9_-]{20,}",  # Anthropic
    r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}",  # OpenAI project and service keys
    r"sk-[A-Za-z0-9]{20,}",  # OpenAI (legacy) and the many APIs that copied the format
    r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}",  # Stripe secret and restricted keys
    r"whsec_[A-Za-z0-9+/=]{20,}",  # Stripe webhook secrets
    r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{30,}",
    r"gl(?:pat|dt|rt|ptt|soat|cbt|oas)-[A-Za-z0-9_-]{20,}",  # GitLab
    r"xox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
    r"xapp-[0-9]-[A-Za-z0-9-]{10,}",
    r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",  # AWS access key ids
    r"AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])",  # Google API keys
    r"ya29\.[A-Za-z0-9_-]{20,}",  # Google OAuth access tokens
    r"GOCSPX-[A-Za-z0-9_-]{20,}",  # Google OAuth client secrets
    r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
    r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])",
    r"pypi-[A-Za-z0-9_-]{50,}",
    r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",  # SendGrid
    r"key-[0-9a-f]{32}(?![A-Za-z0-9])",  # Mailgun
    r"do[opr]_v1_[a-f0-9]{64}",  # DigitalOcean
    r"shp(?:at|ca|pa|ss)_[A-Fa-f0-9]{32}",  # Shopify
    r"gsk_[A-Za-z0-9]{40,}",  # Groq
    r"r8_[A-Za-z0-9]{30,}",  # Replicate
    r"xai-[A-Za-z0-9]{40,}",  # xAI
    r"pplx-[A-Za-z0-9]{40,}",  # Perplexity
    r"dapi[a-f0-9]{32}(?![A-Za-z0-9])",  # Databricks
    r"lin_api_[A-Za-z0-9]{30,}",  # Linear
    r"ntn_[A-Za-z0-9]{30,}",  # Notion
    r"ATATT3[A-Za-z0-9_=-]{30,}",  # Atlassian
    # Webhook URLs are credentials: the host stays readable, the path goes.
    r"(?<=hooks\.slack\.com/)(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}",
    r"(?<=/api/webhooks/)[0-9]{5,}/[A-Za-z0-9_-]{20,}",  # Discord
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",  # JWT: header.payload.signature
)
_PROVIDER = re.compile(r"(?<![A-Za-z0-9_-])(?:" + "|".join(_PROVIDER_PATTERNS) + ")")

# Bearer tokens (header or prose) and the value of an Authorization header.
_BEARER = re.compile(
    r"(?i:\bauthorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|bot|digest)\s+)?|\bbearer\s+)"
    r"(?P<v>[A-Za-z0-9._~+/:-]{8,}=*)"
)

# "scheme://user:password@host": only "user:password" goes, so the URL stays readable.
_URL_CREDENTIALS = re.compile(r"(?<=://)(?P<v>[^\s:/?#@\[\]\"'<>]+:[^\s/?#@\"'<>]+)@")

# The value of password=, api_key: ... assignments (config files, JSON, env, YAML, query strings).
_SECRET_KEY = (
    r"(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|auth[_-]?key|client[_-]?secret|credentials?)"
)
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.-])(?:[A-Za-z0-9]+[_.-])*" + _SECRET_KEY + r"(?![A-Za-z0-9])"
    r"(?:\\?[\"'])?[ \t]*(?P<op>:=|=>|[:=])(?!=)[ \t]*"
    r"(?:\\?\"(?P<dq>[^\"\\\r\n]{1,500})|'(?P<sq>[^'\\\r\n]{1,500})'|(?P<bare>[^\s\"',;&<>\[\]{}()`]{1,500}))",
    re.IGNORECASE,
)
_CLI_SECRET = re.compile(
    r"(?<![A-Za-z0-9_-])--?(?:[A-Za-z0-9]+-)*"
    + _SECRET_KEY
    + r"(?![A-Za-z0-9_-])[ \t]+(?P<bare>[^\s\"'`<>\[\]{}()-][^\s\"'`<>\[\]{}()]*)",
    re.IGNORECASE,
)
_NOT_SECRET_VALUES = frozenset(
    {"null", "none", "nil", "true", "false", "undefined", "redacted", "required", "optional", "string", "str"}
    | {"int", "bool", "yes", "no", "secret", "password", "token", "env"}
)
_MASKED = re.compile(r"[*x•.#-]+", re.IGNORECASE)

# Candidates for the high-entropy test: long runs of base64/base64url characters.
_ENTROPY_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/_=-])")
_HEXISH = re.compile(r"[0-9A-Fa-f-]+")  # git SHAs, digests, UUIDs: identifiers, not secrets
_PIECE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
# Object ids of model APIs (tool calls, messages, responses) and subresource-integrity hashes.
_ID_PREFIXES = (
    "call_",
    "toolu_",
    "srvtoolu_",
    "msg_",
    "chatcmpl-",
    "resp_",
    "run_",
    "thread_",
    "asst_",
    "file-",
    "req_",
    "fc_",
    "rs_",
    "batch_",
    "ftjob-",
    "sha256-",
    "sha384-",
    "sha512-",
)
# A high-entropy run inside a URL is part of an address (ids, slugs); secrets in URLs are caught
# by the prefix, credential and assignment detectors instead.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}://[^\s<>\"'`]+")

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}(?![A-Za-z0-9-])"
)

_IPV4 = re.compile(r"(?<![A-Za-z0-9_.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![A-Za-z0-9_]|\.[0-9])")
_IPV6 = re.compile(
    r"(?<![A-Za-z0-9_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?"
    r"(?![A-Za-z0-9_:]|\.[0-9])"
)

# Grouped as printed (4-4-4-4[-3], Amex 4-6-5, Diners 4-6-4) or as one run of 13–19 digits.
_CARD = re.compile(
    r"(?<![0-9A-Za-z_.,-])"
    r"(?:[0-9]{13,19}"
    r"|[0-9]{4}(?P<s>[ -])[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{1,4}(?:(?P=s)[0-9]{1,3})?"
    r"|[0-9]{4}(?P<t>[ -])[0-9]{6}(?P=t)[0-9]{4,5})"
    r"(?![0-9A-Za-z_]|[.,][0-9])"
)

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
# ISO 13616 registry: country code → IBAN length.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

# Phone candidates: digits with the usual separators, not glued to words, ids, paths or decimals.
_PHONE_CANDIDATE = re.compile(r"(?<![A-Za-z0-9_+#/.-])(?:\+|\()?[0-9][0-9 ().-]{5,22}[0-9](?![0-9A-Za-z_]|[.-][0-9])")
_DATE_LIKE = re.compile(r"[0-9]{4}[-./ ][0-9]{1,2}[-./ ][0-9]{1,2}|[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{2,4}")


def _secrets(text: str) -> Iterator[_Hit]:
    for m in _PEM.finditer(text):
        yield _Hit(m.start(), m.end(), "SECRET", m.group())
    for m in _PROVIDER.finditer(text):
        yield _Hit(m.start(), m.end(), "SECRET", m.group())
    for m in _BEARER.finditer(text):
        value = m["v"]
        # "bearer" is also an English word: the token must look like one.
        if len(value) >= 20 or any(c.isdigit() for c in value):
            yield _Hit(m.start("v"), m.end("v"), "SECRET", value)
    for m in _URL_CREDENTIALS.finditer(text):
        yield _Hit(m.start("v"), m.end("v"), "SECRET", m["v"])
    for m in _ASSIGNMENT.finditer(text):
        group = "dq" if m["dq"] is not None else "sq" if m["sq"] is not None else "bare"
        value = m[group]
        # "Password: required" is prose; an unquoted value after a colon must look like a secret.
        if group == "bare" and m["op"] == ":" and not _looks_like_password(value):
            continue
        if _is_secret_value(value):
            yield _Hit(m.start(group), m.end(group), "SECRET", value)
    for m in _CLI_SECRET.finditer(text):
        if _is_secret_value(m["bare"]):
            yield _Hit(m.start("bare"), m.end("bare"), "SECRET", m["bare"])
    urls = [(m.start(), m.end()) for m in _URL.finditer(text)] if "://" in text else []
    url_starts = [start for start, _ in urls]
    for m in _ENTROPY_RUN.finditer(text):
        if urls:
            i = bisect.bisect_right(url_starts, m.start()) - 1
            if i >= 0 and urls[i][1] > m.start():
                continue
        if _looks_random(m.group()):
            yield _Hit(m.start(), m.end(), "SECRET", m.group())


def _is_secret_value(value: str) -> bool:
    value = value.strip()
    return bool(value) and value.lower() not in _NOT_SECRET_VALUES and not _MASKED.fullmatch(value) and value[0] != "$"


def _looks_like_password(value: str) -> bool:
    has_upper, has_lower = any(c.isupper() for c in value), any(c.islower() for c in value)
    return len(value) >= 6 and (not value.isalpha() or (has_upper and has_lower and not value.istitle()))


@lru_cache(maxsize=4096)
def _looks_random(token: str) -> bool:
    core = token.rstrip("=")
    if len(core) < ENTROPY_MIN_LENGTH or core.startswith(_ID_PREFIXES) or _HEXISH.fullmatch(core):
        return False
    letters = [c for c in core if c.isascii() and c.isalpha()]
    if not letters or not any(c.isdigit() for c in core):
        return False
    if _entropy(core) < ENTROPY_MIN_BITS:
        return False
    # Identifiers, paths and file names are made of words: long letter runs, enough vowels.
    pieces = _PIECE.findall(core)
    mean_piece = sum(map(len, pieces)) / len(pieces)
    vowel_share = sum(c in "aeiouAEIOU" for c in letters) / len(letters)
    return mean_piece <= ENTROPY_MAX_MEAN_PIECE or vowel_share <= ENTROPY_MAX_VOWEL_SHARE


def _entropy(text: str) -> float:
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _emails(text: str) -> Iterator[_Hit]:
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield _Hit(m.start(), m.end(), "EMAIL", m.group().lower())


def _ips(text: str) -> Iterator[_Hit]:
    if "." in text:
        for m in _IPV4.finditer(text):
            yield from _ip_hit(m)
    if "::" in text or text.count(":") >= 7:
        for m in _IPV6.finditer(text):
            yield from _ip_hit(m)


def _ip_hit(m: re.Match) -> Iterator[_Hit]:
    try:
        address = ipaddress.ip_address(m.group())
    except ValueError:
        return
    # Loopback and "any" addresses identify nobody and keep logs readable.
    if not (address.is_loopback or address.is_unspecified):
        yield _Hit(m.start(), m.end(), "IP", address.compressed)


def _cards(text: str) -> Iterator[_Hit]:
    for m in _overlapping(_CARD, text):
        digits = re.sub(r"[ -]", "", m.group())
        # Issuer digit 2–6 covers the card networks and leaves out 13-digit millisecond timestamps.
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and len(set(digits)) > 1 and _luhn(digits):
            yield _Hit(m.start(), m.end(), "CARD", digits)


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _ibans(text: str) -> Iterator[_Hit]:
    for m in _overlapping(_IBAN, text):
        raw = m.group()
        length = _IBAN_LENGTHS.get(raw[:2])
        if length is None:
            continue
        # The match may run into following groups of the sentence: cut at the country's length.
        seen, end = 0, 0
        for end, char in enumerate(raw, start=1):  # noqa: B007 - end is used after the loop
            seen += char != " "
            if seen == length:
                break
        if seen != length or (end < len(raw) and raw[end] != " "):
            continue
        compact = raw[:end].replace(" ", "")
        if int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 == 1:
            yield _Hit(m.start(), m.start() + end, "IBAN", compact)


def _overlapping(pattern: re.Pattern, text: str) -> Iterator[re.Match]:
    """Matches of ``pattern``, retrying one character on after a match the caller may reject."""
    position = 0
    while (m := pattern.search(text, position)) is not None:
        yield m
        position = m.start() + 1


def _phones(text: str) -> Iterator[_Hit]:
    for m in _PHONE_CANDIDATE.finditer(text):
        candidate = m.group()
        # Bare digit runs are mostly ids and order numbers: a phone number has a "+" or separators.
        if candidate[0] != "+" and candidate.isdigit():
            continue
        if not 7 <= sum(c.isdigit() for c in candidate) <= 15 or _DATE_LIKE.match(candidate):
            continue
        for start, end, key in _phone_matches(candidate):
            yield _Hit(m.start() + start, m.start() + end, "PHONE", key)


@lru_cache(maxsize=4096)
def _phone_matches(candidate: str) -> tuple[tuple[int, int, str], ...]:
    found: dict[tuple[int, int], str] = {}
    for region in PHONE_REGIONS:
        # STRICT_GROUPING: the digits must be grouped as the number is written in its country,
        # which rejects dates, times and version-like digit groups that happen to be valid numbers.
        for match in phonenumbers.PhoneNumberMatcher(candidate, region, leniency=phonenumbers.Leniency.STRICT_GROUPING):
            key = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found.setdefault((match.start, match.end), key)
    return tuple((start, end, key) for (start, end), key in found.items())


def _terms_pattern(terms: Sequence[str]) -> re.Pattern | None:
    if isinstance(terms, str):
        terms = [terms]
    unique: dict[str, str] = {}
    for term in terms:
        term = " ".join(str(term).split())
        if len(term) >= 2:
            unique.setdefault(term.casefold(), term)
    if not unique:
        return None
    parts = []
    # Longest first, so "Sarah Chen" wins over "Sarah" at the same place.
    for term in sorted(unique.values(), key=lambda t: (-len(t), t)):
        body = r"\s+".join(re.escape(word) for word in term.split(" "))
        # Word boundaries only where the term starts or ends with a word character.
        parts.append(
            (r"(?<!\w)" if term[0].isalnum() or term[0] == "_" else "")
            + body
            + (r"(?!\w)" if term[-1].isalnum() or term[-1] == "_" else "")
        )
    return re.compile("|".join(parts), re.IGNORECASE)


# --- Replacement ----------------------------------------------------------------------------------


class _Redactor:
    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = _terms_pattern(terms)
        self.placeholders: dict[tuple[str, str], str] = {}
        self.last: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.counts: dict[str, int] = {}

    def note_existing(self, value: Any) -> None:
        """Number new placeholders after those already present, so they never collide."""
        if isinstance(value, str):
            if "[" in value:
                for m in PLACEHOLDER.finditer(value):
                    self.last[m[1]] = max(self.last[m[1]], int(m[2]))
        elif isinstance(value, dict):
            for item in value.values():
                self.note_existing(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self.note_existing(item)

    def turn(self, turn: dict) -> dict:
        out = {}
        for name, value in turn.items():
            if name in TEXT_FIELDS:
                out[name] = self.value(value)
            elif name == "tool_calls" and isinstance(value, list):
                out[name] = [self._tool_call(call) for call in value]
            elif name == "raw" and isinstance(value, list):
                out[name] = [self._raw_block(block) for block in value]
            else:
                out[name] = copy.deepcopy(value)
        return out

    def _tool_call(self, call: Any) -> Any:
        if not isinstance(call, dict):
            return self.value(call)
        return {k: self.value(v) if k == "arguments" else copy.deepcopy(v) for k, v in call.items()}

    def _raw_block(self, block: Any) -> Any:
        if not isinstance(block, dict):
            return self.value(block)
        return {k: copy.deepcopy(v) if k == "type" else self.value(v) for k, v in block.items()}

    def value(self, value: Any) -> Any:
        """Strings redacted through dicts and lists; keys, numbers and other scalars kept."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        return copy.deepcopy(value)

    def text(self, text: str) -> str:
        for _ in range(_MAX_ROUNDS):
            redacted = self._round(text)
            if redacted == text:
                break
            text = redacted
        return text

    def _round(self, text: str) -> str:
        hits = list(self._hits(text))
        if not hits:
            return text
        protected = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)] if "[" in text else []
        protected_starts = [start for start, _ in protected]
        # Leftmost-longest, ties by kind: an email beats a term inside it, a URL's credentials beat
        # the "password@host" that looks like an email.
        hits.sort(key=lambda h: (h.start, -h.end, _PRIORITY[h.kind]))
        parts, position = [], 0
        for hit in hits:
            if hit.start < position or hit.start == hit.end:
                continue
            if protected:
                i = bisect.bisect_left(protected_starts, hit.end) - 1
                if i >= 0 and protected[i][1] > hit.start:
                    continue  # never re-detect inside a placeholder
            parts.append(text[position : hit.start])
            parts.append(self._placeholder(hit.kind, hit.key))
            position = hit.end
        if not parts:
            return text
        parts.append(text[position:])
        return "".join(parts)

    def _hits(self, text: str) -> Iterator[_Hit]:
        yield from _secrets(text)
        yield from _emails(text)
        yield from _ibans(text)
        yield from _cards(text)
        yield from _ips(text)
        yield from _phones(text)
        if self.terms is not None:
            for m in self.terms.finditer(text):
                yield _Hit(m.start(), m.end(), "NAME", " ".join(m.group().casefold().split()))

    def _placeholder(self, kind: str, key: str) -> str:
        placeholder = self.placeholders.get((kind, key))
        if placeholder is None:
            self.last[kind] += 1
            self.counts[kind] = self.counts.get(kind, 0) + 1
            placeholder = self.placeholders[(kind, key)] = f"[{kind}_{self.last[kind]}]"
        return placeholder
