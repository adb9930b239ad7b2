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
from itertools import pairwise
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
ENTROPY_MIN_SWITCH_RATE = 0.25  # letter/digit alternations per character

# Secrets found by their context (password=…, Bearer …, user:password@) are also redacted wherever
# the same value recurs on its own, within these bounds.
ECHO_MIN_LENGTH = 6
ECHO_MAX_LENGTH = 200
ECHO_MAX_VALUES = 1000

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
    # A secret learnt from its context (password=… in turn 9) is also redacted where it recurs on
    # its own, in earlier turns too: one more pass over the strings that hold such a value.
    for _ in range(_MAX_ROUNDS):
        if not redactor.compile_echoes():
            break
        redacted = redactor.recheck(redacted)
    return Redaction(turns=redacted, counts=dict(redactor.counts))


def redact_text(text: str, *, terms: Sequence[str] = ()) -> str:
    """One string redacted on its own (placeholders consistent within it)."""
    redactor = _Redactor(terms)
    redactor.note_existing(text)
    text = redactor.text(text)
    for _ in range(_MAX_ROUNDS):
        if not redactor.compile_echoes():
            break
        text = redactor.text(text)
    return text


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
    # Secrets found by their context (password=…) are also redacted where they recur on their own.
    echo: tuple[str, ...] = ()


def _start(first: str, not_after: str) -> str:
    """``first`` (one character or class) when the character before it is not in ``not_after``.

    The check comes after the first character rather than as a leading lookbehind so that ``re``
    can skip ahead to candidate characters: three times faster on large transcripts.
    """
    return f"{first}(?<!{not_after}.)"


# Private key blocks, whole, from BEGIN to the matching END line (found by position, not by a lazy
# ".*?", which would make many BEGIN lines without an END quadratic); a block cut off before its END
# is redacted to its last base64 line, "\n" escapes (keys inside JSON strings) included.
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----")
_PEM_END = re.compile(r"-----END ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----")
_PEM_BODY = re.compile(r"(?:[ \t]*(?:\r?\n|\\r\\n|\\n)[ \t]*(?!-----)[A-Za-z0-9+/=:,-]{1,80})*")
_PEM_MAX_LENGTH = 65_536  # far above an 8192-bit RSA key

# Provider keys, recognised by their documented prefixes (each written from its first character).
_PROVIDER_PATTERNS = (
    r"sk-ant-[a-z]{2,8}[0-9]{2}-[A-Za-z0-9_-]{20,}",  # Anthropic
    r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}",  # OpenAI project and service keys
    r"sk-[A-Za-z0-9]{20,}",  # OpenAI (legacy) and the many APIs that copied the format
    r"sk_(?:live|test)_[A-Za-z0-9]{10,}",  # Stripe secret keys
    r"rk_(?:live|test)_[A-Za-z0-9]{10,}",  # Stripe restricted keys
    r"whsec_[A-Za-z0-9+/=]{20,}",  # Stripe webhook secrets
    r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{30,}",
    r"gl(?:pat|dt|rt|ptt|soat|cbt|oas)-[A-Za-z0-9_-]{20,}",  # GitLab
    r"xox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
    r"xapp-[0-9]-[A-Za-z0-9-]{10,}",
    r"A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])",  # AWS access key ids
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
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",  # JWT: header.payload.signature
)
_PROVIDER = re.compile("|".join(_start(p[0], "[A-Za-z0-9_-]") + p[1:] for p in _PROVIDER_PATTERNS))
# Webhook URLs are credentials: the host stays readable, the path goes.
_WEBHOOK = re.compile(
    r"(?:hooks\.slack\.com/|/api/webhooks/)"
    r"(?P<v>(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}|[0-9]{5,}/[A-Za-z0-9_-]{20,})"
)

# Bearer tokens (header or prose) and the value of an Authorization header.
_BEARER = re.compile(
    _start("[AaBb]", "[A-Za-z0-9_]")
    + r"(?i:(?<=a)uthorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|bot|digest)\s+)?|(?<=b)earer\s+)"
    r"(?P<v>[A-Za-z0-9._~+/:-]{8,}=*)"
)

