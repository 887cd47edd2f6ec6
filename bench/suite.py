"""The benchmark suite (`make bench`): every page, the search and the main API at a million songs (and ten
million listens), against their limits.

    make bench                # 1,000,000 songs on a durable PostgreSQL in .bench/, reused between runs
    make bench BENCH_SMALL=1  # smoke mode: a few thousand songs on throwaway servers (what CI runs)

Starts PostgreSQL (scripts/servers.py, as scripts/with_services.py does: loopback, free port,
as the postgres user when root) and a throwaway redis-server, seeds the catalogue unless .bench/
already holds one of the asked size, and serves it with real gunicorn through scripts/serve
(gunicorn.conf.py, DEBUG off), as `make serve` does, with BENCH_BASELINE=1 so that the
benchmark's own pages are mounted (bench/before_views.py). Then, for every row:

- SQL queries and server time (the app's own request log) cold (cache cleared before each
  request) and warm (cached), median and p95; response bytes raw and gzip-compressed;
- requests/s under concurrent load from wrk (warm), every non-2xx answer counted as an error;
- the floor: the page's own SQL statements run directly through psycopg;
- the ceiling: a minimal view returning a constant response through the same stack;
- the "before": the page without joins or prefetch, without the page cache, gzip or pagination.

Listening (bench/listens.py): 10,000,000 listens over 5,000 listeners seeded in SQL, once, with their
rollups checked against SyroMusic.listening.record's; a batch of listens posted, the history and stats
pages and API of the heaviest listener, and refresh_popularity over the listens.

Prints the tables and writes them to BENCHMARKS.md (the full run; `--output` elsewhere),
with the machine, the versions and the issue's goals, met or missed.
"""

import argparse
import contextlib
import datetime
import hashlib
import json
import logging
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import listens  # noqa: E402

from scripts import servers as services  # noqa: E402

STATE = ROOT / ".bench"
DEFAULT_SONGS = 1_000_000
MARKER = STATE / "catalogue.json"
# Goal 8's catalogue (make bench-scale): its figures are kept here, and BENCHMARKS.md shows them beside the full run's.
SCALE_SONGS = 10_000_000
SCALE_FIGURES = ROOT / "bench" / "scale.json"
SCALE_SECTION = ("<!-- scale run: written by make bench-scale, kept by make bench -->", "<!-- /scale run -->")
SCALE_GOAL_MS = 30
WRK_SCRIPT = ROOT / "bench" / "status.lua"
SEED = 1
LIST_PATHS = {"/music/artists/", "/music/albums/", "/music/songs/", "/music/playlists/"}
# A search no word of the catalogue matches ("midnight" misspelt): only the typo search can answer it.
TYPO = "midnigth"
# Pages nginx's page cache answers in the shared-cache rows (PAGE_SHARED_SECONDS on).
SHARED_ROWS = ("/", "/music/songs/", "/music/albums/")
API_LIST_PATHS = {"/api/v1/songs/", "/api/v1/albums/", "/api/v1/artists/", "/api/v1/playlists/", "/api/v1/genres/"}


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def env_flag(name):
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", default=env_flag("BENCH_SMALL"),
                        help="smoke mode: a few thousand songs on throwaway servers (default from BENCH_SMALL)")
    parser.add_argument("--songs", type=int, help="catalogue size (default 1,000,000; 3,000 with --small)")
    parser.add_argument("--runs", type=int, help="timed requests per row and state (default 15; 3 with --small)")
    parser.add_argument("--duration", type=int, help="seconds of wrk load per row (default 10; 1 with --small)")
    parser.add_argument("--connections", type=int, default=8, help="wrk's concurrent connections (default 8)")
    parser.add_argument("--output", help="markdown file to write (default BENCHMARKS.md; none with --small)")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    parser.add_argument("--note", help="a sentence on this run's conditions, printed with the machine")
    parser.add_argument("--listening-only", action="store_true",
                        help="seed what is missing, then measure only the listening rows (printed, not written)")
    parser.add_argument("--no-popularity", action="store_true",
                        help="with --listening-only: leave refresh_popularity out (minutes over 10 M listens)")
    parser.add_argument("--scale", action="store_true",
                        help=f"goal 8: page 1 of every list, cold, at --songs (default {SCALE_SONGS:,}) in a cluster of "
                        f"its own; writes {SCALE_FIGURES.relative_to(ROOT)} and BENCHMARKS.md's section of it")
    args = parser.parse_args(argv)
    args.songs = args.songs or (3_000 if args.small else SCALE_SONGS if args.scale else DEFAULT_SONGS)
    args.runs = args.runs or (3 if args.small else 15)
    args.duration = args.duration or (1 if args.small else 10)
    if args.output is None and not args.small:
        args.output = str(ROOT / "BENCHMARKS.md")
    if args.scale and args.json is None and not args.small:
        args.json = str(SCALE_FIGURES)
    return args


def state_paths(pg_version, songs):
    """The durable cluster and its marker for a catalogue of `songs`: the full run's size keeps the names it
    always had; another size (the scale run's) has its own, so that neither run reseeds the other's."""
    major = pg_version.split(".")[0]
    if songs == DEFAULT_SONGS:
        return STATE / f"postgresql-{major}", MARKER
    return STATE / f"postgresql-{major}-{songs}", STATE / f"catalogue-{songs}.json"


def median(values):
    return statistics.median(values) if values else None


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else None


class Servers:
    """PostgreSQL (durable in .bench/, or throwaway for --small), a throwaway Redis, and later gunicorn."""

    def __init__(self, small, songs=DEFAULT_SONGS):
        self.small = small
        self.songs = songs
        self.bindir = services.find_pg_bindir()
        self.redis_bin = services.find_redis_server()
        self.pg_version = services.version_of(os.path.join(self.bindir, "postgres"))
        self.redis_version = services.version_of(self.redis_bin)
        self.pg_dir = self.redis_dir = None
        self.redis = self.gunicorn = None
        self.seeded = None  # prepare_catalogue: the seed's time and peak memory (None: unknown)
        self.base = None

    def __enter__(self):
        if self.small:
            self.pg_dir = tempfile.mkdtemp(prefix="syro-bench-pg-")
        else:
            self.pg_dir = str(state_paths(self.pg_version, self.songs)[0])
        self.redis_dir = tempfile.mkdtemp(prefix="syro-bench-redis-")
        try:
            services.prepare_datadir(self.pg_dir)
            pg_port = services.free_port()
            reused = services.has_cluster(self.pg_dir)
            services.start_postgres(self.bindir, self.pg_dir, pg_port, durable=not self.small)
            log(f"PostgreSQL {self.pg_version} on 127.0.0.1:{pg_port} ({'reused ' if reused else ''}{self.pg_dir})")
            self.redis = services.RedisServer(self.redis_dir, self.redis_bin)
            self.redis.start()
            log(f"Redis {self.redis_version} on 127.0.0.1:{self.redis.port}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.env = {
            "DATABASE_URL": services.postgres_url(pg_port),
            "REDIS_URL": self.redis.url,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "benchmark-only-secret-key-not-for-production-use-0123456789",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            # Measuring, not limiting: the throttle still counts every request in Redis.
            "API_ANON_PER_HOUR": str(10**9),
            "API_USER_PER_HOUR": str(10**9),
            "LOG_FORMAT": "json",
            "BENCH_BASELINE": "1",
            # The rows measure Django: nginx's page cache keeps nothing (the shared-cache rows turn it on).
            "PAGE_SHARED_SECONDS": "0",
        }
        if self.small:
            # The smoke run may share a busy machine (CI): the "before" pages render fewer rows, and a slow
            # answer is waited for rather than killed as a stuck worker.
            self.env.update({"BENCH_BASELINE_ROWS": "200", "TIMEOUT": "150"})
            os.environ["BENCH_BASELINE_ROWS"] = "200"
        return self

    def start_gunicorn(self, log_path):
        env = {**os.environ, **self.env}
        env.pop("WEB_CONCURRENCY", None)
        self.gunicorn = services.start_serve(env, log_path=log_path)
        self.base = self.gunicorn.base
        SESSIONS[self.base] = self.gunicorn.process.pid
        DATABASE["url"] = self.env["DATABASE_URL"]

    def __exit__(self, *exc):
        # Not interrupted while it stops what it started; then as before. A process started later inherits an
        # ignored signal, and a shell can neither trap nor reset it: the audio section's scripts/serve
        # ignored its SIGTERM and was killed after 75 s, nginx never told.
        saved = {number: signal.signal(number, signal.SIG_IGN) for number in (signal.SIGTERM, signal.SIGINT)}
        try:
            if self.gunicorn:
                with contextlib.suppress(subprocess.TimeoutExpired):  # killed by then: nothing left to stop
                    self.gunicorn.stop()
            if self.redis:
                self.redis.stop()
            if self.pg_dir:
                services.stop_postgres(self.bindir, self.pg_dir)
            if self.small and self.pg_dir:
                shutil.rmtree(self.pg_dir, ignore_errors=True)
            if self.redis_dir:
                shutil.rmtree(self.redis_dir, ignore_errors=True)
        finally:
            for number, handler in saved.items():
                signal.signal(number, handler)


