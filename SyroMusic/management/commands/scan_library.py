import os

from django.core.management.base import BaseCommand, CommandError

from SyroMusic.library.scan import LibraryLooksGone, library_scan

from ._progress import ScanProgress
from ._reports import write_scan_report


class Command(BaseCommand):
    help = (
        "Scan a music folder: read the tags, covers and lyrics of its MP3, FLAC, Ogg, Opus, M4A and WAV files, "
        "match them to the catalogue as import_catalogue does and serve them in place. Incremental: unchanged "
        "files are not opened again. A bad file is listed with its reason and the rest is scanned; the exit "
        "status is 1 when a file was refused, 2 when the path is not a folder."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the music folder (it may be read-only: nothing is written in it)")
        parser.add_argument("--dry-run", action="store_true", help="read and match everything; write nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--workers", type=int, help="processes reading files (default: one per CPU)")
        parser.add_argument(
            "--allow-empty", action="store_true",
            help="when the folder holds no audio file, mark every file the catalogue has there missing "
            "(without it such a scan stops: an unmounted disk is not an empty library)",
        )

    def handle(self, *args, path, dry_run, no_progress, workers, allow_empty, verbosity, **options):
        if not os.path.exists(path):
            raise CommandError(f"{path}: no such folder", returncode=2)
        if not os.path.isdir(path):
            raise CommandError(f"{path}: not a folder", returncode=2)
        if workers is not None and workers < 1:
            raise CommandError("--workers must be at least 1", returncode=2)
        progress = ScanProgress(enabled=not no_progress and verbosity > 0)
        try:
            report = library_scan(
                path=path, dry_run=dry_run, progress=progress, workers=workers, allow_empty=allow_empty
            )
        except LibraryLooksGone as error:
            raise CommandError(str(error), returncode=2) from None
        finally:
            progress.close()
        write_scan_report(self, path, report)
        if report.refused:
            raise CommandError(f"{path}: {len(report.refused):,} file(s) refused (listed above); the rest was scanned.")
