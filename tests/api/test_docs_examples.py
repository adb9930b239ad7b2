"""Runs every shell example in docs/api.md, in order, against a live server, with real tokens.

Each ```sh block follows a hidden note ``<!-- test: ... -->`` that says what its answer must be:

- ``status=201`` the HTTP status of each curl in the block (curl prints it through a ``.curlrc``
  this test writes, so the commands run exactly as printed);
- ``json=a,b`` the answer is a JSON object with these keys; ``csv=a,b`` a CSV whose header has
  these columns; ``jsonl=a,b`` JSON Lines (at least one) with these keys; ``file=name`` checks the
  file the command wrote instead of what it printed;
- ``save=VAR:path`` puts a value of the answer (``results.0.id``) in ``$VAR`` for later blocks;
- ``none`` only that the block exits 0.

The placeholders ($OW_URL, $OW_TOKEN, $OW_INCIDENT, $OW_HOOK_URL, $OW_REPORTER_TOKEN,
$OW_ANALYST_TOKEN) are set to the live server, tokens of the right users, a real incident and a
receiver this test runs. The webhook it receives is checked with the guide's own ``verify``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from incidents.access import ANALYSTS
from incidents.models import Status, VendorMembership
from incidents.tokens import REPORTERS, issue_token
from tests.incidents.test_eval_dataset import AGENT_FIELDS, AGENT_TRANSCRIPT, VIOLATION_TURN, mark

pytestmark = pytest.mark.django_db(transaction=True)

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCK = re.compile(r"(?:<!-- test: (?P<note>[^>]*?) -->\n)?```(?P<lang>sh|bash|python)\n(?P<code>.*?)```", re.S)
STATUS_MARK = re.compile(r"\n?@@status=(\d{3})@@\n?")


@dataclass
class Example:
    note: str
    code: str
    line: int

    @property
    def options(self) -> dict[str, str]:
        return dict(part.split("=", 1) for part in self.note.split() if "=" in part)


def examples(lang: tuple[str, ...] = ("sh", "bash")) -> list[Example]:
    text = GUIDE.read_text()
    return [
        Example(match["note"] or "", match["code"], text.count("\n", 0, match.start()) + 1)
        for match in BLOCK.finditer(text)
        if match["lang"] in lang
    ]


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[Message, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((self.headers, body))  # case-insensitive, as HTTP headers are
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/override-watch", Receiver.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def environment(
    live_server, receiver, make_incident, django_user_model, settings, unthrottled, tmp_path
) -> dict[str, str]:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # the receiver is on this machine
    notified = make_incident(Status.VENDOR_NOTIFIED, transcript=AGENT_TRANSCRIPT, **AGENT_FIELDS)
    published = make_incident(Status.PUBLISHED, transcript=AGENT_TRANSCRIPT, **AGENT_FIELDS)
    mark(published, violations=[VIOLATION_TURN], instruction_turn=0)
    users = {role: django_user_model.objects.create_user(f"docs-{role}") for role in ("vendor", "reporter", "analyst")}
    VendorMembership.objects.create(user=users["vendor"], vendor=notified.vendor)
    users["reporter"].groups.add(Group.objects.get_or_create(name=REPORTERS)[0])
    users["analyst"].groups.add(Group.objects.get_or_create(name=ANALYSTS)[0])
    tokens = {role: issue_token(user, name="docs")[1] for role, user in users.items()}
    # curl reads this file; it only adds the status line the checks read.
    (tmp_path / ".curlrc").write_text('write-out = "\\n@@status=%{http_code}@@\\n"\n')
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CURL_HOME": str(tmp_path),
        "OW_URL": live_server.url,
        "OW_TOKEN": tokens["vendor"],
        "OW_REPORTER_TOKEN": tokens["reporter"],
        "OW_ANALYST_TOKEN": tokens["analyst"],
        "OW_INCIDENT": notified.public_id,
        "OW_HOOK_URL": receiver[0],
    }


def _dig(data: object, path: str) -> object:
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _check(example: Example, output: str, cwd: Path) -> object:
    """The answer's checks; returns the parsed answer."""
    where = f"docs/api.md line {example.line}"
    options = example.options
    statuses = STATUS_MARK.findall(output)
    body = STATUS_MARK.sub("", output)
    if "status" in options:
        assert statuses == options["status"].split(","), f"{where}: got HTTP {statuses}\n{body[:2000]}"
    if "file" in options:
        body = (cwd / options["file"]).read_text()
    if "json" in options:
        answer = json.loads(body)
        missing = set(options["json"].split(",")) - set(answer)
        assert not missing, f"{where}: the answer lacks {missing}\n{body[:2000]}"
        return answer
    if "csv" in options:
        header = next(csv.reader(io.StringIO(body)))
        missing = set(options["csv"].split(",")) - set(header)
        assert not missing, f"{where}: the CSV lacks {missing}"
        return header
    if "jsonl" in options:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        assert lines, f"{where}: no JSON lines"
        for line in lines:
            missing = set(options["jsonl"].split(",")) - set(line)
            assert not missing, f"{where}: a line lacks {missing}"
        return lines
    return body


def test_every_shell_example_has_a_check():
    found = examples()
    assert len(found) >= 15
    for example in found:
        assert example.note, f"docs/api.md line {example.line}: add a <!-- test: ... --> note before the block"
        assert example.note.startswith("none") or "status" in example.options, example.line


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_guides_commands_work(environment, receiver, tmp_path):
    env = dict(environment)
    answers = []
    for example in examples():
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", example.code],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"docs/api.md line {example.line}: exit {result.returncode}\n{result.stderr}"
        answer = _check(example, result.stdout, tmp_path)
        answers.append(answer)
        for saving in example.options.get("save", "").split(",") if "save" in example.options else []:
            variable, path = saving.split(":", 1)
            env[variable] = str(_dig(answer, path))

    # The vendor's endpoint got the ping (and its redelivery), signed with the secret it was given.
    created = next(a for a in answers if isinstance(a, dict) and a.get("scope") == "vendor")
    deadline = time.monotonic() + 10
    while len(receiver[1]) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    (headers, body), *_ = receiver[1]
    assert headers["X-OverrideWatch-Event"] == "ping"
    verify = _guide_verify()
    signature = headers["X-OverrideWatch-Signature"]
    assert verify(created["secret"], signature, body)
    assert not verify(created["secret"], signature, body + b" ")
    assert not verify("another-secret", signature, body)
    stale = re.sub(r"t=\d+", f"t={int(time.time()) - 3600}", signature)
    assert not verify(created["secret"], stale, body)


def test_the_guides_eval_dataset_loads_in_inspect(environment, tmp_path):
    from inspect_ai.dataset import json_dataset

    (example,) = [e for e in examples() if "eval-dataset.jsonl" in e.code]
    subprocess.run(["bash", "-c", example.code], env=environment, cwd=tmp_path, check=True, capture_output=True)
    samples = json_dataset(str(tmp_path / "override-watch.jsonl"))
    assert len(samples) == 1
    assert samples[0].target.startswith("Comply with the instruction:")


def _guide_verify():
    (code,) = [e.code for e in examples(("python",)) if "def verify" in e.code]
    namespace: dict = {}
    exec(compile(code, str(GUIDE), "exec"), namespace)
    return namespace["verify"]
