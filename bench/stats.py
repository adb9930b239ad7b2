"""Statistics at scale: rollup refresh time, and the API answers against raw SQL on the rollup.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/ow_bench \\
        .venv/bin/python bench/stats.py --incidents 1000000

Creates and migrates the bench database if needed, loads the incidents with COPY (skipped when
the table already holds that many), rebuilds the rollups, then times, best of N:

- ``GET /api/v1/stats/summary/`` and ``GET /api/v1/stats/timeseries/?interval=month&group_by=override_type``
  through Django's test client, cold (cache cleared before each call: the rollup is read and the
  figures suppressed) and warm (the cached answer);
- the same figures read straight from the rollup with raw SQL (one GROUPING SETS query for the
  summary, one GROUP BY for the series);
- and prints each ratio. The target: cold answers within 2× of raw SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"Created database {name}.")


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def load(n: int, seed: int = 42) -> None:
    """COPY n incidents: skewed like real reports (a few big systems, many small cells)."""
    from django.db import connection

    from incidents.models import AISystem, Incident, Vendor

    rng = random.Random(seed)
    table = Incident._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {table}, incidents_incidentevent, incidents_transcript, incidents_reportercontact, "
            "incidents_reporternote, incidents_comment, incidents_vendorresponse, incidents_statsrollup, "
            "incidents_responsetimerollup, incidents_statsrefresh, incidents_aisystem, incidents_vendor CASCADE"
        )
    vendors = [Vendor.objects.create(name=f"Vendor {i:02d}", slug=f"vendor-{i:02d}") for i in range(20)]
    systems = [
        AISystem.objects.create(vendor=v, name=f"System {v.slug[-2:]}-{k}", slug=f"system-{k}")
        for v in vendors
        for k in range(3)
    ]
    system_weights = [1 / (rank + 1) ** 1.1 for rank in range(len(systems))] + [0.4]  # Zipf-like, plus unlinked
    choices = {
        "override_type": (
            [
                "prohibited_action",
                "scope_exceeded",
                "confirmation_bypassed",
                "shutdown_resisted",
                "safeguard_evaded",
                "deception",
                "coercion",
                "reward_hacking",
                "self_preservation",
                "data_exfiltration",
                "other",
            ],
            [30, 20, 12, 4, 8, 9, 3, 6, 2, 5, 1],
        ),
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
    fields = [f for f in Incident._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    now = datetime.now(UTC)

    def rows():
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
                "secondary_override_types": "[]",
                "status": status,
                "published_at": published if status in ("published", "resolved") else None,
                "vendor_notified_at": notified,
                "disclosure_deadline": notified + timedelta(days=90) if notified else None,
                "first_vendor_response_at": answered,
                "reproduction_count": rng.choices([0, 1, 2, 3], weights=[85, 10, 4, 1])[0],
                "report_count": 1,
                "receipt_token": secrets.token_hex(16),
                "created": published - timedelta(days=100),
                "modified": now,
                "is_reproduction": False,
            }
            for name, (options, weights) in choices.items():
                values[name] = rng.choices(options, weights=weights)[0]
            row = []
            for f in fields:
                if f.attname in values:
                    row.append(values[f.attname])
                elif f.name in values:
                    row.append(values[f.name])
                elif f.null:
                    row.append(None)
                else:
                    default = f.get_default()
                    row.append(json.dumps(default) if isinstance(default, (list, dict)) else default)
            yield row

    # Loading is faster without the secondary indexes; the btree ones come back afterwards.
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
        quoted = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for done, row in enumerate(rows(), start=1):
                copy.write_row(row)
                if done % 100_000 == 0:
                    print(f"  copied {done:,} incidents ({time.perf_counter() - started:.0f} s)", flush=True)
    raw.commit()
    print(f"COPY of {n:,} incidents: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for _, definition in indexes:
            if " USING gin " not in definition:
                cursor.execute(definition)
        cursor.execute(f"ANALYZE {table}")
    skipped = [name for name, d in indexes if " USING gin " in d]
    print(f"Indexes rebuilt in {time.perf_counter() - started:.1f} s (full-text GIN indexes skipped: {skipped})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reload", action="store_true", help="Load the incidents again even if the count matches.")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database of its own, e.g. postgres://postgres@127.0.0.1:5432/ow_bench"
        )
    ensure_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import Resolver404, resolve

    from incidents import rollup
    from incidents.models import Incident, StatsRollup

    call_command("migrate", verbosity=0)
    existing = Incident.objects.count()
    if args.reload or existing != args.incidents:
        print(f"Loading {args.incidents:,} incidents (the table holds {existing:,}).")
        load(args.incidents)
    else:
        print(f"Reusing the {existing:,} incidents already loaded.")

    refreshes = []
    for _ in range(2):
        started = time.perf_counter()
        rollup.rebuild()
        refreshes.append(time.perf_counter() - started)
    month = rollup.published_months()[-1]
    month_refresh = best(lambda: rollup.refresh([month]), args.repeat)
    rows = StatsRollup.objects.count()

    try:
        resolve("/api/v1/stats/summary/")
        urlconf = settings.ROOT_URLCONF
    except Resolver404:
        urlconf = "tests.incidents.test_stats"  # until api/urls.py routes the statistics endpoints
    unthrottled = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    client = Client(HTTP_HOST="localhost")
    summary_url = "/api/v1/stats/summary/"
    series_url = "/api/v1/stats/timeseries/?interval=month&group_by=override_type"

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, response.content[:500]

    def cold(path: str) -> None:
        cache.clear()
        get(path)

    def sql(query: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(query)
            cursor.fetchall()

    raw_summary = (
        "SELECT severity_band, override_type, environment, context, SUM(incidents) FROM incidents_statsrollup "
        "GROUP BY GROUPING SETS ((severity_band), (override_type), (environment), (context), ())"
    )
    raw_series = "SELECT month, override_type, SUM(incidents) FROM incidents_statsrollup GROUP BY 1, 2"
    with override_settings(ROOT_URLCONF=urlconf, REST_FRAMEWORK=unthrottled):
        get(summary_url)
        get(series_url)
        results = {
            "summary": (
                best(lambda: cold(summary_url), args.repeat),
                best(lambda: get(summary_url), args.repeat * 4),
                best(lambda: sql(raw_summary), args.repeat),
            ),
            "timeseries": (
                best(lambda: cold(series_url), args.repeat),
                best(lambda: get(series_url), args.repeat * 4),
                best(lambda: sql(raw_series), args.repeat),
            ),
        }
        page_cold = best(lambda: cold("/stats/"), 3)
        page_warm = best(lambda: get("/stats/"), args.repeat)

    print()
    print(f"Incidents: {Incident.objects.count():,}; rollup rows: {rows:,}")
    print(
        f"Rollup rebuild (one INSERT … SELECT per table): {min(refreshes):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in refreshes)})"
    )
    print(f"Refresh of one month ({month:%Y-%m}), as after a publication: {month_refresh * 1000:.0f} ms")
    print()
    print(f"{'answer':<12}{'cold (ms)':>12}{'warm (ms)':>12}{'raw SQL (ms)':>15}{'cold/raw':>10}{'warm/raw':>10}")
    for name, (c, w, r) in results.items():
        print(f"{name:<12}{c * 1000:>12.1f}{w * 1000:>12.1f}{r * 1000:>15.1f}{c / r:>10.2f}{w / r:>10.2f}")
    print()
    print(
        f"/stats/ page (ten charts, three rollup scans): cold {page_cold * 1000:.0f} ms, warm {page_warm * 1000:.0f} ms"
    )
    worst = max(c / r for c, _, r in results.values())
    print(f"Target: cold answers within 2x of raw SQL -> {'met' if worst <= 2 else 'NOT met'} (worst {worst:.2f}x)")


if __name__ == "__main__":
    main()
