"""The real path: a Redis broker, a `celery worker` process, PostgreSQL, and the outbox between them.

The worker is a child process reading the test database and writing the mail it sends to files,
so these tests see only what really went through the broker. In this process the Celery app is
switched from eager mode to the test's broker for the duration of each test.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import redis
from django.db import connection

from config.celery import app
from incidents import outbox, workflow
from incidents.models import Incident, OutboxMessage, Status
from incidents.submission import file_incident
from tests.conftest import incident_fields

ROOT = Path(__file__).resolve().parent.parent
SEPARATOR = b"\n" + b"-" * 79 + b"\n"
DEADLINE = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], what: str, *, timeout: float = DEADLINE, log: Path | None = None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if result := condition():
            return result
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}.\n{tail}")


class RedisServer:
    """A redis-server of our own, so the test can take the broker away and bring it back."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*command, "--daemonize", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_for(lambda: self._answers(client), "redis-server to answer", timeout=10)

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def crash(self) -> None:
        """SIGKILL: the broker vanishes with whatever it held, as in a real outage."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Mailbox:
    """What the worker's file-based email backend wrote."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def messages(self):
        found = []
        for path in sorted(self.directory.glob("*.log")):
            for chunk in path.read_bytes().split(SEPARATOR):
                if chunk.strip():
                    found.append(message_from_bytes(chunk, policy=policy.default))
        return found

    def subjects(self) -> list[str]:
        return sorted(str(message["Subject"]) for message in self.messages())


@dataclass
class Worker:
    mailbox: Mailbox
    log: Path


@pytest.fixture
def start_worker(transactional_db, tmp_path, monkeypatch) -> Iterator[Callable[[str], Worker]]:
    """Start `celery -A config worker` on a broker, against the test database; stop it afterwards.

    Depends on the database fixture so that the worker is gone before the test data is flushed.
    """
    processes: list[subprocess.Popen] = []
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}

    def start(broker_url: str) -> Worker:
        db = connection.settings_dict
        credentials = urllib.parse.quote(db["USER"] or "")
        if db["PASSWORD"]:
            credentials += ":" + urllib.parse.quote(db["PASSWORD"])
        mail = tmp_path / "mail"
        mail.mkdir()
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            # Four slashes: django-environ drops the first one of the path.
            "EMAIL_URL": f"filemail:///{mail}",
        }
        log = tmp_path / "worker.log"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"]
        processes.append(
            subprocess.Popen(
                [
                    *command,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"test-{os.getpid()}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        wait_for(lambda: b"ready." in log.read_bytes(), "the worker to start", log=log)
        # From here on this process publishes to the same broker instead of running tasks inline.
        app.conf.update(broker_url=broker_url, task_always_eager=False)
        # A failed publish pauses publishing in this process; later tests must not inherit that.
        monkeypatch.setattr(outbox, "_publish_paused_until", 0.0)
        return Worker(Mailbox(mail), log)

    yield start

    app.conf.update(saved)
    for process in processes:
        process.send_signal(signal.SIGTERM)  # a warm shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.crash()


def sent(message: OutboxMessage) -> bool:
    message.refresh_from_db()
    return message.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_acknowledgement_of_a_new_report(start_worker):
    broker = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(broker).flushdb()
    worker = start_worker(broker)

    incident = file_incident(fields=incident_fields(), reporter_email="me@example.org")

    message = OutboxMessage.objects.get()
    wait_for(lambda: sent(message), "the worker to send the acknowledgement", log=worker.log)
    [mail] = wait_for(worker.mailbox.messages, "the mail file")
    assert mail["To"] == "me@example.org"
    assert mail["Subject"] == f"[Override Watch] {incident.public_id}: we received your report"
    assert incident.get_receipt_url() in mail.get_content()
    assert message.attempts == 1 and message.last_error == ""


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_delays_delivery_but_loses_and_repeats_nothing(own_redis, start_worker):
    worker = start_worker(own_redis.url)
    mailbox = worker.mailbox
    incident = file_incident(fields=incident_fields(), reporter_email="me@example.org")
    wait_for(lambda: len(mailbox.messages()) == 1, "the acknowledgement", log=worker.log)

    own_redis.crash()
    started = time.monotonic()
    workflow.transition(incident, Status.TRIAGE, actor=None)
    # The change commits, and the request that made it is not held up by the missing broker.
    assert time.monotonic() - started < 2
    assert Incident.objects.get(pk=incident.pk).status == Status.TRIAGE
    pending = OutboxMessage.objects.get(sent_at__isnull=True)
    assert pending.payload["subject"].endswith("status is now in triage")
    time.sleep(1)
    assert len(mailbox.messages()) == 1

    own_redis.start()  # same port, empty: whatever the broker held is gone
    assert outbox.sweep() == 1
    wait_for(lambda: sent(pending), "the worker to send the status change", log=worker.log)
    wait_for(lambda: len(mailbox.messages()) == 2, "the status change email", log=worker.log)

    # Sweeping again, and a duplicate task for the same message, send nothing more.
    assert outbox.sweep() == 0
    outbox._publish([pending.pk])
    time.sleep(2)
    assert mailbox.subjects() == [
        f"[Override Watch] {incident.public_id}: status is now in triage",
        f"[Override Watch] {incident.public_id}: we received your report",
    ]
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_the_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()
    assert {entry["task"] for entry in app.conf.beat_schedule.values()} == {
        "incidents.tasks.sweep_outbox",
        "incidents.tasks.purge_outbox",
        "incidents.tasks.purge_staged_uploads",
        "incidents.tasks.publish_overdue_incidents",
        "incidents.tasks.send_disclosure_reminders",
        "incidents.tasks.refresh_statistics",
        "incidents.tasks.send_weekly_digests",
        "incidents.tasks.build_dataset_snapshot",
        "api.tasks.purge_idempotency_keys",
    }
    assert all(entry["task"] in app.tasks for entry in app.conf.beat_schedule.values())
