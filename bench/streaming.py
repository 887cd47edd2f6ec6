"""Streaming audio on both paths: the app alone (gunicorn sends the bytes) and nginx in front (X-Accel-Redirect).

    .venv/bin/python bench/streaming.py                   # 200 requests a figure, 200 concurrent streams
    .venv/bin/python bench/streaming.py --requests 50 --streams 20   # a quick look

Starts scripts/serve twice on one throwaway SQLite database, as `make serve` runs it: once with nginx, once
with gunicorn alone (NGINX pointing nowhere), both with STREAM_ANONYMOUS=1 (the access check still runs; no
login to script). Without REDIS_URL gunicorn has one worker with 4 threads, as `make serve` gives a try-out.
The files (random bytes and a sparse file: what is measured is sending bytes, not decoding them) sit in a
temporary folder nginx's workers may read. Measures:

- time to the first byte of a stream (`Range: bytes=0-`, as a browser starts one) and of a seek (`bytes=N-`
  from the middle) of a 5 MB file, p50 and p95 over --requests requests, on both paths;
- --streams concurrent downloads of the 5 MB file on each path, read at a player's pace (a few seconds
  each), their errors, each one's time to its first byte, and /healthz's latency while they run: through
  nginx no app worker is held by them, so all start at once; alone, the app's 4 threads take them in turn;
- the gunicorn worker's resident memory (VmRSS) before, at most during, and after streaming a 200 MB file on
  the app's path, whole and as a range: flat, the file is never read into memory.

Prints a table; main() returns the figures as a dict.
"""

import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import servers  # noqa: E402

FILE_BYTES = 5 * 1024 * 1024
BIG_BYTES = 200 * 1024 * 1024
PACE_BYTES, PACE_PAUSE = 64 * 1024, 0.025  # a concurrent stream's reads

# Run in the servers' database before they start: a song for each file, and its AudioFile.
SEED = """
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from SyroMusic.models import Album, Artist, AudioFile, Song
artist = Artist.objects.create(name="Bench Artist")
album = Album.objects.create(title="Bench Album", artist=artist)
urls = {}
for number, (name, facts) in enumerate(json.loads(sys.argv[1]).items(), start=1):
    song = Song.objects.create(title=name, album=album, artist=artist, track_number=number)
    audio = AudioFile.objects.create(song=song, format="mp3", codec="mp3", bitrate=128_000, sample_rate=44100,
                                     channels=2, duration_ms=300_000, **facts)
    urls[name] = audio.get_absolute_url()
print(json.dumps(urls))
"""


