"""Synthetic incidents for the benches, and what every bench needs to start.

Two shapes of data, both loaded with PostgreSQL ``COPY``:

- ``load_history(n)``: n incidents over five years, 85 % of them published or resolved, skewed
  like real reports (a few big systems, many small cells). ``bench/stats.py`` and
  ``bench/api_list.py`` read it, so they can share one load.
- ``load_queue(open_count, closed_count, staff_ids)``: the staff queue's shape, open incidents in
  every open status over the last year, with closed ones around them (``bench/triage_queue.py``).

Loading drops the table's secondary indexes, copies the rows, rebuilds the indexes and runs
``VACUUM (ANALYZE)``, as autovacuum would on a live table: statistics for the planner, and the
visibility map that index-only scans need.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

OVERRIDE_TYPES = (
    [
        *("prohibited_action", "scope_exceeded", "confirmation_bypassed", "shutdown_resisted", "safeguard_evaded"),
        *("deception", "coercion", "reward_hacking", "self_preservation", "data_exfiltration", "other"),
    ],
    [30, 20, 12, 4, 8, 9, 3, 6, 2, 5, 1],
)
OPEN = ("submitted", "triage", "confirmed", "vendor_notified", "vendor_responded")
PROGRESS_EVERY = 100_000


def setup(example_database: str) -> str:
    """Check DATABASE_URL, create the database if needed, set Django up and migrate. Returns the URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database of its own, "
            f"e.g. postgres://postgres@127.0.0.1:5432/{example_database}"
        )
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"Created database {name}.")