def manage(env, *arguments):
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env={**os.environ, **env}, check=True)


def migrations_digest():
    """A digest of the app's migrations: a migration changed after it was applied means a new database."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "SyroMusic" / "migrations").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def prepare_catalogue(servers, songs):
    """Migrate; seed unless the durable cluster already holds this catalogue (the marker says which).

    Anything else (another size, another cluster, changed migrations) starts from an empty database. The
    seed's time and peak memory are kept in the marker too (servers.seeded).
    """
    import psycopg

    marker = state_paths(servers.pg_version, songs)[1]

    with psycopg.connect(servers.env["DATABASE_URL"]) as conn:
        # Unique to each initdb: a marker left over from a deleted cluster does not match a new one.
        cluster = str(conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()[0])
    wanted = {"songs": songs, "seed": SEED, "cluster": cluster, "migrations": migrations_digest()}
    try:
        found = json.loads(marker.read_text()) if not servers.small else None
    except (OSError, ValueError):
        found = None
    if isinstance(found, dict) and {key: found.get(key) for key in wanted} == wanted:
        manage(servers.env, "migrate", "--noinput", "-v0")
        log(f"reusing the catalogue of {songs:,} songs in {servers.pg_dir} ({marker} says so)")
        servers.seeded = found.get("seeded")
        return False
    if not servers.small:  # the smoke mode's throwaway cluster leaves the durable one's marker alone
        marker.unlink(missing_ok=True)  # a seed that fails halfway must not be taken for a finished one
    with psycopg.connect(servers.env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS syro WITH (FORCE)")
        conn.execute("CREATE DATABASE syro")
    manage(servers.env, "migrate", "--noinput", "-v0")
    log(f"seeding {songs:,} songs")
    started = time.monotonic()
    seeded = subprocess.run(
        [sys.executable, "manage.py", "seed_catalogue", "--songs", str(songs), "--seed", str(SEED), "--flush",
         "--no-progress"], cwd=ROOT, env={**os.environ, **servers.env}, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    print(seeded, end="", file=sys.stderr, flush=True)
    seed_seconds = time.monotonic() - started
    with psycopg.connect(servers.env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # what autovacuum would do soon after a load: plans and estimates settle
    log(f"seeded in {time.monotonic() - started:.0f} s")
    peak = re.search(r"peak RSS ([\d,]+) MiB", seeded)
    servers.seeded = {"seconds": round(seed_seconds, 1), "with_vacuum_seconds": round(time.monotonic() - started, 1),
                      "peak_rss_mib": int(peak.group(1).replace(",", "")) if peak else None}
    if not servers.small:
        STATE.mkdir(exist_ok=True)
        marker.write_text(json.dumps({**wanted, "seeded": servers.seeded}) + "\n")
    return True


def fetch(base, url, gzip=False, cookie=None):
    """(status, body, Content-Encoding) of one GET; a new connection each time, as the sync workers close it anyway."""
    headers = {**({"Accept-Encoding": "gzip"} if gzip else {}), **({"Cookie": cookie} if cookie else {})}
    status, headers, body = services.fetch(base + url, headers=headers, timeout=120)
    return status, body, headers.get("Content-Encoding")


class RequestLog:
    """The app's own per-request records (LOG_FORMAT=json): path, status, duration_ms, queries."""

    def __init__(self, path):
        self.file = open(path, errors="replace")
        self.pending = ""

    def skip_to_end(self):
        self.file.seek(0, os.SEEK_END)
        self.pending = ""

    def record_for(self, url, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = self.file.readline()
            if not chunk:
                time.sleep(0.002)
                continue
            self.pending += chunk
            if not self.pending.endswith("\n"):
                continue
            line, self.pending = self.pending, ""
            if '"syromusic.requests"' not in line:
                continue
            try:
                record = json.loads(line)["message"]
            except (ValueError, KeyError, TypeError):
                continue
            if record.get("path") == url:
                return record
        raise RuntimeError(f"no request-log record for {url} within {timeout} s")


def wrk(base, url, duration, connections, timeout=30, attempts=3, cookie=None):
    """wrk's figures for a load of `duration` seconds; a load that finished no request (a page slower than
    the duration on a busy machine) is run again for twice as long, up to `attempts` times."""
    for _ in range(attempts - 1):
        try:
            return _wrk(base, url, duration, connections, timeout, cookie)
        except NoRequestFinished:
            log(f"  wrk finished no request of {url} in {duration} s: again for {2 * duration} s")
            duration *= 2
    return _wrk(base, url, duration, connections, timeout, cookie)


# The session (start_new_session) of the server answering at each base: nginx and gunicorn's processes.
SESSIONS = {}


def session_cpu_ticks(session):
    """CPU time (clock ticks) used so far by every process of a session, from /proc."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        if len(fields) > 12 and fields[3] == str(session):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


# The database the server answers from (Servers.__enter__), whose queries wait_idle also waits out.
DATABASE = {}


def running_statements(url):
    """The backend pids of PostgreSQL's other client connections running a statement now."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return {pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()"
        )}


def wait_idle(base, window_s=0.3, idle_ticks=2, deadline_s=90):
    """Requests wrk had in flight when its time was up still run after it exits (a "before" page takes
    seconds): wait until the server's processes use next to no CPU for window_s and PostgreSQL runs none of
    their statements, so that the next row's figures are not taken beside them. A worker waiting for its
    query uses no CPU of its own: the statements are counted in PostgreSQL (pg_stat_activity). Both are the
    server's own work, so other work on the machine does not count. Gives up after deadline_s, saying so."""
    session = SESSIONS.get(base)
    if session is None:
        return
    url = DATABASE.get("url")
    started = time.monotonic()
    while True:
        before = session_cpu_ticks(session)
        time.sleep(window_s)
        if session_cpu_ticks(session) - before <= idle_ticks and not (url and running_statements(url)):
            return
        if time.monotonic() - started > deadline_s:
            log(f"  the server was still busy {deadline_s} s after the load: going on")
            return