# "scheme://user:password@host": only "user:password" goes, so the URL stays readable.
_URL_CREDENTIALS = re.compile(r"://(?P<v>[^\s:/?#@\[\]\"'<>]+:[^\s/?#@\"'<>]+)@")

# The value of password=, api_key: ... assignments (config files, JSON, env, YAML, query strings).
# A key counts when the word starts it or follows a separator: DB_PASSWORD, x-api-key, client.secret.
_SECRET_KEY = (
    _start("[PpSsTtAaCc]", "[A-Za-z0-9]")
    + r"(?i:(?<=p)(?:assword|asswd|assphrase|wd|rivate[_-]?key)|(?<=s)ecret(?:[_-]?key)?|(?<=t)oken"
    r"|(?<=a)(?:pi[_-]?key|pikey|ccess[_-]?key|uth[_-]?key)|(?<=c)(?:lient[_-]?secret|redentials?))"
)
_ASSIGNMENT = re.compile(
    _SECRET_KEY + r"(?![A-Za-z0-9])"
    r"(?:\\?[\"'])?[ \t]*(?P<op>:=|=>|[:=])(?!=)[ \t]*"
    r"(?:\\?\"(?P<dq>[^\"\\\r\n]{1,500})|'(?P<sq>[^'\\\r\n]{1,500})'|(?P<bare>[^\s\"',;&<>\[\]{}()`]{1,500}))"
)
_CLI_SECRET = re.compile(
    _start("-", "[A-Za-z0-9_-]")
    + r"-?(?:[A-Za-z0-9]+-)*"
    + _SECRET_KEY
    + r"(?![A-Za-z0-9_-])[ \t]+(?P<bare>[^\s\"'`<>\[\]{}()-][^\s\"'`<>\[\]{}()]*)"
)
# curl -u user:password, --user=user:password
_CLI_USER = re.compile(_start("-", r"\S") + r"(?:u|-user)(?:[ \t]+|=)[\"']?(?P<v>[^\s:\"']+:[^\s\"']+)")
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
_URL = re.compile(r"://[^\s<>\"'`]+")

# An email is found from its "@" (fast to find); the local part is read backwards from there.
_EMAIL_DOMAIN = re.compile(r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-])")
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")

_IPV4 = re.compile(_start("[0-9]", "[A-Za-z0-9_.]") + r"[0-9]{0,2}(?:\.[0-9]{1,3}){3}(?![A-Za-z0-9_]|\.[0-9])")
# From the first colon; at most four hex digits before it are added back (see _ips).
_IPV6 = re.compile(
    r":(?:[0-9A-Fa-f]{0,4}:){1,6}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?(?![A-Za-z0-9_:]|\.[0-9])"
)
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_IPV6_NOT_AFTER = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:.")

# Grouped as printed (4-4-4-4[-3], Amex 4-6-5, Diners 4-6-4) or as one run of 13–19 digits.
_CARD = re.compile(
    _start("[0-9]", "[0-9A-Za-z_.,-]") + r"(?:[0-9]{12,18}"
    r"|[0-9]{3}(?P<s>[ -])[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{1,4}(?:(?P=s)[0-9]{1,3})?"
    r"|[0-9]{3}(?P<t>[ -])[0-9]{6}(?P=t)[0-9]{4,5})"
    r"(?![0-9A-Za-z_]|[.,][0-9])"
)

