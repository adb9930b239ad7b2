import copy
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.redaction import PLACEHOLDER, redact_text, redact_turns

PETRI = Path(__file__).resolve().parent.parent / "fixtures" / "transcripts" / "petri-audit-gpt5mini-transcript.txt"


def turn(index=0, content="", **fields):
    base = {
        "index": index,
        "role": "user",
        "content": content,
        "tool_calls": [],
        "tool_call_id": None,
        "reasoning": None,
        "timestamp": None,
        "raw": [],
    }
    base.update(fields)
    return base


def kinds(text):
    return [m[1] for m in PLACEHOLDER.finditer(text)]


# --- Emails ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    ["sarah.chen@nexatech.com", "first+tag@sub.example.co.uk", "obrien_x%y@mail-server.io", "A.B@EXAMPLE.ORG"],
)
def test_it_redacts_emails(email):
    assert redact_text(f"Write to {email}, please.") == "Write to [EMAIL_1], please."


@pytest.mark.parametrize("text", ["user@localhost", "@sarah on Slack", "a@b", "foo @ bar.com", "x@y.c0m"])
def test_it_leaves_things_that_are_not_emails(text):
    assert redact_text(text) == text


def test_it_gives_an_address_one_placeholder_whatever_its_case():
    assert redact_text("Sarah.Chen@NexaTech.com, sarah.chen@nexatech.com, bob@nexatech.com") == (
        "[EMAIL_1], [EMAIL_1], [EMAIL_2]"
    )


# --- Phone numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    ["+1 415 555 2671", "(212) 555-0123", "212-555-0123", "415.555.2671", "+44 20 7946 0958", "020 7946 0958",
     "+49 30 901820", "+14155552671", "+33 1 23 45 67 89"],
)  # fmt: skip
def test_it_redacts_phone_numbers(phone):
    assert redact_text(f"Call {phone} today.") == "Call [PHONE_1] today."


def test_it_gives_a_phone_number_one_placeholder_however_it_is_written():
    assert redact_text("+44 20 7946 0958 or 020 7946 0958 or 212-555-0123") == "[PHONE_1] or [PHONE_1] or [PHONE_2]"


@pytest.mark.parametrize(
    "text",
    ["2026-03-01", "on 2026-03-01 at 10:30", "v1.2.3", "192.168.0.1", "AIO-2026-00042", "Order #4521-99871",
     "order 20240315-0042", "Order 2125550123", "ticket #212-555-0123", "pi is 3.14159265", "12:30:45",
     "1 234 567", "$1,234,567.89", "12/03/2026", "build 2024.12.09.1234", "555-0123"],
)  # fmt: skip
def test_it_does_not_take_dates_versions_or_ids_for_phone_numbers(text):
    assert "PHONE" not in redact_text(text)


def test_it_finds_a_phone_number_next_to_other_numbers():
    assert redact_text("+1 415 555 2671 2024") == "[PHONE_1] 2024"
    assert redact_text("item 12 415 555 2671") == "item 12 [PHONE_1]"
    assert redact_text("(212) 555-0123 (212) 555-0199") == "[PHONE_1] [PHONE_2]"


# --- Card numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "3782 822463 10005", "5500 0000 0000 0004"],
)
def test_it_redacts_card_numbers(card):
    assert redact_text(f"card: {card}.") == "card: [CARD_1]."


def test_it_gives_a_card_one_placeholder_however_it_is_grouped():
    assert redact_text("4111 1111 1111 1111 / 4111111111111111") == "[CARD_1] / [CARD_1]"


@pytest.mark.parametrize(
    "text",
    ["4111 1111 1111 1112", "1733740800000", "0000 0000 0000 0000", "12345678901234567890", "id_4111111111111111",
     "v4111111111111111", "4111 1111 111 1111"],
)  # fmt: skip
def test_it_leaves_numbers_that_are_not_cards(text):
    assert "CARD" not in redact_text(text)


# --- IBANs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    ["DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32",
     "FR14 2004 1010 0505 0001 3M02 606", "NO9386011117947"],
)  # fmt: skip
def test_it_redacts_ibans(iban):
    assert redact_text(f"IBAN: {iban}.") == "IBAN: [IBAN_1]."


