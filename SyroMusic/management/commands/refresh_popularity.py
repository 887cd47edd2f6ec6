"""Song popularity from counted listens over the last days (SyroMusic.listening.popularity): run it on a
schedule (cron or a systemd timer), never per request."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from SyroMusic.listening.popularity import DEFAULT_DAYS, popularity_refresh


class Command(BaseCommand):
    help = (
        "Set every song's popularity (0-100, the 'popular' sort) from its counted listens over the last days: "
        "round(100 × ln(1 + n) / ln(1 + the top song's n)), 0 without a listen. Writes only the songs whose "
        "value changes, in one transaction, and then refreshes the cached pages."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=DEFAULT_DAYS, help=f"the window, in days back from now (default {DEFAULT_DAYS})"
        )
        parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, days, dry_run, no_progress, verbosity, **options):
        if days < 1:
            raise CommandError("--days must be at least 1")
        bar = tqdm(
            desc="songs", unit=" songs", unit_scale=True, file=sys.stderr, mininterval=0.5,
            disable=True if no_progress or verbosity < 1 else None,
        )
        with bar:
            report = popularity_refresh(days=days, dry_run=dry_run, progress=bar.update)
        would = "would change" if dry_run else "changed"
        self.stdout.write(
            f"Popularity from counted listens since {report.since:%Y-%m-%d %H:%M} UTC ({days} days): "
            f"{report.heard:,} of {report.songs:,} songs heard, the most {report.most:,} times; "
            f"{report.changed:,} songs {would} ({report.raised:,} up, {report.lowered:,} down) "
            f"in {report.seconds:.1f} s."
        )
        if dry_run:
            self.stdout.write("Dry run: nothing written.")