_IBAN = re.compile(_start("[A-Z]", "[A-Za-z0-9]") + r"[A-Z][0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
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
_PHONE_CANDIDATE = re.compile(
    _start("[+(0-9]", "[A-Za-z0-9_+#/.-]") + r"(?:(?<=[0-9])|[0-9])[0-9 ().-]{5,38}[0-9](?![0-9A-Za-z_]|[.-][0-9])"
)
_NUMBER_RUN = re.compile(r"(?:[ ().-]*[0-9])*")
_MAX_NUMBER_RUN = 64
_THREE_DIGITS = re.compile(r"[0-9]{3}")
_PHONE_ATTEMPTS = 4  # phonenumbers calls per candidate run, at most
_DATE_LIKE = re.compile(r"[0-9]{4}[-./ ][0-9]{1,2}[-./ ][0-9]{1,2}|[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{2,4}")


def _secrets(text: str) -> Iterator[_Hit]:
    if "PRIVATE KEY" in text:
        yield from _private_keys(text)
    for m in _PROVIDER.finditer(text):
        yield _Hit(m.start(), m.end(), "SECRET", m.group())
    for m in _WEBHOOK.finditer(text):
        yield _Hit(m.start("v"), m.end("v"), "SECRET", m["v"])
    for m in _BEARER.finditer(text):
        value = m["v"]
        # "bearer" is also an English word: after it (not after an Authorization header), the token
        # must look like one.
        if m.group()[0] in "Aa" or len(value) >= 20 or any(c.isdigit() for c in value):
            yield _Hit(m.start("v"), m.end("v"), "SECRET", value, (value,))
    for m in _URL_CREDENTIALS.finditer(text):
        yield _Hit(m.start("v"), m.end("v"), "SECRET", m["v"], (m["v"], m["v"].split(":", 1)[1]))
    for m in _ASSIGNMENT.finditer(text):
        group = "dq" if m["dq"] is not None else "sq" if m["sq"] is not None else "bare"
        value = m[group]
        # "Password: required" is prose; an unquoted value after a colon must look like a secret.
        if group == "bare" and m["op"] == ":" and not _looks_like_password(value):
            continue
        if _is_secret_value(value):
            yield _Hit(m.start(group), m.end(group), "SECRET", value, (value,))
    for m in _CLI_SECRET.finditer(text):
        if _is_secret_value(m["bare"]):
            yield _Hit(m.start("bare"), m.end("bare"), "SECRET", m["bare"], (m["bare"],))
    for m in _CLI_USER.finditer(text):
        if m["v"].replace(":", "").isdigit():
            continue  # docker run -u 1000:1000 names a uid and gid
        yield _Hit(m.start("v"), m.end("v"), "SECRET", m["v"], (m["v"], m["v"].split(":", 1)[1]))
    urls = [(m.start(), m.end()) for m in _URL.finditer(text)] if "://" in text else []
    url_starts = [start for start, _ in urls]
    for m in _ENTROPY_RUN.finditer(text):
        if urls:
            i = bisect.bisect_right(url_starts, m.start()) - 1
            if i >= 0 and urls[i][1] > m.start():
                continue
        if _looks_random(m.group()):
            yield _Hit(m.start(), m.end(), "SECRET", m.group())


def _private_keys(text: str) -> Iterator[_Hit]:
    ends: dict[str, list[int]] = {}
    for m in _PEM_END.finditer(text):
        ends.setdefault(m[1], []).append(m.start())
    position = 0
    for m in _PEM_BEGIN.finditer(text):
        if m.start() < position:
            continue
        label_ends = ends.get(m[1], [])
        i = bisect.bisect_left(label_ends, m.end())
        if i < len(label_ends) and label_ends[i] - m.start() <= _PEM_MAX_LENGTH:
            position = label_ends[i] + len(m[1]) + 14  # len("-----END ") + len("-----")
        else:
            position = _PEM_BODY.match(text, m.end()).end()
        yield _Hit(m.start(), position, "SECRET", text[m.start() : position])


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
    # Identifiers, paths and file names are made of words: long letter runs, enough vowels, few
    # alternations between letters and digits. Random strings fail at least one of these.
    pieces = _PIECE.findall(core)
    if sum(map(len, pieces)) / len(pieces) <= ENTROPY_MAX_MEAN_PIECE:
        return True
    if sum(c in "aeiouAEIOU" for c in letters) / len(letters) <= ENTROPY_MAX_VOWEL_SHARE:
        return True
    switches = sum(a.isdigit() != b.isdigit() for a, b in pairwise(core) if a.isalnum() and b.isalnum())
    return switches / len(core) >= ENTROPY_MIN_SWITCH_RATE


def _entropy(text: str) -> float:
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _emails(text: str) -> Iterator[_Hit]:
    if "@" not in text:
        return
    for m in _EMAIL_DOMAIN.finditer(text):
        start = m.start()
        while start and text[start - 1] in _EMAIL_LOCAL:
            start -= 1
        if start < m.start():
            yield _Hit(start, m.end(), "EMAIL", text[start : m.end()].lower())


def _ips(text: str) -> Iterator[_Hit]:
    if "." in text:
        for m in _IPV4.finditer(text):
            yield from _ip_hit(text, m.start(), m.end())
    if ":" in text:
        for m in _IPV6.finditer(text):
            start = m.start()
            while start and m.start() - start < 4 and text[start - 1] in _HEX_DIGITS:
                start -= 1
            if start and text[start - 1] in _IPV6_NOT_AFTER:
                continue
            yield from _ip_hit(text, start, m.end())


def _ip_hit(text: str, start: int, end: int) -> Iterator[_Hit]:
    candidate = text[start:end]
    # Cheap shape check first: times such as 10:30:00 are far more common than IPv6 addresses.
    if ":" in candidate and "::" not in candidate and candidate.count(":") < 6:
        return
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return
    # Loopback and "any" addresses identify nobody and keep logs readable.
    if not (address.is_loopback or address.is_unspecified):
        yield _Hit(start, end, "IP", address.compressed)


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
    skip_until = 0
    for m in _PHONE_CANDIDATE.finditer(text):
        if m.start() < skip_until:
            continue
        # A long run of numbers (a table, a matrix dump) holds no phone number worth the parsing.
        run_end = _NUMBER_RUN.match(text, m.end()).end()
        if run_end - m.start() > _MAX_NUMBER_RUN:
            skip_until = run_end
            continue
        candidate = m.group()
        # Bare digit runs are mostly ids and order numbers: a phone number has a "+" or separators.
        if candidate[0] != "+" and candidate.isdigit():
            continue
        if "+" not in candidate and _THREE_DIGITS.search(candidate) is None:
            continue  # see _could_be_phone
        for start, end, key in _phone_matches(candidate):
            yield _Hit(m.start() + start, m.start() + end, "PHONE", key)


@lru_cache(maxsize=4096)
def _phone_matches(candidate: str) -> tuple[tuple[int, int, str], ...]:
    """Phone numbers in a run of digit groups, e.g. "+44 20 7946 0958 2024" or "12 415 555 2671".

    phonenumbers reads a whole space-separated run as one number, so when that fails the longest
    leading groups are tried, then the run without its first group; a budget bounds the attempts.
    """
    found: list[tuple[int, int, str]] = []
    position, budget = 0, _PHONE_ATTEMPTS
    while budget and _digit_count(candidate, position) >= 7:
        rest = candidate[position:]
        cuts = [len(rest)] + [i for i in range(len(rest) - 1, 0, -1) if rest[i] == " "]
        hits: list[tuple[int, int, str]] = []
        if not _DATE_LIKE.match(rest):
            for cut in cuts:
                piece = rest[:cut].rstrip(" (")
                digits = _digit_count(piece)
                if digits < 7 or not budget:
                    break
                if _could_be_phone(piece, digits):
                    budget -= 1
                    if hits := _match_phones(piece):
                        break
        if hits:
            found.extend((position + start, position + end, key) for start, end, key in hits)
            position += hits[-1][1]
        elif (space := rest.find(" ")) >= 0:
            position += space + 1
        else:
            break
    return tuple(found)


def _digit_count(text: str, start: int = 0, end: int | None = None) -> int:
    return sum(c.isdigit() for c in text[start:end])


def _could_be_phone(piece: str, digits: int) -> bool:
    """Cheap checks that spare most numbers a parse (the expensive step)."""
    if piece[0] == "+":
        return digits <= 15
    # A national number has a group of at least three digits and, with or without its national
    # prefix, a length that one of PHONE_REGIONS allows; one dialled from abroad starts with the
    # international prefix (00, 011).
    if not 10 <= digits <= 15 or _THREE_DIGITS.search(piece) is None:
        return False
    if digits in _NATIONAL_LENGTHS:
        return True
    plain = "".join(c for c in piece if c.isdigit())
    return _INTERNATIONAL_PREFIX.match(plain) is not None


def _phone_lengths() -> tuple[frozenset[int], re.Pattern]:
    lengths, prefixes = set(), []
    for region in PHONE_REGIONS:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        national_prefix = len(metadata.national_prefix or "")
        for length in metadata.general_desc.possible_length:
            lengths.update({length, length + national_prefix})
        prefixes.append(f"(?:{metadata.international_prefix})")
    return frozenset(lengths), re.compile("|".join(prefixes))


_NATIONAL_LENGTHS, _INTERNATIONAL_PREFIX = _phone_lengths()


def _match_phones(piece: str) -> list[tuple[int, int, str]]:
    for region in PHONE_REGIONS:
        # A plain parse is several times cheaper than the matcher and rules out most candidates.
        try:
            if not phonenumbers.is_valid_number(phonenumbers.parse(piece, region)):
                continue
        except phonenumbers.NumberParseException:
            continue
        # STRICT_GROUPING: the digits must be grouped as the number is written in its country,
        # which rejects dates, times and version-like digit groups that happen to be valid numbers.
        matches = list(phonenumbers.PhoneNumberMatcher(piece, region, leniency=phonenumbers.Leniency.STRICT_GROUPING))
        if matches:
            # A "+" number reads the same in every region; a national one in the first that fits.
            return [
                (m.start, m.end, phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164))
                for m in matches
            ]
    return []


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