def test_it_stops_an_iban_at_its_country_length():
    assert redact_text("DE89 3704 0044 0532 0130 00 1234") == "[IBAN_1] 1234"


@pytest.mark.parametrize(
    "text", ["GB82WEST12345698765431", "ZZ89370400440532013000", "DE8937040044053201300", "XDE89370400440532013000"]
)
def test_it_leaves_strings_that_fail_the_iban_checks(text):
    assert redact_text(text) == text


# --- IP addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ip", ["10.0.0.1", "1.2.3.4", "8.8.8.8", "2001:db8::1", "fe80::1ff:fe23:4567:890a", "::ffff:192.0.2.1"]
)
def test_it_redacts_ip_addresses(ip):
    assert redact_text(f"from {ip}.") == "from [IP_1]."


def test_it_gives_an_ipv6_address_one_placeholder_however_it_is_written():
    assert redact_text("2001:db8::1 2001:0db8:0:0:0:0:0:1") == "[IP_1] [IP_1]"


@pytest.mark.parametrize(
    "text",
    ["1.2.3", "v1.2.3.4", "1.2.3.4.5", "256.1.1.1", "01.02.03.04", "127.0.0.1", "::1", "0.0.0.0", "12:30:45",
     "std::vector", "00:1A:2B:3C:4D:5E", "2024-12-09T10:30:00Z"],
)  # fmt: skip
def test_it_leaves_versions_times_and_local_addresses(text):
    assert redact_text(text) == text


# --- Secrets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "sk-" + "A1b2C3d4" * 6,
        "sk-proj-" + "Ab3_x-" * 8,
        "sk-ant-api03-" + "Zx9-" * 20,
        "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
        "rk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
        "ghp_" + "a1B2c3D4e5" * 4,
        "github_pat_11ABCDEFG0" + "x1Y2z3" * 10,
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "AKIAIOSFODNN7EXAMPLE",
        "ASIAY34FZKBOKMUTVV7A",
        "AIzaSyA-1234567890abcdefghijklmnopqrstu",
        "glpat-" + "xY3_zW9-" * 3,
        "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
        "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "SG.abcdefghijklmnop1234.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg",
        "gsk_" + "a1B2" * 13,
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ],
)
def test_it_redacts_provider_keys_and_jwts(key):
    assert redact_text(f'key "{key}" leaked') == 'key "[SECRET_1]" leaked'


@pytest.mark.parametrize("text", ["task-management-service-abc", "ask-me-anything-2024", "sk-learn", "AKIA", "hf_hub"])
def test_it_leaves_words_that_share_a_key_prefix(text):
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Authorization: Bearer abc.def123456", "Authorization: Bearer [SECRET_1]"),
        ('{"authorization": "Basic dXNlcjpwYXNz"}', '{"authorization": "Basic [SECRET_1]"}'),
        ("curl -H 'Authorization: token 0123abcdef'", "curl -H 'Authorization: token [SECRET_1]'"),
        ("send it as Bearer x7Gp2qLr9Zk", "send it as Bearer [SECRET_1]"),
    ],
)
def test_it_redacts_bearer_tokens(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", ["a bearer token is used", "Bearer of bad news", "the Authorization: header"])
def test_it_leaves_the_word_bearer_alone(text):
    assert redact_text(text) == text


def test_it_redacts_a_private_key_block_whole():
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc+/def==\n-----END RSA PRIVATE KEY-----"
    assert redact_text(f"key:\n{key}\ndone") == "key:\n[SECRET_1]\ndone"
    escaped = key.replace("\n", "\\n")
    assert redact_text(json.dumps({"k": escaped})) == '{"k": "[SECRET_1]"}'


def test_it_redacts_a_private_key_cut_off_before_its_end():
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nBG5vbmUAAAAEbm9uZQ\n(truncated)"
    assert redact_text(text) == "[SECRET_1]\n(truncated)"


def test_it_leaves_public_keys_and_certificates():
    text = "-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----"
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("postgres://admin:hunter2@db.internal:5432/app", "postgres://[SECRET_1]@db.internal:5432/app"),
        ("https://user:p%40ss@example.com/x", "https://[SECRET_1]@example.com/x"),
    ],
)
def test_it_redacts_only_the_credentials_of_a_url(text, expected):
    assert redact_text(text) == expected