def timings(fn: Callable[[], object], repeat: int) -> list[float]:
    """The time of each of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def best(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    return min(timings(fn, repeat))


def load_history(n: int, seed: int = 42) -> None:
    """COPY n incidents published over five years (and 15 % never published), with vendors and systems."""
    from django.db import connection

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        # The rollups are not tied to incidents by a key, so CASCADE does not empty them.
        cursor.execute(
            "TRUNCATE incidents_statsrollup, incidents_responsetimerollup, incidents_statsrefresh, "
            "incidents_incident, incidents_aisystem, incidents_vendor CASCADE"
        )
    systems = _vendors_and_systems()
    system_weights = [1 / (rank + 1) ** 1.1 for rank in range(len(systems))] + [0.4]  # Zipf-like, plus unlinked
    choices = {
        "override_type": OVERRIDE_TYPES,
        "environment": (["production", "pilot", "evaluation"], [60, 15, 25]),
        "context": (
            ["chat_assistant", "coding_agent", "browser_agent", "email_agent", "multi_agent", "other"],
            [30, 30, 12, 15, 8, 5],
        ),
        "severity_band": (["none", "low", "medium", "high", "critical", ""], [5, 25, 35, 20, 10, 5]),
        "intake_channel": (["web", "api", "monitor"], [70, 20, 10]),
        "reporter_type": (["end_user", "deployer", "researcher", "vendor", "monitor"], [45, 20, 20, 5, 10]),
    }
    statuses = (["published", "resolved", "triage", "vendor_notified", "rejected", "duplicate"], [70, 15, 4, 4, 4, 3])
    start = datetime(2021, 1, 1, tzinfo=UTC)
    span = 60 * 30 * 86400

    def incidents() -> Iterable[dict]:
        for i in range(n):
            system = rng.choices([*systems, None], weights=system_weights)[0]
            status = rng.choices(*statuses)[0]
            published = start + timedelta(seconds=rng.randrange(span))
            notified = published - timedelta(days=rng.randrange(10, 90)) if system and rng.random() < 0.6 else None
            answered = notified + timedelta(days=rng.randrange(0, 100)) if notified and rng.random() < 0.75 else None
            values = {
                "public_id": f"AIO-B-{i:07d}",
                "title": f"Bench incident {i}",
                "instruction": "Do not delete anything.",
                "instruction_source": "user_turn",
                "action_taken": "It deleted things.",
                "reversibility": "irreversible",
                "acknowledged": "yes",
                "system_name_reported": "Typed name",
                "ai_system_id": system.pk if system else None,
                "vendor_id": system.vendor_id if system else None,
                "occurred_on": date(2021, 1, 1),
                "status": status,
                "published_at": published if status in ("published", "resolved") else None,
                "vendor_notified_at": notified,
                "disclosure_deadline": notified + timedelta(days=90) if notified else None,
                "first_vendor_response_at": answered,
                "reproduction_count": rng.choices([0, 1, 2, 3], weights=[85, 10, 4, 1])[0],
                "created": published - timedelta(days=100),
                # The last change: the publication, or the vendor's answer when that came later.
                "modified": max(published, answered) if answered else published,
            }
            for name, (options, weights) in choices.items():
                values[name] = rng.choices(options, weights=weights)[0]
            yield values

    # The bench never searches this data: its full-text and trigram indexes are left out.
    copy_incidents(incidents(), n, full_text=False)


def load_queue(open_count: int, closed_count: int, staff_ids: list[int], seed: int = 7) -> None:
    """COPY open incidents in every open status, and closed ones (published, rejected, …) around them."""
    from django.db import connection

    from incidents.severity import band_for

    open_weights = (35, 25, 10, 20, 10)
    closed, closed_weights = ("published", "resolved", "rejected", "duplicate"), (50, 20, 20, 10)
    # Titles and texts from a small vocabulary, so full-text search finds realistic shares of rows.
    agents = ["Email agent", "Coding agent", "Calendar assistant", "Browser agent", "Support bot", "Shell agent"]
    acts = ["deleted", "cancelled", "pushed", "emailed", "renamed", "shared", "disabled", "overwrote"]
    things = ["mail", "meetings", "commits", "files", "customer records", "the shutdown script", "logs", "invoices"]

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE incidents_incident, incidents_aisystem, incidents_vendor CASCADE")
    systems = _vendors_and_systems()
    system_weights = [1 / (rank + 1) ** 1.1 for rank in range(len(systems))]
    now = datetime.now(UTC)
    span = 365 * 86400
    numbers: Counter[int] = Counter()

    def incidents() -> Iterable[dict]:
        for i in range(open_count + closed_count):
            status = rng.choices(OPEN, open_weights)[0] if i < open_count else rng.choices(closed, closed_weights)[0]
            created = now - timedelta(seconds=rng.randrange(span))
            numbers[created.year] += 1
            notified = status in ("vendor_notified", "vendor_responded", "published", "resolved") and rng.random() < 0.9
            linked = notified or rng.random() < 0.5
            system = rng.choices(systems, weights=system_weights)[0] if linked else None
            vendor_notified_at = created + timedelta(days=rng.randrange(1, 10)) if notified and system else None
            rated = status != "submitted" or rng.random() < 0.3
            score = Decimal(rng.randrange(0, 101)) / 10 if rated else None
            assigned = status != "submitted" or rng.random() < 0.2
            agent, act, thing = rng.choice(agents), rng.choice(acts), rng.choice(things)
            yield {
                "public_id": f"AIO-{created.year}-{numbers[created.year]:05d}",
                "title": f"{agent} {act} {thing} it was told to keep",
                "instruction": f"Do not touch the {thing}.",
                "instruction_source": "user_turn",
                "action_taken": f"The {agent.lower()} {act} {thing} anyway.",
                "reversibility": rng.choice(["reversible", "costly", "irreversible", "unknown"]),
                "acknowledged": rng.choice(["yes", "no", "unknown"]),
                "context": rng.choice(["chat_assistant", "coding_agent", "browser_agent", "email_agent"]),
                "environment": rng.choices(["production", "pilot", "evaluation"], [60, 15, 25])[0],
                "system_name_reported": system.name if system else f"{agent} {rng.randrange(1, 9)}",
                "ai_system_id": system.pk if system else None,
                "vendor_id": system.vendor_id if system else None,
                "occurred_on": (created - timedelta(days=rng.randrange(0, 5))).date(),
                "reporter_type": rng.choice(["end_user", "deployer", "researcher"]),
                "intake_channel": rng.choices(["web", "api", "monitor"], [70, 20, 10])[0],
                "override_type": rng.choices(*OVERRIDE_TYPES)[0],
                "severity_score": score,
                "severity_band": band_for(score) if score is not None else "",
                "status": status,
                "assignee_id": rng.choice(staff_ids) if assigned else None,
                "vendor_notified_at": vendor_notified_at,
                "disclosure_deadline": vendor_notified_at + timedelta(days=90) if vendor_notified_at else None,
                "published_at": created + timedelta(days=100) if status in ("published", "resolved") else None,
                "created": created,
                "modified": created + timedelta(seconds=rng.randrange(0, 30 * 86400)),
            }

    copy_incidents(incidents(), open_count + closed_count, full_text=True)


def copy_incidents(incidents: Iterable[dict], total: int, *, full_text: bool) -> None:
    """COPY the incidents (dicts of field name or attname to value; the rest take the model's defaults).

    Secondary indexes are dropped for the load and rebuilt after it, the full-text and trigram (GIN)
    ones only when ``full_text`` is set; then the table is vacuumed and analysed.
    """
    from django.db import connection

    from incidents.models import Incident

    table = Incident._meta.db_table
    fields = [f for f in Incident._meta.concrete_fields if not f.primary_key]
    defaults = {}
    for f in fields:
        if not f.null:  # a nullable field left out is NULL
            default = f.get_default()
            defaults[f.attname] = json.dumps(default) if isinstance(default, list | dict) else default

    def rows() -> Iterable[list]:
        for values in incidents:
            row = []
            for f in fields:
                if f.attname in values:
                    row.append(values[f.attname])
                elif f.name in values:
                    row.append(values[f.name])
                elif f.attname == "receipt_token":  # unique
                    row.append(secrets.token_urlsafe(32))
                else:
                    row.append(defaults.get(f.attname))
            yield row

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexdef NOT LIKE %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [table, "%UNIQUE%"],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    started = time.perf_counter()
    raw = connection.connection
    with raw.cursor() as cursor:
        quoted = ", ".join(f'"{f.column}"' for f in fields)
        with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for done, row in enumerate(rows(), start=1):
                copy.write_row(row)
                if done % PROGRESS_EVERY == 0:
                    elapsed = time.perf_counter() - started
                    print(f"  copied {done:,} of {total:,} incidents ({elapsed:.0f} s)", flush=True)
    raw.commit()
    print(f"COPY of {total:,} incidents: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    skipped = []
    with connection.cursor() as cursor:
        for name, definition in indexes:
            if full_text or " USING gin " not in definition:
                cursor.execute(definition)
            else:
                skipped.append(name)
        cursor.execute(f"VACUUM (ANALYZE) {table}")
    elapsed = time.perf_counter() - started
    left_out = f" (full-text and trigram indexes left out: {', '.join(skipped)})" if skipped else ""
    print(f"{len(indexes) - len(skipped)} indexes rebuilt and the table vacuumed in {elapsed:.1f} s{left_out}")


def _vendors_and_systems() -> list:
    """20 vendors with 3 systems each; the callers weight them Zipf-like by rank."""
    from incidents.models import AISystem, Vendor

    vendors = [Vendor.objects.create(name=f"Vendor {i:02d}", slug=f"vendor-{i:02d}") for i in range(20)]
    return [
        AISystem.objects.create(vendor=v, name=f"System {v.slug[-2:]}-{k}", slug=f"system-{k}")
        for v in vendors
        for k in range(3)
    ]
