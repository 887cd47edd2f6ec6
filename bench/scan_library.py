"""`scan_library` at 10,000 files: the first scan (every file decoded and matched) and the second (nothing changed).

    .venv/bin/python bench/scan_library.py               # 10,000 files in .bench/library-10k/, reused between runs
    .venv/bin/python bench/scan_library.py --files 1000  # a smaller library (in .bench/library-1000/)

The library: 50 artists x 10 albums x 20 songs of 2 s mono MP3 and Ogg Vorbis, a cover.jpg in every
other album folder and a sidecar .lrc beside every tenth song. Encoding 10,000 files would take longer
than scanning them, so a few pieces are encoded (SyroMusic.audio.encode) and copied, each copy tagged
as its own song with mutagen: the tags differ, so the files are different songs with different hashes.

Each run scans into a fresh SQLite database (and MEDIA_ROOT) in a temporary folder, in a child process
with its own settings: the first scan once, then the second scan --runs times (its median counts);
--read-only first times reading every file with the same processes and no database (the floor).
Prints the figures; main() returns them as a dict.
"""

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".bench"
ARTISTS, ALBUMS_PER_ARTIST = 50, 10
BASE_PIECES = 8  # distinct encodings per format, copied and tagged
SECONDS, SAMPLE_RATE = 2.0, 22050
GENERATION = 1  # bump when the library's layout changes: a folder of another generation is made again


def log(message):
    print(f"bench scan_library: {message}", file=sys.stderr, flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000, help="audio files in the library (default 10,000)")
    parser.add_argument("--runs", type=int, default=3, help="second scans timed (default 3; the median counts)")
    parser.add_argument("--workers", type=int, help="processes reading files (default: one per CPU)")
    parser.add_argument("--read-only", action="store_true",
                        help="also time reading every file with the same processes and no database (the floor)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the scanning process: the library's folder
    return parser.parse_args(argv)


def library(files):
    """The library folder of `files` files, generated unless a complete one is there (its marker says so)."""
    folder = STATE / f"library-{files // 1000}k" if files % 1000 == 0 else STATE / f"library-{files}"
    marker = folder / ".complete.json"
    wanted = {"files": files, "generation": GENERATION}
    try:
        if json.loads(marker.read_text()) == wanted:
            log(f"reusing {folder} ({files:,} files)")
            return folder
    except (OSError, ValueError):
        pass
    sys.path.insert(0, str(ROOT))
    import shutil

    from mutagen import id3, oggvorbis
    from PIL import Image

    from SyroMusic.audio.encode import write_audio
    from SyroMusic.audio.synth import piece

    shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    base = folder / ".base"  # hidden: the scan leaves it out
    base.mkdir(parents=True)
    pieces = {
        (format, seed): write_audio(
            base / f"{seed}.{format}", samples=piece(seed, seconds=SECONDS, sample_rate=SAMPLE_RATE, channels=1),
            sample_rate=SAMPLE_RATE, format=format,
        ).read_bytes()
        for format in ("mp3", "ogg") for seed in range(BASE_PIECES)
    }
    songs_per_album = max(1, -(-files // (ARTISTS * ALBUMS_PER_ARTIST)))
    for number in range(files):
        artist, rest = divmod(number, ALBUMS_PER_ARTIST * songs_per_album)
        album, track = divmod(rest, songs_per_album)
        album_folder = folder / f"Artist {artist:02d}" / f"Album {album:02d}"
        if track == 0:
            album_folder.mkdir(parents=True)
            if album % 2 == 0:
                color = (number * 37 % 256, number * 91 % 256, number * 53 % 256)
                Image.new("RGB", (200, 200), color).save(album_folder / "cover.jpg", quality=85)
        format = "mp3" if number % 2 == 0 else "ogg"
        path = album_folder / f"{track + 1:02d} Song.{format}"
        path.write_bytes(pieces[format, number % BASE_PIECES])
        tags = {
            "title": f"Song {number}", "artist": f"Artist {artist:02d}", "album": f"Album {artist:02d}-{album:02d}",
            "track": str(track + 1), "date": str(1970 + album), "genre": f"Genre {artist % 12}",
        }
        if format == "mp3":
            frames = id3.ID3()
            for frame, name in ((id3.TIT2, "title"), (id3.TPE1, "artist"), (id3.TALB, "album"), (id3.TRCK, "track"),
                                (id3.TDRC, "date"), (id3.TCON, "genre")):
                frames.add(frame(encoding=id3.Encoding.UTF8, text=[tags[name]]))
            frames.save(path)
        else:
            audio = oggvorbis.OggVorbis(path)
            audio.tags.update({"TITLE": tags["title"], "ARTIST": tags["artist"], "ALBUM": tags["album"],
                               "TRACKNUMBER": tags["track"], "DATE": tags["date"], "GENRE": tags["genre"]})
            audio.save()
        if number % 10 == 0:
            path.with_suffix(".lrc").write_text(f"[00:00.50]Line of song {number}\n[00:01.50]Its second line\n")
        if number % 1000 == 999:
            log(f"  {number + 1:,} files")
    shutil.rmtree(base)
    marker.write_text(json.dumps(wanted) + "\n")
    log(f"generated {files:,} files in {folder} in {time.monotonic() - started:.0f} s")
    return folder


def scan_in_child(folder, runs, workers, read_only):
    """Set up Django on a fresh database here, scan, and print the figures as JSON (the child's part)."""
    work = Path(tempfile.mkdtemp(prefix="syro-bench-scan-"))
    os.environ.update({
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(work / "media"),
        "CACHE_VERSIONS_DIR": str(work / "versions"),
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-secret-key-not-for-production-use-0123456789",
        "LOG_LEVEL": "WARNING",
    })
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "Syro.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from SyroMusic.library.scan import LibraryScan, library_scan
    from SyroMusic.models import AudioFile, Song

    call_command("migrate", verbosity=0, stdout=io.StringIO())
    figures = {"files": None, "workers": workers or os.cpu_count()}
    if read_only:
        reader = LibraryScan(folder, dry_run=True, progress=None, workers=workers or os.cpu_count())
        found = list(reader.walk())
        started = time.perf_counter()
        for _ in reader.read_all([(item.path, None) for item in found]):
            pass
        figures["read_only_s"] = time.perf_counter() - started
    children_cpu = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])  # the reading-alone pool's, if any
    with CaptureQueriesContext(connection) as captured:
        started, cpu = time.perf_counter(), time.process_time()
        report = library_scan(path=folder, workers=workers)
        figures["first_s"] = time.perf_counter() - started
    # Where the time went: this process (walking, matching, writing, covers) and the reading processes.
    figures["first_main_cpu_s"] = time.process_time() - cpu
    figures["first_workers_cpu_s"] = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]) - children_cpu
    figures["first_queries"] = len(captured)
    figures["files"] = report.counts["audio files"]
    figures["first_counts"] = dict(report.counts)
    # Every generated file is whole: a refusal here is a bug in reading, and makes the file "new" in the rescans.
    figures["first_refused"] = [f"{path}: {reason}" for path, reason in report.refused][:10]
    figures["songs"], figures["playable"] = Song.objects.count(), Song.objects.playable().count()
    figures["audio_files"] = AudioFile.objects.count()
    seconds, figures["rescans_not_unchanged"] = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            report = library_scan(path=folder, workers=workers)
            seconds.append(time.perf_counter() - started)
        if report.counts["files unchanged"] != figures["files"]:
            # Reported with both scans' counts and refusals, not a crash of the whole benchmark.
            figures["rescans_not_unchanged"].append({
                "rescan": dict(report.counts), "refused": [f"{path}: {reason}" for path, reason in report.refused][:10],
            })
    figures["second_s"] = seconds
    figures["second_median_s"] = statistics.median(seconds)
    figures["second_queries"] = len(captured)
    print(json.dumps(figures))