def test_it_redacts_slack_webhook_paths():
    text = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
    assert redact_text(text) == "https://hooks.slack.com/[SECRET_1]"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("password=hunter2", "password=[SECRET_1]"),
        ('DB_PASSWORD="s3cr3t"', 'DB_PASSWORD="[SECRET_1]"'),
        ('{"api_key": "abc"}', '{"api_key": "[SECRET_1]"}'),
        ('{\\"password\\": \\"hunter2\\"}', '{\\"password\\": \\"[SECRET_1]\\"}'),
        ("token: abc123XYZ", "token: [SECRET_1]"),
        ("x-api-key: 12345abcdef", "x-api-key: [SECRET_1]"),
        ("client_secret='Zq8 w!'", "client_secret='[SECRET_1]'"),
        ("?access_token=abc123&x=1", "?access_token=[SECRET_1]&x=1"),
        ("mysql --password hunter2 -u root", "mysql --password [SECRET_1] -u root"),
        ("STRIPE_SECRET_KEY := 'whatever'", "STRIPE_SECRET_KEY := '[SECRET_1]'"),
        ("curl --user=bob:pa55word https://x", "curl --user=[SECRET_1] https://x"),
        ("aws_secret_access_key = abc/DEF+ghi", "aws_secret_access_key = [SECRET_1]"),
    ],
)
def test_it_redacts_the_value_of_secret_assignments(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Password: required", "max_tokens=4096", "password: null", "token_count: 15", "password=${DB_PASSWORD}",
     "password=****", "Top secret: meeting at noon", "docker run -u 1000:1000 app", "if password == other:",
     "mypassword=abc", "tokens: 1500"],
)  # fmt: skip
def test_it_leaves_assignments_that_hold_no_secret(text):
    assert redact_text(text) == text


def test_it_redacts_a_secret_wherever_it_recurs():
    turns = [
        turn(0, "I will log in with s3cr3tPass now."),
        turn(
            1,
            "config: password=s3cr3tPass",
            tool_calls=[{"id": "c", "name": "login", "arguments": {"pw": "s3cr3tPass"}}],
        ),
    ]
    redacted = redact_turns(turns)
    assert "s3cr3tPass" not in json.dumps(redacted.turns)
    assert redacted.turns[0]["content"] == "I will log in with [SECRET_1] now."
    assert redacted.counts == {"SECRET": 1}


def test_it_redacts_a_recurring_secret_within_one_string_but_not_short_values():
    text = "typed hunter22, then password=hunter22; pin=abc: abc"
    assert redact_text(text) == "typed [SECRET_1], then password=[SECRET_1]; pin=abc: abc"
    assert redact_text("pwd=abc and abc") == "pwd=[SECRET_1] and abc"


@pytest.mark.parametrize(
    "token",
    ["Qm9vdHN0cmFwIHRoZSBzZWNyZXQ9xYz1", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY8zq1Lm2Nb3", "8f3Kq9Zx2Lm4Np7Rt1Vw5Yb0Cd6Eg",
     "dGhpcyBpcyBhIHNlY3JldCBrZXkgMTIz=="],
)  # fmt: skip
def test_it_redacts_high_entropy_strings(token):
    assert redact_text(f"value {token} here") == "value [SECRET_1] here"


@pytest.mark.parametrize(
    "text",
    [
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",  # git SHA
        "550e8400-e29b-41d4-a716-446655440000",  # UUID
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # SHA-256
        "getUserProfile2ByIdAndName",
        "src/components/UserProfile2Card/index.tsx",
        "test_it_redacts_emails_in_tool_args_2",
        "call_Z6jq9ty0EB2dTm28K8IYDmeb",
        "toolu_01C5hJ9sL2fG7dK4aP8qX3wE",
        "https://drive.example.com/file/d/1aBcD3fGhIjK2lMnOpQrStUvWxYz/view",
        "sprint_updates_dec2_final_v2",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
    ],
)
def test_it_leaves_hashes_ids_identifiers_paths_and_urls(text):
    assert redact_text(text) == text