def _echo_pattern(values: Sequence[str]) -> re.Pattern:
    """The values as one trie-shaped regex (a flat alternation of many values is slow), each
    occurrence not glued to a letter or digit."""
    trie: dict = {}
    for value in values:
        node = trie
        for char in value:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict, top: bool = False) -> str:
        ends = "" in node
        branches = [
            re.escape(char) + ("(?<![A-Za-z0-9].)" if top else "") + build(child)
            for char, child in sorted(node.items())
            if char
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return re.compile(build(trie, top=True) + "(?![A-Za-z0-9])")


class _Redactor:
    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = _terms_pattern(terms)
        self.echoes: dict[str, None] = {}  # insertion-ordered set
        self._echo_pattern: re.Pattern | None = None
        self._echoes_compiled = 0
        self._only: re.Pattern | None = None
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

    def compile_echoes(self) -> bool:
        """Start looking for the secret values learnt since the last call; False if there are none.

        Compiled once per pass rather than per value: compiling is what costs.
        """
        if len(self.echoes) == self._echoes_compiled:
            return False
        self._echo_pattern = _echo_pattern(list(self.echoes))
        self._echoes_compiled = len(self.echoes)
        return True

    def recheck(self, turns: list[dict]) -> list[dict]:
        """Redact again the strings that hold a learnt secret value."""
        self._only = self._echo_pattern
        try:
            return [self.turn(turn) for turn in turns]
        finally:
            self._only = None

    def value(self, value: Any) -> Any:
        """Strings redacted through dicts and lists; keys, numbers and other scalars kept."""
        if isinstance(value, str):
            if self._only is not None and self._only.search(value) is None:
                return value
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
            for value in hit.echo:
                self._learn(value)
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
        if self._echo_pattern is not None:
            for m in self._echo_pattern.finditer(text):
                yield _Hit(m.start(), m.end(), "SECRET", m.group())

    def _learn(self, value: str) -> None:
        # Short values would redact ordinary words; values the context-free detectors find anyway
        # need no echo. Beyond the cap, recurring values are left to those detectors.
        if (
            value in self.echoes
            or not ECHO_MIN_LENGTH <= len(value) <= ECHO_MAX_LENGTH
            or len(self.echoes) >= ECHO_MAX_VALUES
            or any(c.isspace() for c in value)
            or _PROVIDER.fullmatch(value)
            or _looks_random(value)
        ):
            return
        self.echoes[value] = None

    def _placeholder(self, kind: str, key: str) -> str:
        placeholder = self.placeholders.get((kind, key))
        if placeholder is None:
            self.last[kind] += 1
            self.counts[kind] = self.counts.get(kind, 0) + 1
            placeholder = self.placeholders[(kind, key)] = f"[{kind}_{self.last[kind]}]"
        return placeholder
