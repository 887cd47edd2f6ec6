"""Time to the first byte of a fresh transcode: a 4-minute song made 96 kbps MP3 and Opus.

    .venv/bin/python bench/transcode.py                 # in-process, then through scripts/serve (nginx and alone)
    .venv/bin/python bench/transcode.py --no-server     # in-process only (a few seconds)

The song is generated (SyroMusic.audio.synth: stereo, 44.1 kHz, FLAC, as a lossless library holds it) into
a temporary folder. Each row is a copy nobody has made yet (an empty TRANSCODE_DIR each time), so it is the
encode's start that is measured, not the cache:

- in-process: transcode() (the first piece out of the encoder) and transcode_cache.fetch() (the copy being
  made in its thread, read back as it grows: what a request gets), and the whole encode's time;
- through the app server: GET of the web player's transcoded URL (/audio/<id>/<hash>/96.<format>) on
  scripts/serve with nginx in front and with gunicorn alone (STREAM_ANONYMOUS=1, so no login to script),
  time to the first byte of the body and to the last, on a new connection each.

transcode_rows(runs=3, server=True) returns the rows ({"path", "format", "first_byte_ms", "whole_s"}, the
median of `runs` each); main() prints them.
"""

import argparse
import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import servers  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from streaming import stop  # noqa: E402  (a slow stop is reported, not a crash that loses the figures)

SONG_SECONDS = 240
SAMPLE_RATE = 44_100
KBPS = 96
FORMATS = ("mp3", "opus")

# Run in the servers' database before they start: the song and its AudioFile; prints its file's id and hash.
SEED = """
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from SyroMusic.models import Album, Artist, AudioFile, Song
facts = json.loads(sys.argv[1])
artist = Artist.objects.create(name="Bench Artist")
album = Album.objects.create(title="Bench Album", artist=artist)
song = Song.objects.create(title="Four minutes", album=album, artist=artist, track_number=1)
audio = AudioFile.objects.create(song=song, format="flac", codec="flac", bitrate=900_000, sample_rate=44100,
                                 channels=2, duration_ms=facts.pop("duration_ms"), **facts)
print(json.dumps({"pk": audio.pk, "hash": audio.content_hash[:16]}))
"""


def log(message):
    print(f"bench transcode: {message}", file=sys.stderr, flush=True)


def make_song(folder):
    """The 4-minute FLAC and the facts a scan would record of it."""
    from SyroMusic.audio.encode import write_audio
    from SyroMusic.audio.synth import piece

    path = write_audio(
        folder / "four minutes.flac", samples=piece(7, seconds=SONG_SECONDS, sample_rate=SAMPLE_RATE, channels=2),
        sample_rate=SAMPLE_RATE, format="flac",
    )
    stat = path.stat()
    return path, {
        "path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
        "content_hash": hashlib.sha256(path.read_bytes()).hexdigest(), "duration_ms": SONG_SECONDS * 1000,
    }


def in_process(path, content_hash, format, runs, scratch):
    """(transcode() first piece, fetch() first piece, whole encode) in seconds, the median of `runs`."""
    from django.conf import settings

    from SyroMusic.audio import transcode_cache
    from SyroMusic.audio.transcode import target, transcode

    wanted = target(format, KBPS)
    direct, fetched, whole = [], [], []
    for run in range(runs):
        started = time.perf_counter()
        pieces = transcode(path, wanted)
        next(pieces)
        direct.append(time.perf_counter() - started)
        for _ in pieces:
            pass
        whole.append(time.perf_counter() - started)
        settings.TRANSCODE_DIR = str(scratch / f"{format}-{run}")  # a copy nobody has made
        started = time.perf_counter()
        _, chunks = transcode_cache.fetch(path, content_hash, wanted)
        next(chunks)
        fetched.append(time.perf_counter() - started)
        for _ in chunks:
            pass
    return statistics.median(direct), statistics.median(fetched), statistics.median(whole)