# --- Terms ----------------------------------------------------------------------------------------


def test_it_redacts_listed_terms_case_insensitively_on_word_boundaries():
    text = "Sarah Chen met sarah  chen and SARAH\nCHEN; Sarahs and Chen stay."
    assert redact_text(text, terms=["Sarah Chen"]) == "[NAME_1] met [NAME_1] and [NAME_1]; Sarahs and Chen stay."


def test_it_prefers_the_longest_term():
    assert redact_text("Sarah Chen and Sarah", terms=["Sarah", "Sarah Chen"]) == "[NAME_1] and [NAME_2]"


def test_it_matches_terms_with_punctuation_at_their_edges():
    assert redact_text("at 12 Main St. (rear)", terms=["12 Main St."]) == "at [NAME_1] (rear)"
    assert redact_text("join #ops-team now", terms=["#ops-team"]) == "join [NAME_1] now"


def test_it_ignores_blank_and_one_character_terms_and_accepts_a_single_string():
    assert redact_text("a b c", terms=["", " ", "a"]) == "a b c"
    assert redact_text("Dr. Quinn", terms="Quinn") == "Dr. [NAME_1]"


def test_it_lets_an_email_win_over_a_term_inside_it():
    assert redact_text("sarah.chen@nexatech.com", terms=["Chen"]) == "[EMAIL_1]"


def test_it_does_not_match_terms_inside_placeholders():
    assert redact_text("[EMAIL_1] and email", terms=["email"]) == "[EMAIL_1] and [NAME_1]"


# --- Turns, consistency, idempotence ---------------------------------------------------------------


def make_turns():
    return [
        turn(0, "Mail sarah@example.com or call +1 415 555 2671.", reasoning="ask sarah@example.com first"),
        turn(
            1,
            "",
            role="assistant",
            tool_calls=[
                {
                    "id": "call_1",
                    "name": "send_email",
                    "arguments": {
                        "to": ["bob@example.com", "sarah@example.com"],
                        "meta": {"ip": "10.1.2.3", "retries": 3, "card_as_number": 4111111111111111},
                        "sarah@example.com": "key stays",
                    },
                },
                {"id": "call_2", "name": "shell", "arguments": "curl -u admin:hunter22 https://10.1.2.3/"},
            ],
        ),
        turn(
            2,
            "sent",
            role="tool",
            tool_call_id="call_1",
            raw=[{"type": "sarah@example.com", "data": {"echo": ["sarah@example.com", {"n": "+1 415 555 2671"}]}}],
        ),
    ]


def test_it_uses_one_placeholder_per_value_across_turns_arguments_and_raw_data():
    redacted = redact_turns(make_turns()).turns
    assert redacted[0]["content"] == "Mail [EMAIL_1] or call [PHONE_1]."
    assert redacted[0]["reasoning"] == "ask [EMAIL_1] first"
    arguments = redacted[1]["tool_calls"][0]["arguments"]
    assert arguments["to"] == ["[EMAIL_2]", "[EMAIL_1]"]
    assert arguments["meta"] == {"ip": "[IP_1]", "retries": 3, "card_as_number": 4111111111111111}
    assert arguments["sarah@example.com"] == "key stays"  # keys are structure, not redacted
    assert redacted[1]["tool_calls"][1]["arguments"] == "curl -u [SECRET_1] https://[IP_1]/"
    assert redacted[2]["raw"] == [{"type": "sarah@example.com", "data": {"echo": ["[EMAIL_1]", {"n": "[PHONE_1]"}]}}]


def test_it_keeps_structure_fields_as_they_are():
    original = make_turns()
    redacted = redact_turns(original).turns
    for before, after in zip(original, redacted, strict=True):
        for name in ("index", "role", "tool_call_id", "timestamp"):
            assert after[name] == before[name]
        assert [(c["id"], c["name"]) for c in after["tool_calls"]] == [
            (c["id"], c["name"]) for c in before["tool_calls"]
        ]


def test_it_counts_placeholders_per_kind():
    assert redact_turns(make_turns()).counts == {"EMAIL": 2, "PHONE": 1, "IP": 1, "SECRET": 1}


