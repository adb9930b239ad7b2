"""Statistics at scale: rollup refresh time, and the API answers against raw SQL on the rollup.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/ow_bench \\
        .venv/bin/python bench/stats.py --incidents 1000000

Creates and migrates the bench database if needed, loads the incidents with COPY through
``bench/synthetic.py`` (skipped when the table already holds that many), rebuilds the rollups,
then times, best of N:

- ``GET /api/v1/stats/summary/`` and ``GET /api/v1/stats/timeseries/?interval=month&group_by=override_type``
  through Django's test client, cold (cache cleared before each call: the rollup is read and the
  figures suppressed) and warm (the cached answer);
- the same figures read straight from the rollup with raw SQL (one GROUPING SETS query for the
  summary, one GROUP BY for the series);
- and prints each ratio. The target: cold answers within 2× of raw SQL.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import best, load_history, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reload", action="store_true", help="Load the incidents again even if the count matches.")
    args = parser.parse_args()

    setup("ow_bench")
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import Resolver404, resolve

    from incidents import rollup
    from incidents.models import Incident, StatsRollup

    existing = Incident.objects.count()
    if args.reload or existing != args.incidents:
        print(f"Loading {args.incidents:,} incidents (the table holds {existing:,}).")
        load_history(args.incidents)
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
