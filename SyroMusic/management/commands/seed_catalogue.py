"""Create a deterministic demo catalogue of any size (the generator is SyroMusic.demo), and with --audio
real audio for the songs a newcomer sees first (SyroMusic.demo_audio), attached by a library scan."""

import resource
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from SyroMusic.demo import (
    GENRES,
    catalogue_has_data,
    demo_catalogue_seed,
    demo_covers_add,
    demo_listens_seed,
    plan_sizes,
    progress_total,
)
from SyroMusic.demo_audio import demo_audio_plan, demo_audio_write
from SyroMusic.library.scan import library_scan
from SyroMusic.models import Song

from ._progress import ScanProgress


class Command(BaseCommand):
    help = (
        "Create a deterministic demo catalogue: genres, artists, albums, songs, demo users and their "
        "playlists. Counts follow from --songs unless given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--songs", type=int, default=5000, help="number of songs (default 5000)")
        parser.add_argument("--artists", type=int, help="default: songs / 50")
        parser.add_argument("--albums", type=int, help="default: songs / 10")
        parser.add_argument("--playlists", type=int, help="default: songs / 100")
        parser.add_argument("--users", type=int, help="demo listeners owning the playlists; default: playlists / 20")
        parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same catalogue")
        parser.add_argument("--batch-size", type=int, default=5000, help="rows written per batch (default 5000)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the catalogue has any data")
        parser.add_argument(
            "--flush", action="store_true", help="delete the catalogue and all playlists (with their shares) first"
        )
        parser.add_argument(
            "--demo-admin", action="store_true", help="also create superuser admin/admin (only with DEBUG on), with a few hundred listens "
            "over the last months (Recently played, the stats)"
        )
        parser.add_argument(
            "--audio", action="store_true",
            help="give the first tracks of the newest albums and the most popular songs generated audio files "
            "(in --audio-folder, made only when missing) and scan that folder; also when the catalogue already "
            "exists (with --if-empty)",
        )
        parser.add_argument(
            "--covers", action="store_true",
            help="draw a cover for every album without one (after --audio's, whose files bring their own); also "
            "when the catalogue already exists (with --if-empty)",
        )
        parser.add_argument("--audio-folder", help="where the demo's audio files go (default: <project>/demo-music)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        for name in ("songs", "artists", "albums", "playlists", "users", "batch_size"):
            if options[name] is not None and options[name] < (0 if name == "playlists" else 1):
                raise CommandError(f"--{name.replace('_', '-')} must be at least {0 if name == 'playlists' else 1}")
        if options["demo_admin"]:
            self.create_demo_admin()

        has_data = catalogue_has_data()
        if has_data and options["if_empty"]:
            self.stdout.write("The catalogue already has data: nothing seeded.")
            if options["audio"]:
                # A catalogue seeded before the demo had audio gets it now; one that has it is left alone.
                self.add_demo_audio(options)
            if options["covers"]:
                self.add_demo_covers(options)
            if options["demo_admin"]:
                self.add_demo_listens(options)
            return
        if has_data and not options["flush"]:
            raise CommandError("The catalogue is not empty. Use --flush to replace it, or --if-empty to skip.")

        sizes = plan_sizes(
            songs=options["songs"],
            artists=options["artists"],
            albums=options["albums"],
            playlists=options["playlists"],
            users=options["users"],
        )
        progress = tqdm(
            total=progress_total(sizes),
            unit=" rows",
            unit_scale=True,
            file=sys.stderr,
            disable=True if options["no_progress"] else None,
            mininterval=0.5,
        )
        started = time.monotonic()
        with progress:
            entry_count = demo_catalogue_seed(
                sizes=sizes, seed=options["seed"], batch_size=options["batch_size"], flush=has_data, progress=progress
            )
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(GENRES)} genres, {sizes['artists']:,} artists, {sizes['albums']:,} albums, "
                f"{sizes['songs']:,} songs, {sizes['users']:,} users, {sizes['playlists']:,} playlists "
                f"({entry_count:,} entries) in {elapsed:.1f} s; peak RSS {peak_rss_mib():.0f} MiB."
            )
        )
        if options["audio"]:
            self.add_demo_audio(options)
        if options["covers"]:
            self.add_demo_covers(options)
        if options["demo_admin"]:
            self.add_demo_listens(options)

    def add_demo_covers(self, options):
        """A drawn cover for each album still without one; nothing to do (one query) once they all have one."""
        show = not options["no_progress"] and options.get("verbosity", 1) > 0
        started = time.monotonic()
        with tqdm(desc="demo covers", unit=" covers", file=sys.stderr, disable=None if show else True) as bar:
            given = demo_covers_add(progress=bar)
        if given:
            self.stdout.write(f"Drew covers for {given:,} albums in {time.monotonic() - started:.1f} s.")

    def add_demo_listens(self, options):
        """The demo listener's history (after the audio: the songs that play come first); none twice."""
        admin = get_user_model().objects.get(username="admin")
        started = time.monotonic()
        recorded = demo_listens_seed(user=admin, seed=options["seed"])
        if recorded:
            self.stdout.write(f"Gave admin {recorded} listens over the last months in {time.monotonic() - started:.1f} s.")

    def add_demo_audio(self, options):
        """Write the demo files the folder lacks, then scan the folder unless every demo song already plays."""
        folder = str(options["audio_folder"] or settings.BASE_DIR / "demo-music")
        plan = demo_audio_plan(folder=folder)
        show = not options["no_progress"] and options.get("verbosity", 1) > 0
        bar = tqdm(total=len(plan), desc="demo audio", unit=" files", file=sys.stderr, disable=None if show else True)
        with bar:
            report = demo_audio_write(folder=folder, plan=plan, progress=bar)
        playing = Song.objects.filter(id__in=report.song_ids).playable().count()
        self.stdout.write(
            f"Demo audio in {folder}: {report.songs} songs, {report.written} files written, {report.kept} kept, "
            f"{report.removed} removed ({report.bytes / 1_000_000:.1f} MB) in {report.seconds:.1f} s."
        )
        if not report.written and not report.removed and playing == report.songs:
            return
        progress = ScanProgress(enabled=show)
        try:
            scan = library_scan(path=folder, progress=progress)
        finally:
            progress.close()
        self.stdout.write(f"Scanned {folder} in {scan.seconds:.1f} s: {scan.summary() or 'nothing new'}.")
        for path, reason in scan.refused:
            self.stderr.write(f"{path}: {reason}")

    def create_demo_admin(self):
        if not settings.DEBUG:
            raise CommandError("--demo-admin creates a superuser with a public password: only with DEBUG on.")
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", "admin")
            self.stdout.write("Created the demo superuser admin (password: admin).")


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