def test_it_does_not_modify_its_input():
    original = make_turns()
    snapshot = copy.deepcopy(original)
    redacted = redact_turns(original)
    assert original == snapshot
    redacted.turns[1]["tool_calls"][0]["arguments"]["meta"]["retries"] = 99
    assert original == snapshot


def test_it_is_idempotent_on_turns():
    once = redact_turns(make_turns())
    twice = redact_turns(once.turns)
    assert twice.turns == once.turns
    assert twice.counts == {}


def test_it_numbers_new_placeholders_after_existing_ones():
    text = "already [EMAIL_1] and [EMAIL_7]; new a@example.com"
    assert redact_text(text) == "already [EMAIL_1] and [EMAIL_7]; new [EMAIL_8]"
    turns = [turn(0, "x@example.com"), turn(1, "seen [EMAIL_3] before")]
    assert redact_turns(turns).turns[0]["content"] == "[EMAIL_4]"


def test_it_numbers_placeholders_in_order_of_first_appearance():
    text = "b@example.com a@example.com b@example.com c@example.com"
    assert redact_text(text) == "[EMAIL_1] [EMAIL_2] [EMAIL_1] [EMAIL_3]"


def test_it_handles_missing_and_odd_fields():
    turns = [{"content": None, "tool_calls": [None, {"name": "x"}], "raw": ["1.2.3.4", 5]}, {}]
    assert redact_turns(turns).turns == [
        {"content": None, "tool_calls": [None, {"name": "x"}], "raw": ["[IP_1]", 5]},
        {},
    ]


@pytest.mark.parametrize(
    "text",
    ["a" * 100_000 + "@", "a" * 100_000 + "@x.c0", "x@" + "a." * 50_000 + "1", "1" * 100_000, " 1" * 50_000,
     " 123" * 25_000, "1-" * 50_000, ":" * 100_000, "a:" * 50_000, "1." * 50_000, "[" * 100_000, "A1" * 50_000,
     "password=" * 20_000, "Bearer " * 20_000, "https://" * 20_000, "-----BEGIN PRIVATE KEY-----\n" * 3_000,
     "DE89 " * 20_000, "eyJ" * 30_000, "+1 " * 30_000, "Sarah " * 20_000],
)  # fmt: skip
def test_it_finishes_on_pathological_input(text):
    redacted = redact_text(text, terms=["Sarah Chen"])
    assert redact_text(redacted, terms=["Sarah Chen"]) == redacted


# --- A real transcript ----------------------------------------------------------------------------

_PETRI_HEADER = re.compile(
    r"^\[(\d+)\] (AUDITOR → TARGET|TARGET \(with tool calls\)|TARGET|TOOL RESULT \(id=(call_\w+)\)):\n", re.M
)
_PETRI_TOOL = re.compile(r"^  → Tool: (\w+)\((.*)\)$", re.M)


