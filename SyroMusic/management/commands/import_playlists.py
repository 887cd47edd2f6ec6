from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from SyroMusic.imports.playlists import playlists_import
from SyroMusic.imports.rows import PLAYLIST_COLUMNS, ImportFailed

from ._progress import ImportProgress
from ._reports import write_report


class Command(BaseCommand):
    help = (
        f"Import an owner's playlists from a UTF-8 CSV file with a header row: {','.join(PLAYLIST_COLUMNS)} "
        "(disc_number and track_number optional). A playlist is identified by its name within the owner; "
        "importing again replaces its entries. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV file")
        parser.add_argument("--owner", required=True, help="username of the playlists' owner")
        parser.add_argument("--public", action="store_true", help="make new playlists public (default: private)")
        parser.add_argument("--dry-run", action="store_true", help="check everything and report; write nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file, owner, public, dry_run, no_progress, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            owner_user = get_user_model().objects.get(username=owner)
        except get_user_model().DoesNotExist:
            raise CommandError(f"--owner {owner}: no such user") from None
        progress = ImportProgress(path=file, enabled=not no_progress)
        try:
            report = playlists_import(path=path, owner=owner_user, make_public=public, dry_run=dry_run, progress=progress)
        except ImportFailed as failure:
            progress.close()
            write_report(self, file, failure.report)
            raise CommandError(f"{file}: nothing imported, {failure.report.error_count} bad row(s).") from None
        progress.close()
        write_report(self, file, report)
