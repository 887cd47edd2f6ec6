from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from SyroMusic.imports.catalogue import catalogue_import
from SyroMusic.imports.rows import CATALOGUE_COLUMNS, ImportFailed

from ._progress import ImportProgress
from ._reports import write_report


class Command(BaseCommand):
    help = (
        "Import songs from a UTF-8 CSV file with a header row: "
        f"{','.join(CATALOGUE_COLUMNS)} (only artist, album and title required; optional album_artist for "
        "compilations). All or nothing: a bad row stops the import with its line number and stores nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the whole file and report what would change; write nothing"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file, dry_run, no_progress, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        progress = ImportProgress(path=file, enabled=not no_progress)
        try:
            report = catalogue_import(path=path, dry_run=dry_run, progress=progress)
        except ImportFailed as failure:
            progress.close()
            write_report(self, file, failure.report)
            raise CommandError(f"{file}: nothing imported, {failure.report.error_count} bad row(s).") from None
        progress.close()
        write_report(self, file, report)