def main(argv=()):
    """Run the benchmark (argv as on the command line, e.g. ["--files", "1000"]) and return its figures."""
    args = parse_args(list(argv))
    if args.child:
        scan_in_child(args.child, args.runs, args.workers, args.read_only)
        return None
    folder = library(args.files)
    command = [sys.executable, __file__, "--child", str(folder), "--runs", str(args.runs)]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.read_only:
        command.append("--read-only")
    log(f"scanning {folder} into a fresh SQLite database")
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the scanning process failed:\n{result.stderr[-3000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"scan_library, {figures['files']:,} files ({figures['workers']} worker processes):")
    print(f"  first scan:  {figures['first_s']:.1f} s ({figures['files'] / figures['first_s']:.0f} files/s), "
          f"{figures['first_queries']:,} queries; {figures['songs']:,} songs, {figures['playable']:,} playable")
    if "read_only_s" in figures:
        print(f"    reading alone (same processes, no database): {figures['read_only_s']:.1f} s")
    print(f"    CPU: {figures['first_workers_cpu_s']:.0f} s reading files (decoding, hashing, tags) in the workers, "
          f"{figures['first_main_cpu_s']:.0f} s matching and writing (database, covers) in the scanning process")
    print(f"  second scan: {figures['second_median_s']:.2f} s median of {len(figures['second_s'])} "
          f"({', '.join(f'{s:.2f}' for s in figures['second_s'])}), {figures['second_queries']} queries")
    if figures["first_refused"]:
        print(f"  the first scan refused {figures['first_counts']['files refused']:,} files: {figures['first_refused']}")
    for odd in figures["rescans_not_unchanged"]:
        print(f"  a rescan did not find every file unchanged: {odd['rescan']} (first scan: {figures['first_counts']}; "
              f"refused: {odd['refused']})")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
