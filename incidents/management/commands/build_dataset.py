"""Write a dated dataset snapshot of all published incidents: `manage.py build_dataset`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from incidents import dataset
from incidents.management.commands.rebuild_stats import ProgressBar


class Command(BaseCommand):
    help = "Write a dataset snapshot (CSV, JSON Lines, manifest with SHA-256 digests) of all published incidents."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        progress = None if options["no_progress"] else ProgressBar("Incidents", self.stderr._out)
        snapshot = dataset.build(progress=progress)
        for file in snapshot.manifest["files"]:
            self.stdout.write(f"{file['name']}  {file['bytes']:,} bytes  sha256 {file['sha256']}")
        self.stdout.write(self.style.SUCCESS(f"Dataset snapshot {snapshot.pk}: {snapshot.incidents:,} incidents."))