def petri_turns(text):
    """The Petri audit dump as normalised turns, tool calls with their JSON arguments."""
    heads = list(_PETRI_HEADER.finditer(text))
    turns = [turn(0, text[: heads[0].start()], role="system")]
    for i, head in enumerate(heads):
        body = text[head.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        role = "user" if head[2].startswith("AUDITOR") else "tool" if head[3] else "assistant"
        calls = [
            {"id": f"call_{i}_{j}", "name": m[1], "arguments": json.loads(m[2])}
            for j, m in enumerate(_PETRI_TOOL.finditer(body))
        ]
        content = _PETRI_TOOL.sub("", body).strip()
        turns.append(turn(i + 1, content, role=role, tool_calls=calls, tool_call_id=head[3]))
    return turns


def test_it_redacts_the_petri_transcript():
    source = PETRI.read_text(encoding="utf-8")
    turns = petri_turns(source)
    addresses = {a.lower() for a in re.findall(r"[\w.-]+@nexatech\.com", source)}
    assert len(turns) > 100 and any(t["tool_calls"] for t in turns)

    redacted = redact_turns(turns, terms=["Sarah Chen", "Marcus Williams"])

    dumped = json.dumps(redacted.turns, ensure_ascii=False)
    assert "@nexatech.com" not in dumped
    assert "Sarah Chen" not in dumped and "Marcus Williams" not in dumped
    # One placeholder per distinct address, and no false positives of other kinds in a log full of
    # dates, version numbers, money amounts, ticket ids and tool-call ids.
    assert redacted.counts == {"EMAIL": len(addresses), "NAME": 2}
    assert redacted.turns[0]["content"].count("[NAME_1]") >= 1
    sends = [c for t in redacted.turns for c in t["tool_calls"] if c["name"] == "send_email"]
    assert sends and all(PLACEHOLDER.fullmatch(to.strip()) for c in sends for to in c["arguments"]["to"].split(","))
    assert [t["tool_call_id"] for t in redacted.turns] == [t["tool_call_id"] for t in turns]
    assert redact_turns(redacted.turns, terms=["Sarah Chen", "Marcus Williams"]).turns == redacted.turns


# --- Properties -----------------------------------------------------------------------------------

_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,!?\n", max_size=40)
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _luhn_complete(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return body + str((10 - total % 10) % 10)


@st.composite
def cards(draw):
    body = draw(st.sampled_from("3456")) + draw(st.text(alphabet="0123456789", min_size=14, max_size=14))
    number = _luhn_complete(body)
    if draw(st.booleans()):
        separator = draw(st.sampled_from(" -"))
        number = separator.join(number[i : i + 4] for i in range(0, 16, 4))
    return number


@st.composite
def ibans(draw):
    bban = draw(st.text(alphabet="0123456789", min_size=18, max_size=18))
    digits = "".join(str(int(c, 36)) for c in bban + "DE00")
    return f"DE{98 - int(digits) % 97:02d}{bban}"


@st.composite
def ipv4s(draw):
    first = draw(st.integers(1, 223).filter(lambda n: n != 127))
    rest = draw(st.lists(st.integers(0, 255), min_size=3, max_size=3))
    return ".".join(map(str, [first, *rest]))


emails = st.builds(
    "{}@{}.{}".format,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=12).filter(
        lambda s: s[0].isalnum()
    ),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12),
    st.sampled_from(["com", "org", "io", "co.uk", "nexatech.com"]),
)
provider_keys = st.builds(
    "{}{}".format,
    st.sampled_from(["sk-proj-", "sk-ant-api03-", "ghp_", "glpat-", "hf_", "xoxb-", "sk_live_", "gsk_"]),
    st.text(alphabet=_ALNUM, min_size=40, max_size=60),
) | st.builds("AKIA{}".format, st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16))
phones = st.sampled_from(["+1 415 555 2671", "(212) 555-0123", "+44 20 7946 0958", "020 7946 0958", "+49 30 901820"])
detected = st.one_of(emails, cards(), ibans(), ipv4s(), provider_keys)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(detected, phones, _WORDS, st.text(max_size=20)), max_size=12),
    st.sampled_from(["", " ", "\n", ", "]),
)
def test_it_is_idempotent(pieces, separator):
    text = separator.join(pieces)
    once = redact_text(text)
    assert redact_text(once) == once


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_WORDS, detected), min_size=1, max_size=6), _WORDS)
def test_it_never_leaves_a_detected_value(pairs, tail):
    text = "".join(f"{words} {value} " for words, value in pairs) + tail
    redacted = redact_text(text)
    for _, value in pairs:
        assert value not in redacted


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(), st.lists(st.text(max_size=10), max_size=3))
def test_it_never_raises_on_arbitrary_text(text, terms):
    redacted = redact_text(text, terms=terms)
    assert redact_text(redacted, terms=terms) == redacted


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | detected,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.text() | detected, json_values, json_values), max_size=4))
def test_it_never_raises_on_arbitrary_turns(parts):
    turns = [
        turn(
            i,
            content,
            tool_calls=[{"id": str(i), "name": "t", "arguments": arguments}],
            raw=[{"type": "x", "data": data}],
        )
        for i, (content, arguments, data) in enumerate(parts)
    ]
    redacted = redact_turns(turns)
    json.dumps(redacted.turns)
    assert redact_turns(redacted.turns).turns == redacted.turns
