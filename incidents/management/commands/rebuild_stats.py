"""Rebuild the statistics rollups from scratch: `manage.py rebuild_stats`."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from django.core.management.base import BaseCommand

from incidents import rollup


class ProgressBar:
    """A one-line progress bar on a terminal (plain lines when the output is not one)."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label, self.stream, self.width = label, stream or sys.stderr, width
        self.started = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_percent = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total == 0 else int(100 * done / total)
        if not self.tty and percent // 10 == self.last_percent // 10 and done < total:
            return  # pipes and logs get a line every 10%
        self.last_percent = percent
        filled = self.width * percent // 100
        elapsed = time.monotonic() - self.started
        bar = "#" * filled + "." * (self.width - filled)
        line = f"{self.label} [{bar}] {percent:3d}% {done:,}/{total:,} {elapsed:.1f}s"
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and done >= total:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Rebuild the statistics rollups (published incidents per month and dimension, vendor response times)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="One statement, no progress bar.")

    def handle(self, *args, **options) -> None:
        progress = None if options["no_progress"] else ProgressBar("Months", self.stderr._out)
        refresh = rollup.rebuild(progress=progress)
        self.stdout.write(
            self.style.SUCCESS(f"Statistics rebuilt: {refresh.rows:,} rollup rows in {refresh.seconds:.1f} s.")
        )