def over_http(server, url, runs, clear):
    """(first byte, last byte) in seconds of GET url on a new connection, the median of `runs` fresh copies."""
    port = int(server.base.rsplit(":", 1)[1])
    firsts, lasts = [], []
    for _ in range(runs):
        clear()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            started = time.perf_counter()
            connection.request("GET", url)
            response = connection.getresponse()
            if response.status != 200:
                raise RuntimeError(f"GET {url}: {response.status} {response.read(300)!r}")
            response.read(1)
            firsts.append(time.perf_counter() - started)
            while response.read(1 << 16):
                pass
            lasts.append(time.perf_counter() - started)
        finally:
            connection.close()
    return statistics.median(firsts), statistics.median(lasts)


def transcode_rows(runs=3, server=True):
    """The figures as rows: in-process, then through scripts/serve (nginx, then gunicorn alone) when `server`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "Syro.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import django

    django.setup()
    top = Path(tempfile.mkdtemp(prefix="syromusic-bench-transcode-"))
    top.chmod(0o755)  # nginx's workers (nobody, when started as root) read the song and the copies
    rows = []
    try:
        log(f"generating a {SONG_SECONDS} s stereo FLAC")
        path, facts = make_song(top)
        for format in FORMATS:
            direct, fetched, whole = in_process(path, facts["content_hash"], format, runs, top / "in-process")
            rows.append({"path": "in-process transcode()", "format": format, "first_byte_ms": round(direct * 1000, 1),
                         "whole_s": round(whole, 2)})
            rows.append({"path": "in-process cache fetch()", "format": format, "first_byte_ms": round(fetched * 1000, 1),
                         "whole_s": None})
        if server:
            rows += _server_rows(top, facts, runs)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return rows


def _server_rows(top, facts, runs):
    copies = top / "media" / "transcodes"
    environment = {
        "PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{top / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(top / "media"), "STREAM_ANONYMOUS": "1", "TMPDIR": str(top),
    }
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, json.dumps(facts)], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**environment, "DJANGO_SETTINGS_MODULE": "Syro.settings", "SECRET_KEY": "bench-only", "DEBUG": "0"},
    )
    audio = json.loads(seeded.stdout.splitlines()[-1])
    rows = []
    for name, nginx in (("nginx", True), ("gunicorn alone", False)):
        env = {**environment} if nginx else {**environment, "NGINX": "/nonexistent/nginx"}
        log(f"starting scripts/serve ({name})")
        server = servers.start_serve(env, log_path=top / f"serve-{name.split()[0]}.log")
        try:
            for format in FORMATS:
                url = f"/audio/{audio['pk']}/{audio['hash']}/{KBPS}.{format}"
                first, last = over_http(server, url, runs, lambda: shutil.rmtree(copies, ignore_errors=True))
                rows.append({"path": f"HTTP, {name}", "format": format, "first_byte_ms": round(first * 1000, 1),
                             "whole_s": round(last, 2)})
        finally:
            stopped = stop(server, top / f"serve-{name.split()[0]}.log")
        rows[-1]["stop_s"] = stopped
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh transcodes a figure (the median is shown)")
    parser.add_argument("--no-server", action="store_true", help="in-process figures only")
    args = parser.parse_args(argv)
    rows = transcode_rows(runs=args.runs, server=not args.no_server)
    print(f"A fresh {KBPS} kbps transcode of a {SONG_SECONDS // 60}-minute stereo 44.1 kHz FLAC "
          f"(median of {args.runs}):")
    print(f"  {'path':32} {'format':6} {'first byte (ms)':>16} {'whole (s)':>10}")
    for row in rows:
        whole = "" if row["whole_s"] is None else f"{row['whole_s']:.2f}"
        print(f"  {row['path']:32} {row['format']:6} {row['first_byte_ms']:>16.1f} {whole:>10}")
    stops = [(row["path"][6:], row["stop_s"]) for row in rows if "stop_s" in row]
    if stops:
        print("scripts/serve stopped in: " + ", ".join(
            f"{path} {'over 75 s (killed)' if seconds is None else f'{seconds} s'}" for path, seconds in stops))
    return rows


if __name__ == "__main__":
    main()
