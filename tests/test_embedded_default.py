"""The newcomer's path on the embedded default: SQLite, tasks in-process, no services.

Runs the real commands `make run` runs (migrate, seed_demo, the server) in a child process with
its own SQLite file, then uses the site over HTTP as a person would.
"""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "/",
    "/report/",
    "/incidents/",
    "/stats/",
    "/admin/login/",
    "/api/v1/schema/",
    "/api/v1/docs/",
    "/feeds/incidents.atom",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
        "UPLOADS_DIR": str(var / "uploads"),
        "DEBUG": "true",
        "DEMO_MODE": "true",
    }
    env.pop("CELERY_BROKER_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, capture_output=True)
    seeded = subprocess.run([*manage, "seed_demo"], env=env, check=True, capture_output=True, text=True)
    port = free_port()
    process = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    yield base, seeded.stdout
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize("path", PAGES)
def test_it_serves_every_page(server, path):
    base, _ = server
    with urllib.request.urlopen(base + path, timeout=10) as response:
        assert response.status == 200


def test_it_prints_the_demo_logins(server):
    _, output = server
    for username in ("admin", "triager", "analyst"):
        assert username in output


def test_it_files_a_report_with_only_the_required_fields(server):
    base, _ = server
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/report/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
    data = {
        "csrfmiddlewaretoken": token,
        "title": "Agent deleted files after being told not to",
        "system_name_reported": "FileBot",
        "context": "coding_agent",
        "environment": "production",
        "instruction": "Do not delete any file.",
        "instruction_source": "user_turn",
        "action_taken": "It deleted the tests folder.",
        "reversibility": "costly",
        "acknowledged": "no",
        "override_type": "prohibited_action",
        "occurred_on": "2026-06-01",
        "reporter_type": "end_user",
    }
    request = urllib.request.Request(
        base + "/report/", data=urllib.parse.urlencode(data).encode(), headers={"Referer": base + "/report/"}
    )
    with opener.open(request, timeout=10) as response:
        assert response.status == 200
        assert "/receipt/" in response.url
        assert "Your report AIO-" in response.read().decode()
