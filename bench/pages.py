"""Server time of the catalogue pages, cold (page cache cleared) and cached, in one run.

Runs the requests in-process through Django's full middleware stack (no network,
no HTTP server), so the figures are the server's own time. Run it on purpose
against a seeded catalogue, e.g. a million songs on PostgreSQL:

    export SECRET_KEY=bench
    .venv/bin/python scripts/with_services.py --durable -- sh -c '
        .venv/bin/python manage.py migrate -v0 &&
        .venv/bin/python manage.py seed_catalogue --songs 1000000 &&
        .venv/bin/python bench/pages.py'

Prints one row per page: SQL queries, median and p95 milliseconds cold and
cached, and response bytes raw and gzip-compressed. `--explain` also prints
PostgreSQL's plan of each cold page's slowest query.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "Syro.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from SyroMusic.models import Album, Artist, Playlist, Song  # noqa: E402
from SyroMusic.views.catalogue import SONGS_PER_PAGE  # noqa: E402


def default_urls():
    songs = Song.objects.count()
    last_song_page = max(1, -(-songs // SONGS_PER_PAGE))
    artist = Artist.objects.order_by("id").values_list("id", flat=True)[1]
    return [
        "/",
        "/music/artists/",
        f"/music/artists/{artist}/",
        "/music/albums/",
        "/music/albums/?genre=jazz&sort=newest",
        f"/music/albums/{Album.objects.order_by('id').values_list('id', flat=True).first()}/",
        "/music/songs/",
        f"/music/songs/?page={min(1000, last_song_page)}",
        f"/music/songs/?page={last_song_page}",
        "/music/songs/?sort=popular",
        "/music/songs/?sort=artist",
        f"/music/songs/{Song.objects.order_by('id').values_list('id', flat=True).first()}/",
        "/music/playlists/",
        f"/music/playlists/{Playlist.objects.public().order_by('id').values_list('id', flat=True).first()}/",
    ]


def timed(client, url, **headers):
    started = time.perf_counter()
    response = client.get(url, **headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    return elapsed, response


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(url, runs, explain):
    client = Client()
    cold, cached = [], []
    for _ in range(runs):
        cache.clear()
        reset_queries()  # a request resets the log itself, which would hide the queries from the capture
        with CaptureQueriesContext(connection) as capture:
            elapsed, response = timed(client, url)
        queries = list(capture.captured_queries)  # a view of the log, which the next request resets
        cold.append(elapsed)
        elapsed, _ = timed(client, url)
        cached.append(elapsed)
    raw = len(response.content)
    _, compressed = timed(client, url, HTTP_ACCEPT_ENCODING="gzip")
    slowest = max(queries, key=lambda query: float(query["time"]), default=None)
    if explain and slowest and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
            print(f"\n{url}: slowest query ({slowest['time']} s)\n" + "\n".join(row[0] for row in cursor.fetchall()))
    return {
        "url": url,
        "queries": len(queries),
        "cold": (statistics.median(cold), p95(cold)),
        "cached": (statistics.median(cached), p95(cached)),
        "bytes": (raw, len(compressed.content)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="requests per page and state (default 15)")
    parser.add_argument("--explain", action="store_true", help="print the plan of each page's slowest query")
    parser.add_argument("urls", nargs="*", help="pages to measure (default: every kind of page)")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DEBUG = False
    call_command("collectstatic", interactive=False, verbosity=0)  # as a deployment does

    songs = Song.objects.count()
    print(
        f"{songs:,} songs, {Album.objects.count():,} albums, {Artist.objects.count():,} artists on "
        f"{connection.vendor}; cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}; "
        f"{args.runs} runs a page; milliseconds"
    )
    print(f"{'page':<48} {'queries':>7} {'cold median':>11} {'cold p95':>8} {'cached median':>13} {'cached p95':>10} "
          f"{'bytes':>7} {'gzip':>6}")
    rows = [measure(url, args.runs, args.explain) for url in args.urls or default_urls()]
    for row in rows:
        print(
            f"{row['url']:<48} {row['queries']:>7} {row['cold'][0]:>11.1f} {row['cold'][1]:>8.1f} "
            f"{row['cached'][0]:>13.2f} {row['cached'][1]:>10.2f} {row['bytes'][0]:>7} {row['bytes'][1]:>6}"
        )


if __name__ == "__main__":
    main()