class NoRequestFinished(RuntimeError):
    pass


def _wrk(base, url, duration, connections, timeout, cookie=None):
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", f"{timeout}s",
        "-H", "Accept-Encoding: gzip", *(["-H", f"Cookie: {cookie}"] if cookie else []), "-s", str(WRK_SCRIPT), base + url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    wait_idle(base)
    line = next((line for line in result.stdout.splitlines() if line.startswith("BENCH ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed on {url}: {result.stdout}{result.stderr}")
    figures = {key: int(value) for key, value in (item.split("=") for item in line.split()[1:])}
    errors = sum(figures[key] for key in ("not_2xx", "connect", "read", "write", "timeout"))
    if not figures["requests"]:
        raise NoRequestFinished(f"wrk finished no request of {url} in {duration} s")
    return {
        "requests": figures["requests"],
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "errors": errors,
        "not_2xx": figures["not_2xx"],
        "latency_p50_ms": figures["latency_p50_us"] / 1000,
        "latency_p99_ms": figures["latency_p99_us"] / 1000,
    }


class Bench:
    def __init__(self, args, servers, log_path):
        self.args = args
        self.servers = servers
        self.log = RequestLog(log_path)

        import psycopg
        from django.core.cache import cache
        from django.db import connection, reset_queries
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        self.cache, self.connection, self.capture, self.reset_queries = cache, connection, CaptureQueriesContext, reset_queries
        self.client = Client()
        self.raw = psycopg.connect(servers.env["DATABASE_URL"], autocommit=True)

    def statements(self, url):
        """(status, SQL statements) of a cold request, rendered in this process: what the floor runs."""
        self.cache.clear()
        self.reset_queries()  # a request resets the log itself, which would hide the queries from the capture
        with self.capture(self.connection) as captured:
            response = self.client.get(url)
        return response.status_code, [query["sql"] for query in captured.captured_queries]

    def raw_sql(self, statements, runs):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            with self.raw.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    if cursor.description is not None:
                        cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
        return times

    def timed(self, url, runs, cold):
        """Server times (ms) and query counts of `runs` sequential requests, from the app's request log."""
        self.log.skip_to_end()
        durations, queries, errors = [], [], 0
        if not cold:
            fetch(self.servers.base, url, gzip=True)  # fill the cache
            self.log.record_for(url)
        for _ in range(runs):
            if cold:
                self.cache.clear()
            status, _, _ = fetch(self.servers.base, url, gzip=True)
            errors += not 200 <= status < 300
            record = self.log.record_for(url)
            durations.append(record["duration_ms"])
            queries.append(record["queries"])
        return durations, queries, errors

    def warm_workers(self, url):
        """Every worker answers the page once first: a worker recycled by gunicorn's max_requests during the
        previous row's load would otherwise add its own start-up (imports, URL resolver, templates) to "cold"."""
        for _ in range(3 * gunicorn_workers()):
            fetch(self.servers.base, url, gzip=True)

    def measure_cold(self, row):
        """Goal 8's figures of a row: queries and server time cold, and its raw SQL; no warm series, no load."""
        url, runs = row["url"], self.args.runs
        log(f"measuring {url} (cold)")
        status, statements = self.statements(url)
        self.warm_workers(url)
        cold, queries, errors = self.timed(url, runs, cold=True)
        sql = self.raw_sql(statements, runs)
        return {**row, "status": status, "queries": max(queries), "queries_in_process": len(statements),
                "cold_ms": [median(cold), p95(cold)], "sql_ms": [median(sql), p95(sql)],
                "errors": errors + (not 200 <= status < 300)}

    def measure(self, row, cached=True):
        url, runs = row["url"], self.args.runs if cached else max(3, self.args.runs // 3)
        log(f"measuring {url}")
        status, statements = self.statements(url)
        if status == 404 and row.get("optional"):
            log(f"  {url}: 404, not built yet: left out")
            return {**row, "missing": True}
        self.warm_workers(url)
        cold, queries, errors = self.timed(url, runs, cold=True)
        warm, _, warm_errors = self.timed(url, runs, cold=False) if cached else ([], [], 0)
        status_plain, plain, _ = fetch(self.servers.base, url)
        status_gzip, compressed, encoding = fetch(self.servers.base, url, gzip=True)
        errors += sum(not 200 <= code < 300 for code in (status, status_plain, status_gzip))
        fetch(self.servers.base, url, gzip=True)  # leave it cached for the load
        duration, connections, timeout = self.args.duration, self.args.connections, 30
        if not cached:
            if self.args.small:
                # The smoke run checks that the "before" page answers under load, not how fast: one connection,
                # with room for a busy machine, so no request outlives wrk's timeout or gunicorn's.
                connections, timeout = 1, 120
            # A "before" page may take seconds: long enough for each connection to finish a few.
            duration = max(duration, min(60, math.ceil(4 * median(cold) / 1000 * connections / os.cpu_count())))
        load = wrk(self.servers.base, url, duration, connections, timeout=timeout)
        sql = self.raw_sql(statements, runs) if cached else []
        return {
            **row,
            "status": status,
            "queries": max(queries),
            "queries_in_process": len(statements),
            "cold_ms": [median(cold), p95(cold)],
            "warm_ms": [median(warm), p95(warm)],
            "sql_ms": [median(sql), p95(sql)],
            "bytes": len(plain),
            "gzip_bytes": len(compressed) if encoding == "gzip" else None,
            "load": load,
            "errors": errors + warm_errors + load["errors"],
        }


def default_rows():
    """The pages bench/pages.py measures, the main API endpoints and the search."""
    import pages  # sets Django up (the environment is ready by now)

    # This process renders pages only to capture their SQL: its request log is not the server's.
    logging.getLogger("syromusic.requests").disabled = True
    logging.getLogger("django.request").disabled = True
    from django.urls import reverse

    from SyroMusic.models import Album, Artist, Playlist, Song

    rows = []
    for url in dict.fromkeys(pages.default_urls()):  # on a small catalogue page 1,000 is the last page
        path, _, query = url.partition("?")
        kind = "home" if path == "/" else "list" if path in LIST_PATHS else "detail"
        rows.append({"url": url, "type": "html", "kind": kind, "page1": kind == "list" and "page=" not in query,
                     "before": f"/bench/before{url}" if not query else None})

    def first(queryset):
        return queryset.order_by("id").values_list("id", flat=True).first()

    songs = Song.objects.count()
    deep_page = max(1, min(18_000, -(-songs // 50)))
    api = [
        ("/api/v1/songs/", True), ("/api/v1/songs/?cursor=", True), (f"/api/v1/songs/?page={deep_page}", False),
        ("/api/v1/songs/?ordering=-popularity", True), (f"/api/v1/songs/{first(Song.objects)}/", False),
        ("/api/v1/albums/", True), (f"/api/v1/albums/{first(Album.objects)}/", False),
        ("/api/v1/artists/", True), (f"/api/v1/artists/{first(Artist.objects)}/", False),
        ("/api/v1/playlists/", True), (f"/api/v1/playlists/{first(Playlist.objects.public())}/", False),
        ("/api/v1/genres/", True),
    ]
    for url, page1 in api:
        path = url.partition("?")[0]
        kind = "list" if path in API_LIST_PATHS else "detail"
        rows.append({"url": url, "type": "json", "kind": kind, "page1": kind == "list" and page1,
                     "before": f"/bench/before{url}" if url in ("/api/v1/songs/", "/api/v1/albums/") else None})
    # What the player asks for: an album to play, an artist's songs (up to 1,000), a page's rows, one song's details.
    tracks = reverse("music:player-tracks")
    some_ids = ",".join(map(str, Song.objects.order_by("id").values_list("id", flat=True)[:50]))
    for url in (f"{tracks}?album={first(Album.objects)}", f"{tracks}?artist={first(Artist.objects)}", f"{tracks}?ids={some_ids}",
                reverse("music:player-track", args=[first(Song.objects)])):
        rows.append({"url": url, "type": "json", "kind": "detail", "page1": False, "before": None, "optional": True})
    search = ["/music/search/?q=beatles", "/music/search/?q=midnight", f"/music/search/?q={TYPO}",
              "/api/v1/search/?q=beatles", "/api/v1/search/?q=midnight", f"/api/v1/search/?q={TYPO}"]
    search.append(reverse("music:search-suggest") + "?q=mid")
    for url in search:
        rows.append({"url": url, "type": "json" if url.startswith("/api/") else "html", "kind": "search",
                     "page1": False, "before": None, "optional": True})
    return rows


def code_version():
    """The commit measured, and whether the working tree differed from it."""
    def git(*arguments):
        return subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    return f"{commit}{' with uncommitted changes' if git('status', '--porcelain', '--untracked-files=no') else ''}" if commit else "?"


def machine():
    memory = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    try:
        system = "Debian " + Path("/etc/debian_version").read_text().strip()
    except OSError:
        system = platform.platform()
    return {"cores": os.cpu_count(), "memory_gib": round(memory / 2**20, 1), "cpu": cpu, "system": system}


def versions(servers, bench):
    import django
    import gunicorn

    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    match = re.search(r"wrk (\S+)", wrk_version)
    return {
        "Python": platform.python_version(), "Django": django.get_version(),
        "PostgreSQL": bench.raw.execute("SHOW server_version").fetchone()[0].split()[0],
        "Redis": servers.redis_version, "gunicorn": gunicorn.__version__, "wrk": match.group(1) if match else "?",
    }


def ms(value, digits=1):
    return "–" if value is None else f"{value:.{digits}f}"


def fig(value):
    return "–" if value is None else f"{value:,}"


def times(factor):
    return f"{factor:.1f}×" if factor < 10 else f"{factor:,.0f}×"


def ratio(a, b):
    return None if not a or not b else a / b


def render(report, audio=None):
    """The markdown tables, notes and goals."""
    m, v, rows = report["machine"], report["versions"], [r for r in report["rows"] if not r.get("missing")]
    minimal = report["minimal"]
    ceiling = report["ceiling_rps"]
    out = [
        "# Benchmarks",
        "",
        f"Measured {report['date']} by `{report['command']}` ({report['seconds']:.0f} s), code at commit "
        f"{report['code']}.",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB memory, {m['system']}; the load generator"
        " (wrk, one thread) runs on the same machine and takes part of its CPU. Load average before the run: "
        f"{report['load_average']:.2f} (anything above 0 is other work, which makes the figures noisier).",
        *([f"- Note: {report['note']}"] if report.get("note") else []),
        "- Versions: " + ", ".join(f"{name} {value}" for name, value in v.items()) + ".",
        f"- Catalogue: {report['catalogue']['songs']:,} songs, {report['catalogue']['albums']:,} albums, "
        f"{report['catalogue']['artists']:,} artists, {report['catalogue']['playlists']:,} playlists "
        f"(`seed_catalogue --songs {report['songs']} --seed {SEED}`) on PostgreSQL "
        f"({'throwaway, fsync off' if report['small'] else 'durable cluster in .bench/, fsync on'}); Redis as the cache.",
        f"- Server: gunicorn through `scripts/serve` as `make serve` runs it (gunicorn.conf.py: {report['workers']} sync "
        "workers, DEBUG off, access log on, nginx in front), plus LOG_FORMAT=json, API rate limits raised out of "
        "the way, PAGE_SHARED_SECONDS=0 (nginx's page cache keeps nothing, so every row measures Django), and "
        "BENCH_BASELINE=1 for the minimal view and the \"before\" pages.",
        f"- Method: server time is the app's own request log (`duration_ms`, the whole middleware stack), "
        f"{report['runs']} sequential requests per row and state (after one request per worker, so no worker's own "
        "start-up is counted), gzip accepted; cold = Redis flushed before each "
        "request (page cache and remembered counts gone; PostgreSQL's buffers stay warm), warm = served from the "
        f"page cache where the page has one. Load: `wrk -t1 -c{report['connections']} -d{report['duration']}s` "
        "with `Accept-Encoding: gzip`, warm cache; errors = non-2xx answers plus socket errors and timeouts. "
        "Raw SQL = the statements the page ran cold, captured in-process and replayed through psycopg on one "
        "connection (round trips included). Times are medians (p95 in brackets), in milliseconds.",
        "",
        MAIN_TABLE,
        "",
        f"Ceiling: the minimal view (`/bench/minimal/`, a constant 43-byte page through the same gunicorn, "
        f"middleware and settings) served {minimal[0]['rps']:,.0f} requests/s at the start and "
        f"{minimal[1]['rps']:,.0f} at the end of the run; ratios use their mean, {ceiling:,.0f}/s "
        f"(server time {ms(report['minimal_ms'][0], 2)} ms)."
        + (f" **The ceiling moved by {abs(minimal[1]['rps'] / minimal[0]['rps'] - 1):.0%} during the run: "
           "something else was using the machine, and the ratios to the ceiling are uncertain by as much.**"
           if abs(minimal[1]["rps"] / minimal[0]["rps"] - 1) > 0.15 else ""),
        "",
        "| Row | Queries | Cold ms | Warm ms | Raw SQL ms | Cold / SQL | Bytes | Gzip | Saved | Req/s | / ceiling | Errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        saved = None if not r["gzip_bytes"] else 1 - r["gzip_bytes"] / r["bytes"]
        out.append(
            f"| `{r['url']}` | {r['queries']} | {ms(r['cold_ms'][0])} ({ms(r['cold_ms'][1])}) "
            f"| {ms(r['warm_ms'][0], 2)} ({ms(r['warm_ms'][1], 2)}) | {ms(r['sql_ms'][0], 2)} "
            f"| {ms(ratio(r['cold_ms'][0], r['sql_ms'][0]))}× | {fig(r['bytes'])} | {fig(r['gzip_bytes'])} "
            f"| {'–' if saved is None else f'{saved:.1%}'} | {r['load']['rps']:,.0f} "
            f"| {r['load']['rps'] / ceiling:.0%} | {r['errors']} |"
        )
    missing = [r["url"] for r in report["rows"] if r.get("missing")]
    if missing:
        out += ["", "Not measured, the address answered 404 (not built yet): " + ", ".join(f"`{u}`" for u in missing) + "."]
    listener = report.get("listener") or []
    if listener:
        anonymous = {r["url"]: r for r in rows}
        out += [
            "",
            "## Logged in",
            "",
            "The same addresses for a logged-in listener (a session cookie; never answered from the anonymous page "
            "cache), warm: what is kept for every listener is kept. Anonymous = the row above, warm.",
            "",
            "| Row | Queries | Warm ms | Req/s | Anonymous req/s | Logged in / anonymous | Errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in listener:
            a = anonymous.get(r["url"])
            out.append(
                f"| `{r['url']}` | {r['queries']} | {ms(r['warm_ms'][0], 2)} ({ms(r['warm_ms'][1], 2)}) "
                f"| {r['load']['rps']:,.0f} | {'–' if not a else format(a['load']['rps'], ',.0f')} "
                f"| {'–' if not a else format(r['load']['rps'] / a['load']['rps'], '.0%')} | {r['errors']} |"
            )
    shared = report.get("shared") or []
    shared_minimal = next((r for r in shared if r["url"] == "/bench/minimal/"), None)
    if shared and shared_minimal:
        out += [
            "",
            "## nginx's page cache",
            "",
            "The server again with PAGE_SHARED_SECONDS=60 (the rows above run with 0): nginx keeps an anonymous page "
            "for as long as its `s-maxage` says and answers it without gunicorn. Same load; the minimal view is "
            "never kept, so it still goes through Django.",
            "",
            "| Row | nginx said | Req/s | / minimal view | Errors |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for r in shared:
            out.append(f"| `{r['url']}` | {r['cache_status'] or '–'} | {r['load']['rps']:,.0f} "
                       f"| {r['load']['rps'] / shared_minimal['load']['rps']:.0%} | {r['errors']} |")
    out += listens.render(report.get("listening"))
    if report.get("scale"):
        out += [""] + render_scale(report["scale"], {r["url"]: r["cold_ms"][0] for r in rows})
    out += [
        "",
        "## Before and after",
        "",
        f"\"Before\" is each page as the seed served it (`bench/before_views.py`, mounted only with "
        "BENCH_BASELINE=1): no select_related or prefetch (one query per row and relation), an exact COUNT(*), "
        f"no page cache, no gzip, and no pagination: every row, capped at {report['baseline_rows']:,} rows "
        "(what two cores render in a few seconds with a query per row; without the cap a list of a million "
        "songs does not finish). Improvement = before / after for queries, cold time and bytes sent "
        "(before is uncompressed, after is gzip), after / before for requests/s (after served warm).",
        "",
        "| Page | Queries before → after | Cold ms before → after | Bytes before → after | Req/s before → after | Errors before | Improvement: queries, time, bytes, req/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        b = r.get("before_result")
        if not b:
            continue
        sent = r["gzip_bytes"] or r["bytes"]
        out.append(
            f"| `{r['url']}` | {b['queries']:,} → {r['queries']} | {ms(b['cold_ms'][0])} → {ms(r['cold_ms'][0])} "
            f"| {fig(b['bytes'])} → {fig(sent)} | {b['load']['rps']:,.1f} → {r['load']['rps']:,.0f} | {b['errors']} "
            f"| {times(b['queries'] / max(1, r['queries']))}, {times(b['cold_ms'][0] / r['cold_ms'][0])}, "
            f"{times(b['bytes'] / sent)}, {times(r['load']['rps'] / b['load']['rps'])} |"
        )
    out += ["", "## Goals (issue 19)", ""] + [f"- {line}" for line in goals(rows, ceiling, report, audio)]
    listening_goals = listens.goals(report.get("listening"))
    if listening_goals:
        out += ["", "## Goals (issue 15)", ""] + [f"- {line}" for line in listening_goals]
    return "\n".join(out) + "\n"


def _verdict(ok):
    return "met" if ok else "missed"


def render_scale(scale, full_cold):
    """The scale run's section (between SCALE_SECTION's markers, which splice_scale finds again); full_cold:
    the full run's cold median of each address, shown beside."""
    rows = [r for r in scale["rows"] if not r.get("missing")]
    seeded = scale.get("seeded") or {}
    seed = (f"seeded in {seeded['seconds']:,.0f} s with a peak of {seeded['peak_rss_mib']:,} MiB resident, then "
            "VACUUM ANALYZE" if seeded.get("seconds") is not None and seeded.get("peak_rss_mib") else
            "seeded by an earlier run")
    c = scale["catalogue"]
    out = [
        SCALE_SECTION[0],
        f"## At {c['songs']:,} songs: page 1 of every list, cold (goal 8)",
        "",
        f"Measured {scale['date']} by `{scale['command']}` ({scale['seconds']:.0f} s), code at commit {scale['code']}: "
        f"{c['songs']:,} songs, {c['albums']:,} albums, {c['artists']:,} artists, {c['playlists']:,} playlists "
        f"(`seed_catalogue --songs {scale['songs']} --seed {SEED}`, {seed}) on "
        f"{'a throwaway cluster' if scale['small'] else 'a durable cluster of its own in .bench/'}. Page 1 of every "
        f"list, measured as the rows above are cold ({scale['runs']} requests each, Redis flushed before each, "
        "server time from the app's request log; raw SQL replayed through psycopg); no warm series and no load. "
        f"Goal 8: under {SCALE_GOAL_MS} ms each.",
        "",
        "| Row | Queries | Cold ms | Raw SQL ms | Cold / SQL | Cold ms in the full run above | Errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        out.append(
            f"| `{r['url']}` | {r['queries']} | {ms(r['cold_ms'][0])} ({ms(r['cold_ms'][1])}) | {ms(r['sql_ms'][0], 2)} "
            f"| {times(r['cold_ms'][0] / r['sql_ms'][0]) if r['sql_ms'][0] else '–'} "
            f"| {ms(full_cold[r['url']]) if full_cold.get(r['url']) is not None else '–'} | {r['errors']} |"
        )
    return out + ["", SCALE_SECTION[1]]


def scale_goal(scale):
    """Goal 8's line, from the scale run's figures (None: not run)."""
    rows = [r for r in (scale or {}).get("rows", []) if not r.get("missing")]
    if not rows:
        return f"8. A run at {SCALE_SONGS:,} songs: **not run** (`make bench-scale` makes it)."
    slow = sorted(((r["cold_ms"][0], r["url"]) for r in rows), key=lambda row: -row[0])  # ties: in the table's order
    over = [f"`{u}` {t:.1f} ms" for t, u in slow if t >= SCALE_GOAL_MS]
    errors = sum(r["errors"] for r in rows)
    seeded = scale.get("seeded") or {}
    memory = f", seeded with a peak of {seeded['peak_rss_mib']:,} MiB" if seeded.get("peak_rss_mib") else ""
    songs = scale["catalogue"]["songs"]
    small = f"; a catalogue of {songs:,} songs, not the goal's {SCALE_SONGS:,}" if songs < SCALE_SONGS else ""
    return (
        f"8. Page 1 of every list cold under {SCALE_GOAL_MS} ms at {songs:,} songs "
        f"(`{scale['command']}`, {scale['date']}{memory}): **{_verdict(not over and not errors and not small)}**: "
        f"{len(slow) - len(over)} of {len(slow)} are; slowest {slow[0][0]:.1f} ms (`{slow[0][1]}`), median "
        f"{median([t for t, _ in slow]):.1f} ms; {errors} errors" + (f"; over: {', '.join(over)}" if over else "")
        + small + "."
    )


MAIN_TABLE = "## Every page against its limits"


def full_run_cold(text):
    """The cold median of each address in BENCHMARKS.md's main table (what the scale run shows beside its own);
    only that section's rows when the file has it (the logged-in table's times are warm ones)."""
    if MAIN_TABLE in text:
        text = text.split(MAIN_TABLE, 1)[1].split("\n## ", 1)[0]
    cold = {}
    for match in re.finditer(r"^\| `([^`]+)` \| [\d,]+ \| ([\d.,]+) \(", text, flags=re.M):
        cold.setdefault(match.group(1), float(match.group(2).replace(",", "")))
    return cold


def splice_scale(text, scale):
    """BENCHMARKS.md with the scale run's section and goal 8's line in place of the ones it had; a file without
    them gets the section before "Before and after" (or at its end)."""
    start, end = SCALE_SECTION
    if start in text and end in text.split(start, 1)[1]:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = head + "\n".join(render_scale(scale, full_run_cold(head + tail))) + tail
    else:
        section = "\n".join(render_scale(scale, full_run_cold(text)))
        if "\n## Before and after" in text:
            text = text.replace("\n## Before and after", "\n" + section + "\n\n## Before and after", 1)
        else:
            text = text + ("\n" if text else "") + section + "\n"
    goal = "- " + scale_goal(scale)
    return re.sub(r"^- 8\. .*$", lambda _: goal, text, count=1, flags=re.M)


def load_scale():
    """The scale run's figures (make bench-scale), or None when it has not been run."""
    try:
        return json.loads(SCALE_FIGURES.read_text())
    except (OSError, ValueError):
        return None


def goals(rows, ceiling, report, audio=None):
    """Issue 19's goals, each met or missed and by how much, computed from this run's figures alone."""
    lines = []
    cached = [r for r in rows if r["type"] == "html" and r["kind"] in ("home", "list", "detail")]
    shares = sorted((r["load"]["rps"] / ceiling, r["url"]) for r in cached)
    if shares:
        lines.append(
            f"1. A cached anonymous page at ≥ 90% of the minimal view's requests/s: **{_verdict(shares[0][0] >= 0.9)}**: "
            f"{sum(x >= 0.9 for x, _ in shares)} of {len(shares)} pages reach it; median {median([x for x, _ in shares]):.0%}, "
            f"lowest {shares[0][0]:.0%} (`{shares[0][1]}`), highest {shares[-1][0]:.0%}"
            + ("." if shares[0][0] >= 0.9 else f"; the lowest is {0.9 - shares[0][0]:.0%} of the ceiling short.")
        )
    shared = [r for r in report.get("shared", []) if r["url"] != "/bench/minimal/"]
    shared_minimal = next((r for r in report.get("shared", []) if r["url"] == "/bench/minimal/"), None)
    if shared and shared_minimal:
        lines.append(
            "1. With nginx's page cache on (PAGE_SHARED_SECONDS=60): "
            + ", ".join(f"`{r['url']}` {r['load']['rps']:,.0f} requests/s ({r['load']['rps'] / shared_minimal['load']['rps']:.0%} "
                        f"of the minimal view's {shared_minimal['load']['rps']:,.0f}; nginx said {r['cache_status']})"
                        for r in shared) + "."
        )
    first = [r for r in rows if r["page1"]]
    slow = sorted(((r["cold_ms"][0], r["url"]) for r in first), reverse=True)
    if slow:
        over = [f"`{u}` {t:.1f} ms" for t, u in slow if t >= 20]
        lines.append(
            f"2. Page 1 of every list cold under 20 ms at {report['catalogue']['songs']:,} songs: **{_verdict(not over)}**: "
            f"{len(slow) - len(over)} of {len(slow)} are; slowest {slow[0][0]:.1f} ms (`{slow[0][1]}`), median "
            f"{median([t for t, _ in slow]):.1f} ms" + ("." if not over else f"; over: {', '.join(over)}.")
        )
    lists = [r for r in rows if r["kind"] == "list" and r["sql_ms"][0]]
    worst = sorted(((r["cold_ms"][0] / r["sql_ms"][0], r["url"]) for r in lists), reverse=True)
    if worst:
        lines.append(
            f"2. An uncached list within 5× its raw SQL time: **{_verdict(worst[0][0] <= 5)}**: "
            f"{sum(x <= 5 for x, _ in worst)} of {len(worst)} list rows are; median {median([x for x, _ in worst]):.1f}×, "
            f"worst {worst[0][0]:.1f}× (`{worst[0][1]}`)" + ("." if worst[0][0] <= 5 else f", {worst[0][0] / 5:.1f}× the goal.")
        )
    anonymous = {r["url"]: r for r in rows}
    listener = {r["url"]: r for r in report.get("listener", [])}
    lists = [(listener[u]["load"]["rps"] / anonymous[u]["load"]["rps"], u) for u in listener
             if u in anonymous and anonymous[u]["kind"] == "list"]
    if lists:
        lists.sort()
        lines.append(
            f"3. A logged-in listener's list page and API list at ≥ 50% of the anonymous warm requests/s: "
            f"**{_verdict(lists[0][0] >= 0.5)}**: " + ", ".join(f"`{u}` {x:.0%}" for x, u in lists) + "."
        )
    api = [r for r in rows if r["url"].partition("?")[0] in ("/api/v1/search/", "/api/v1/playlists/")]
    if api:
        low = min(api, key=lambda r: r["load"]["rps"])
        lines.append(
            f"4. `/api/v1/search/` and `/api/v1/playlists/` anonymous at ≥ 1,000 requests/s warm: "
            f"**{_verdict(low['load']['rps'] >= 1000)}**: "
            + ", ".join(f"`{r['url']}` {r['load']['rps']:,.0f}" for r in api)
            + "."
        )
    mine = [r for u, r in listener.items() if u.partition("?")[0] in ("/api/v1/search/", "/api/v1/playlists/")]
    if mine:
        low = min(r["load"]["rps"] for r in mine)
        lines.append(
            f"4. The same logged in at ≥ 300 requests/s: **{_verdict(low >= 300)}**: "
            + ", ".join(f"`{r['url']}` {r['load']['rps']:,.0f}" for r in mine) + "."
        )
    typo = [r for r in rows if r["kind"] == "search" and TYPO in r["url"]]
    suggest = [r for r in rows if "/suggest/" in r["url"]]
    for found, limit, what in ((typo, 50, "A typo search (no word matches) cold"), (suggest, 15, "Suggestions cold")):
        if found:
            top = max(r["cold_ms"][0] for r in found)
            lines.append(
                f"5. {what} < {limit} ms: **{_verdict(top < limit)}**: "
                + ", ".join(f"`{r['url']}` {r['cold_ms'][0]:.1f} ms" for r in found) + "."
            )
    compress = [r for r in rows if r["kind"] == "list"]
    savings = sorted((1 - (r["gzip_bytes"] or r["bytes"]) / r["bytes"], r["url"], r["bytes"]) for r in compress)
    if savings:
        lines.append(
            f"6. gzip saves ≥ 75% on every HTML and JSON list page: **{_verdict(savings[0][0] >= 0.75)}**: smallest "
            f"saving {savings[0][0]:.1%} (`{savings[0][1]}`, {savings[0][2]:,} bytes), median "
            f"{median([x for x, _, _ in savings]):.1%}"
            + ("." if savings[0][0] >= 0.75 else f", {(0.75 - savings[0][0]) * 100:.2f} percentage points short.")
        )
    lines += playback_goals(audio or {}, report.get("listening"))
    lines.append(scale_goal(report.get("scale")))
    errors = sum(r["errors"] for r in rows) + sum(r["before_result"]["errors"] for r in rows if r.get("before_result"))
    errors += report["minimal_errors"] + sum(r["errors"] for r in report.get("shared", [])) + streaming_errors(audio)
    lines.append(f"Zero errors: **{_verdict(not errors)}** ({errors:,} errors in all rows).")
    return lines


def streaming_errors(audio):
    """One for each audio section that failed (the concurrent streams' own errors are goal 7's)."""
    return len((audio or {}).get("failed", []))


def playback_goals(audio, listening):
    """Goal 7's parts, from the streaming and transcoding figures (audio_section) and the listening rows."""
    lines = []
    streaming = audio.get("streaming")
    if streaming:
        cells, ok = [], True
        for path, name in (("nginx", "nginx"), ("django", "Django alone")):
            start, seek = streaming[path]["start"]["p95_ms"], streaming[path]["seek"]["p95_ms"]
            ok = ok and start < 50 and seek < 100
            cells.append(f"{name} {start:.1f} and {seek:.1f} ms")
        lines.append(f"7. First audio byte p95 < 50 ms and seek p95 < 100 ms, through nginx and through Django: "
                     f"**{_verdict(ok)}**: first byte and seek p95 " + "; ".join(cells) + ".")
        run = streaming["nginx"]["concurrent"]
        during, idle = run["healthz_during"]["p95_ms"], run["healthz_idle"]["p95_ms"]
        ok = run["streams"] >= 200 and run["errors"] == 0 and during < 50
        lines.append(
            f"7. 200 concurrent streams through nginx, 0 errors, no app worker held (the app's /healthz p95 under 50 ms "
            f"while they play): **{_verdict(ok)}**: {run['streams']} streams, {run['errors']} errors, /healthz p95 "
            f"{during:.1f} ms during them ({idle:.1f} ms idle), answered {run['healthz_during']['count']:,} times."
        )
    else:
        failed = "Streaming" in audio.get("failed", [])
        lines.append(f"7. Streaming: **{'failed' if failed else 'not measured'}** in this run.")
    fresh = [r for r in audio.get("transcode", []) if r["path"].startswith("HTTP")]
    if fresh:
        worst = max(fresh, key=lambda r: r["first_byte_ms"])
        lines.append(
            f"7. First byte of a fresh 96 kbps transcode < 300 ms: **{_verdict(worst['first_byte_ms'] < 300)}**: "
            + ", ".join(f"{r['path'][6:]} {r['format']} {r['first_byte_ms']:.1f} ms" for r in fresh) + " (medians)."
        )
    else:
        failed = "Transcoding (issue 17)" in audio.get("failed", [])
        lines.append("7. First byte of a fresh transcode: "
                     + ("**failed** in this run (its section below)." if failed
                        else "**not measured** in this run (smoke mode leaves it out)."))
    stats = [r for r in (listening or {}).get("rows", []) if r.get("row") == "stats" and not r.get("missing")]
    if stats:
        worst = max(stats, key=lambda r: r["ms"][1])
        seeded = listening.get("seeded") or {}
        scale = (f" (of {seeded['listeners']:,} listeners, at {seeded['listens']:,} listens)"
                 if "listeners" in seeded and "listens" in seeded else "")
        lines.append(
            f"7. Stats for the heaviest listener{scale} cold < 50 ms (p95): "
            f"**{_verdict(worst['ms'][1] < 50)}**: slowest `{worst['url']}` {worst['ms'][1]:.1f} ms p95 "
            f"({worst['ms'][0]:.1f} ms median)."
        )
    return lines


def listening_section(args, bench, seeded):
    """bench/listens.py's check, rows and refresh_popularity, against the running server."""
    log("listening: checking the seeded rollups against record's")
    listening = {"seeded": seeded, "check": listens.check(args.small)}
    listening["rows"] = listens.rows(bench, args.small, max(args.runs, 20), gunicorn_workers())
    if args.listening_only and args.no_popularity:
        listening["popularity"] = []
    else:
        log("listening: refresh_popularity over the listens")
        listening["popularity"] = listens.popularity(args.small)
    return listening


@contextlib.contextmanager
def served(args, listening=False):
    """The servers started, the catalogue ready (with `listening`, the listens too) and gunicorn serving it
    with every worker connected: yields (servers, bench, the seeded listens' facts or None, the log folder)."""
    with Servers(args.small, args.songs) as servers:
        os.environ.update(servers.env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "Syro.settings")
        reseeded = prepare_catalogue(servers, args.songs)
        import django

        django.setup()
        seeded_listens = listens.prepare(servers, args.small, reseeded, STATE) if listening else None
        log_dir = Path(tempfile.mkdtemp(prefix="syro-bench-log-"))
        try:
            log_path = log_dir / "gunicorn.log"
            log("starting gunicorn (scripts/serve)")
            servers.start_gunicorn(log_path)
            bench = Bench(args, servers, log_path)
            # Every worker opens its database connection before anything is timed.
            wrk(servers.base, "/readyz", 1, args.connections)
            yield servers, bench, seeded_listens, log_dir
        finally:
            shutil.rmtree(log_dir, ignore_errors=True)


def catalogue_counts():
    from SyroMusic.models import Album, Artist, Playlist, Song

    return {"songs": Song.objects.count(), "albums": Album.objects.count(), "artists": Artist.objects.count(),
            "playlists": Playlist.objects.count()}


def run(args):
    started, load_before = time.monotonic(), os.getloadavg()[0]
    with served(args, listening=True) as (servers, bench, seeded_listens, log_dir):
        rows = default_rows()
        if args.listening_only:
            return {"listening": listening_section(args, bench, seeded_listens), "small": args.small,
                    "seconds": time.monotonic() - started, "load_average": load_before}
        minimal_row = {"url": "/bench/minimal/", "type": "html", "kind": "ceiling"}
        minimal = [wrk(servers.base, minimal_row["url"], args.duration, args.connections)]
        minimal_ms, _, minimal_errors = bench.timed(minimal_row["url"], args.runs, cold=False)
        for row in rows:
            row.update(bench.measure(row))
            if row.get("before") and not row.get("missing"):
                before = {"url": row["before"], "type": row["type"], "kind": "before"}
                row["before_result"] = bench.measure(before, cached=False)
        minimal.append(wrk(servers.base, minimal_row["url"], args.duration, args.connections))
        listener = listener_rows(args, bench)
        listening = listening_section(args, bench, seeded_listens)
        shared = shared_cache_rows(args, servers, log_dir)
        from bench.before_views import BASELINE_ROWS

        report = {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": "make bench BENCH_SMALL=1" if args.small else "make bench",
            "code": code_version(), "note": args.note,
            "small": args.small, "songs": args.songs, "runs": args.runs, "duration": args.duration,
            "connections": args.connections, "baseline_rows": BASELINE_ROWS,
            "workers": gunicorn_workers(),
            "machine": machine(), "versions": versions(servers, bench),
            "catalogue": catalogue_counts(),
            "minimal": minimal, "minimal_ms": [median(minimal_ms), p95(minimal_ms)],
            "minimal_errors": minimal_errors + sum(m["errors"] for m in minimal),
            "ceiling_rps": statistics.mean(m["rps"] for m in minimal),
            "rows": rows,
            "shared": shared,
            "listener": listener,
            "listening": listening,
            "scale": None if args.small else load_scale(),
        }
    report["seconds"] = time.monotonic() - started
    report["load_average"] = load_before
    return report


def run_scale(args):
    """Goal 8: page 1 of every list, cold, at args.songs, on a cluster of its own (seeded once, then reused)."""
    started, load_before = time.monotonic(), os.getloadavg()[0]
    with served(args) as (servers, bench, _, _):
        rows = [row for row in default_rows() if row["page1"]]
        for row in rows:
            row.update(bench.measure_cold(row))
        report = {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": "make bench-scale" if not args.small and args.songs == SCALE_SONGS
            else f"bench/suite.py --scale --songs {args.songs}{' --small' if args.small else ''}",
            "code": code_version(), "small": args.small, "songs": args.songs, "runs": args.runs,
            "workers": gunicorn_workers(), "machine": machine(), "versions": versions(servers, bench),
            "catalogue": catalogue_counts(), "seeded": servers.seeded, "rows": rows,
        }
    report["seconds"] = time.monotonic() - started
    report["load_average"] = load_before
    return report


LISTENER_ROWS = ("/music/songs/", "/music/albums/", "/music/artists/", "/api/v1/songs/", "/api/v1/albums/",
                 "/api/v1/artists/", "/api/v1/search/?q=beatles", "/api/v1/playlists/")


def listener_rows(args, bench):
    """The same pages for a logged-in listener (a session cookie): server time warm, and requests/s."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench-listener")
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    rows = []
    for url in LISTENER_ROWS:
        log(f"measuring {url} logged in")
        bench.log.skip_to_end()
        durations, queries, errors = [], [], 0
        for attempt in range(args.runs + 1):  # the first fills what is kept
            status, _, _ = fetch(bench.servers.base, url, gzip=True, cookie=cookie)
            errors += not 200 <= status < 300
            record = bench.log.record_for(url)
            if attempt:
                durations.append(record["duration_ms"])
                queries.append(record["queries"])
        load = wrk(bench.servers.base, url, args.duration, args.connections, cookie=cookie)
        rows.append({"url": url, "warm_ms": [median(durations), p95(durations)], "queries": max(queries),
                     "load": load, "errors": errors + load["errors"]})
    return rows


def shared_cache_rows(args, servers, log_dir):
    """The server again with PAGE_SHARED_SECONDS=60: nginx's page cache answers anonymous pages itself
    (deploy/nginx.conf). Requests/s under the same load, beside the minimal view (which it never keeps)."""
    log("shared cache: scripts/serve again with PAGE_SHARED_SECONDS=60")
    servers.gunicorn.stop()
    servers.env["PAGE_SHARED_SECONDS"] = "60"
    try:
        servers.start_gunicorn(log_dir / "gunicorn-shared.log")
        wrk(servers.base, "/readyz", 1, args.connections)
        rows = []
        for url in (*SHARED_ROWS, "/bench/minimal/"):
            status, headers, _ = services.fetch(servers.base + url, headers={"Accept-Encoding": "gzip"}, timeout=120)
            _, headers, _ = services.fetch(servers.base + url, headers={"Accept-Encoding": "gzip"}, timeout=120)
            load = wrk(servers.base, url, args.duration, args.connections)
            rows.append({"url": url, "status": status, "cache_status": headers.get("X-Cache-Status"), "load": load,
                         "errors": load["errors"] + (status != 200)})
        return rows
    finally:
        servers.env["PAGE_SHARED_SECONDS"] = "0"


def audio_section(small):
    """Streaming (bench/streaming.py: both paths), scan_library (bench/scan_library.py) and the first bytes of a
    fresh transcode (bench/transcode.py, not in smoke mode): (their printed tables, {module name: figures})."""
    import io

    import scan_library
    import streaming
    import transcode

    streaming_argv = ["--requests", "40", "--streams", "20"] if small else []
    scan_argv = ["--files", "200", "--runs", "2"] if small else ["--files", "10000", "--runs", "3"]
    sections = [("Streaming", streaming, streaming_argv), ("Library scan", scan_library, scan_argv)]
    if not small:  # four minutes of audio encoded twice a run: longer than the whole smoke mode
        sections.append(("Transcoding (issue 17)", transcode, ["--runs", "3"]))
    parts, figures = [], {}
    for title, module, argv in sections:
        log(f"{title.lower()}: bench/{module.__name__}.py {' '.join(argv)}")
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                figures[module.__name__] = module.main(argv)
        except Exception:  # noqa: BLE001 - the rest of the run's figures are still written; it counts as an error
            failure = traceback.format_exc()
            log(f"{title.lower()} failed:\n{failure}")
            figures.setdefault("failed", []).append(title)
            printed.write(f"\nFAILED:\n{failure}")
        command = f"python bench/{module.__name__}.py {' '.join(argv)}".strip()
        parts.append(f"\n## {title}\n\n`{command}`\n\n```\n{printed.getvalue().rstrip()}\n```\n")
    return "".join(parts), figures


def gunicorn_workers():
    namespace = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)
    return namespace["workers"]


def main(argv):
    args = parse_args(argv)
    missing = services.missing_binaries("wrk")
    if missing:
        log("cannot run, missing: " + "; ".join(missing))
        return 2
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.scale:
        report = run_scale(args)
        print("\n".join(render_scale(report, {})[1:-2]) + "\n\n- " + scale_goal(report))
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
            log(f"wrote {args.json}")
        if args.output:
            path = Path(args.output)
            path.write_text(splice_scale(path.read_text() if path.exists() else "", report))
            log(f"wrote the scale run's section of {args.output}")
        errors = sum(r["errors"] for r in report["rows"])
        if errors:
            log(f"{errors} errors: the benchmark failed")
        return 1 if errors else 0
    report = run(args)
    if args.listening_only:
        text = "\n".join([f"`{' '.join(['bench/suite.py', *argv])}` ({report['seconds']:.0f} s; load average "
                          f"before: {report['load_average']:.2f} on {os.cpu_count()} cores)"]
                         + listens.render(report["listening"]) + ["", "## Goals (issue 15)", ""]
                         + [f"- {line}" for line in listens.goals(report["listening"])]) + "\n"
        print(text)
        return 1 if sum(r.get("errors", 0) for r in report["listening"]["rows"]) else 0
    audio_text, audio = audio_section(args.small)
    text = render(report, audio) + audio_text
    print(text)
    if args.output:
        Path(args.output).write_text(text)
        log(f"wrote {args.output}")
    if args.json:
        Path(args.json).write_text(json.dumps({**report, "audio": audio}, indent=1) + "\n")
    errors = streaming_errors(audio) + report["minimal_errors"] + sum(
        r.get("errors", 0) + r.get("before_result", {}).get("errors", 0) for r in report["rows"]
    ) + sum(r.get("errors", 0) for r in report["listening"]["rows"]) + sum(r["errors"] for r in report["shared"]) + sum(
        r["errors"] for r in report["listener"])
    if errors:
        log(f"{errors} errors: the benchmark failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
