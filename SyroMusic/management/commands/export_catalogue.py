import csv
import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from SyroMusic.imports.catalogue import catalogue_export_rows
from SyroMusic.imports.rows import CATALOGUE_COLUMNS, CATALOGUE_EXTRA_COLUMNS
from SyroMusic.models import Song


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Command(BaseCommand):
    help = (
        "Write the whole catalogue to a UTF-8 CSV file in the format import_catalogue reads "
        "(plus album_artist, filled only for compilation tracks). '-' writes to standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV file to write, or - for standard output")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file, no_progress, **options):
        columns = CATALOGUE_COLUMNS + CATALOGUE_EXTRA_COLUMNS
        if file == "-":
            self.write(self.stdout, columns, progress=None)
            return
        target = Path(file)
        if not target.parent.is_dir():
            raise CommandError(f"{file}: directory {target.parent} does not exist")
        progress = tqdm(
            total=Song.objects.count(), unit=" songs", unit_scale=True, file=sys.stderr,
            disable=True if no_progress else None, mininterval=0.5,
        )
        # Write beside the target and rename, so a failed export never leaves half a file in its place.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with progress, os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                count = self.write(out, columns, progress)
            os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp makes it private; the export is not
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
        self.stdout.write(f"Exported {count:,} songs to {file}.")

    def write(self, out, columns, progress):
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        count = 0
        for row in catalogue_export_rows():
            writer.writerow(row)
            count += 1
            if progress is not None:
                progress.update(1)
        return count