def log(message):
    print(f"bench streaming: {message}", file=sys.stderr, flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per figure (default 200)")
    parser.add_argument("--streams", type=int, default=200, help="concurrent streams (default 200)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    return parser.parse_args(argv)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(seconds):
    return {"p50_ms": round(statistics.median(seconds) * 1000, 2), "p95_ms": round(percentile(seconds, 0.95) * 1000, 2),
            "count": len(seconds)}


def prepare_files(folder):
    """The 5 MB file and the 200 MB one (sparse), with the facts a scan would record."""
    files = {}
    small = folder / "five megabytes.mp3"
    small.write_bytes(os.urandom(FILE_BYTES))
    big = folder / "two hundred megabytes.mp3"
    with open(big, "wb") as file:
        file.truncate(BIG_BYTES)
    for name, path in (("small", small), ("big", big)):
        path.chmod(0o644)
        digest = hashlib.sha256()
        with open(path, "rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
        stat = path.stat()
        files[name] = {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                       "content_hash": digest.hexdigest()}
    return files


def port_of(server):
    return int(server.base.rsplit(":", 1)[1])


def first_byte(server, path, headers, *, read_all=True):
    """(seconds to the first byte of the body, status, bytes received) of one request on a new connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=120)
    try:
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        first = response.read(1)
        elapsed = time.perf_counter() - started
        received = len(first)
        if read_all:
            while chunk := response.read(1 << 20):
                received += len(chunk)
        return elapsed, response.status, received
    finally:
        connection.close()


def timed_starts(server, path, requests, size):
    """Time to first byte of a stream from the start and of a seek to the middle."""
    figures = {}
    for name, headers, status, length in (
        ("start", {"Range": "bytes=0-"}, 206, size),
        ("seek", {"Range": f"bytes={size // 2}-"}, 206, size - size // 2),
    ):
        times = []
        for _ in range(requests):
            elapsed, got, received = first_byte(server, path, headers)
            if (got, received) != (status, length):
                raise RuntimeError(f"{name}: {got}, {received} bytes (expected {status}, {length})")
            times.append(elapsed)
        figures[name] = summary(times)
    return figures


def paced_download(server, path):
    """(seconds to the first byte, status, bytes received) of the whole file read as a player reads it, a
    chunk at a time with pauses (some 2.5 MB/s: a few seconds for the 5 MB file), not as fast as loopback allows."""
    # The app alone takes 200 of them four at a time (a few seconds each): the last waits minutes for its turn.
    connection = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=600)
    try:
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        received, first_byte_s = 0, None
        while chunk := response.read(PACE_BYTES):
            first_byte_s = first_byte_s or time.perf_counter() - started
            received += len(chunk)
            time.sleep(PACE_PAUSE)
        return first_byte_s, response.status, received
    finally:
        connection.close()


def concurrent_streams(server, path, streams, size):
    """`streams` paced downloads at once, and /healthz probed meanwhile (one at a time, until they are done)."""
    errors, probes, starts, done = [], [], [], threading.Event()

    def download(_):
        try:
            first_byte_s, status, received = paced_download(server, path)
            starts.append(first_byte_s)
            if (status, received) != (200, size):
                errors.append(f"{status}, {received} bytes")
        except (OSError, http.client.HTTPException) as error:
            errors.append(repr(error))

    def probe():
        while not done.is_set() and len(probes) < 10_000:
            started = time.perf_counter()
            status, _, _ = servers.fetch(f"{server.base}/healthz", timeout=120)
            probes.append(time.perf_counter() - started)
            if status != 200:
                errors.append(f"/healthz {status}")

    idle = [first_byte(server, "/healthz", {})[0] for _ in range(20)]
    prober = threading.Thread(target=probe)
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(streams) as pool:
        prober.start()
        list(pool.map(download, range(streams)))
    elapsed = time.perf_counter() - started
    done.set()
    prober.join()
    return {
        "streams": streams, "errors": len(errors), "error_examples": errors[:3], "seconds": round(elapsed, 2),
        "megabytes_per_s": round(streams * size / elapsed / 1e6), "healthz_idle": summary(idle),
        "healthz_during": summary(probes or [float("nan")]), "first_byte": summary(starts or [float("nan")]),
    }


def worker_pid(master_pid):
    output = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True).stdout
    pids = [int(pid) for pid in output.split()]
    if len(pids) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {pids}")
    return pids[0]


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def memory_while_streaming(server, path, size):
    """The worker's VmRSS before, at most during and after streaming the big file, whole and as a range."""
    pid = worker_pid(server.process.pid)
    figures = {}
    for name, headers, length in (("whole", {}, size), ("range", {"Range": "bytes=1000-"}, size - 1000)):
        first_byte(server, "/healthz", {})
        before = rss_kb(pid)
        samples, streaming = [before], threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(pid, samples, streaming))
        sampler.start()
        try:
            _, status, received = first_byte(server, path, headers)
        finally:
            streaming.set()
            sampler.join()
        if received != length:
            raise RuntimeError(f"{name}: {status}, {received} bytes of {length}")
        figures[name] = {"before_mb": round(before / 1024, 1), "max_during_mb": round(max(samples) / 1024, 1),
                         "after_mb": round(rss_kb(pid) / 1024, 1), "samples": len(samples)}
    return figures


def sample_rss(pid, samples, done):
    while not done.is_set():
        samples.append(rss_kb(pid))
        time.sleep(0.02)


def start(environment, log_path, *, nginx):
    env = {**environment}
    if not nginx:
        env["NGINX"] = "/nonexistent/nginx"  # scripts/serve: gunicorn faces clients alone
    return servers.start_serve(env, log_path=log_path)


def stop(server, log_path):
    """Stop scripts/serve; the seconds it took, or None when it did not stop in time (it is killed then, and
    the end of its log printed: a slow stop is worth a look, but it is no figure of streaming)."""
    started = time.perf_counter()

    def processes():  # what is still running, for the log
        listing = subprocess.run(["ps", "-o", "pid,ppid,stat,etime,wchan:20,args", "-s", str(server.process.pid)],
                                 capture_output=True, text=True).stdout
        log(f"scripts/serve still running after 75 s:\n{listing}")

    try:
        server.stop(before_kill=processes)
    except subprocess.TimeoutExpired:
        tail = "".join(Path(log_path).read_text(errors="replace").splitlines(True)[-40:])
        log(f"scripts/serve did not stop in time and was killed; the end of its log:\n{tail}")
        return None
    return round(time.perf_counter() - started, 1)


def main(argv=()):
    """Run the benchmark (argv as on the command line) and return its figures."""
    args = parse_args(list(argv))
    top = Path(tempfile.mkdtemp(prefix="syromusic-bench-streaming-"))
    top.chmod(0o755)  # nginx's workers (nobody, when started as root) read the files
    running = []
    try:
        files = prepare_files(top)
        environment = {
            "PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{top / 'bench.sqlite3'}",
            "MEDIA_ROOT": str(top / "media"), "STREAM_ANONYMOUS": "1", "TMPDIR": str(top),
        }
        seeded = subprocess.run(
            [sys.executable, "-c", SEED, json.dumps(files)],
            cwd=ROOT, capture_output=True, text=True, check=True,
            env={**environment, "DJANGO_SETTINGS_MODULE": "Syro.settings", "SECRET_KEY": "bench-only", "DEBUG": "0"},
        )
        urls = json.loads(seeded.stdout.splitlines()[-1])
        figures = {"requests": args.requests, "file_bytes": FILE_BYTES, "big_bytes": BIG_BYTES}
        for name, nginx in (("nginx", True), ("django", False)):
            log(f"starting scripts/serve {'with nginx' if nginx else 'without nginx (gunicorn alone)'}")
            server = start(environment, top / f"serve-{name}.log", nginx=nginx)
            running.append(server)
            path_figures = timed_starts(server, urls["small"], args.requests, FILE_BYTES)
            path_figures["concurrent"] = concurrent_streams(server, urls["small"], args.streams, FILE_BYTES)
            if not nginx:
                path_figures["memory"] = memory_while_streaming(server, urls["big"], BIG_BYTES)
            figures[name] = path_figures
            running.remove(server)
            path_figures["stop_seconds"] = stop(server, top / f"serve-{name}.log")
    finally:
        for server in running:
            server.stop()
        shutil.rmtree(top, ignore_errors=True)
    report(figures, args.streams)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def report(figures, streams):
    print(f"Streaming a {FILE_BYTES // 2**20} MB file, {figures['requests']} requests a figure (p50 / p95 ms):")
    print(f"  {'':34} {'nginx (X-Accel-Redirect)':>26} {'app alone (gunicorn)':>22}")
    rows = [
        ("first byte of a stream (bytes=0-)", lambda path: path["start"]),
        ("first byte of a seek (middle-)", lambda path: path["seek"]),
        ("/healthz, idle", lambda path: path["concurrent"]["healthz_idle"]),
        (f"first byte, one of {streams} streams", lambda path: path["concurrent"]["first_byte"]),
        (f"/healthz during {streams} streams", lambda path: path["concurrent"]["healthz_during"]),
    ]
    for label, pick in rows:
        cells = [f"{pick(figures[path])['p50_ms']:.1f} / {pick(figures[path])['p95_ms']:.1f}" for path in ("nginx", "django")]
        print(f"  {label:34} {cells[0]:>26} {cells[1]:>22}")
    for path in ("nginx", "django"):
        run = figures[path]["concurrent"]
        print(f"  {streams} concurrent streams, {path}: {run['errors']} errors, {run['seconds']} s "
              f"({run['megabytes_per_s']} MB/s), /healthz answered {run['healthz_during']['count']} times meanwhile")
    memory = figures["django"]["memory"]
    print(f"gunicorn worker's VmRSS streaming a {BIG_BYTES // 2**20} MB file on the app's path (MB, before / max during / after):")
    for name in ("whole", "range"):
        m = memory[name]
        print(f"  {name:6} {m['before_mb']} / {m['max_during_mb']} / {m['after_mb']}  ({m['samples']} samples)")
    stops = {path: figures[path].get("stop_seconds") for path in ("nginx", "django")}
    print("scripts/serve stopped in: " + ", ".join(
        f"{path} {'over 75 s (killed)' if seconds is None else f'{seconds} s'}" for path, seconds in stops.items()
    ))


if __name__ == "__main__":
    main(sys.argv[1:])
