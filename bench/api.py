"""API server times at depth: cursor pages cost the same at the start and 900,000 rows in.

Same method as bench/pages.py (in-process, full middleware, medians of repeated
requests), against a seeded catalogue:

    .venv/bin/python scripts/with_services.py --durable -- sh -c '
        .venv/bin/python manage.py migrate -v0 &&
        .venv/bin/python manage.py seed_catalogue --songs 1000000 &&
        .venv/bin/python bench/api.py'
"""

import argparse  # noqa: I001 (pages must set Django up before django is imported)
import base64
import statistics

from pages import Client, cache, connection, p95, reset_queries, settings, timed  # sets Django up

from django.test.utils import CaptureQueriesContext

from SyroMusic.models import Song


def cursor_at(song_id):
    """DRF's cursor token for 'the songs after this id'."""
    return base64.b64encode(f"p={song_id}".encode()).decode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.API_THROTTLE_RATES = {"anonymous": 10**9, "user": 10**9}  # measuring, not limiting
    ids = Song.objects.order_by("id").values_list("id", flat=True)
    total = Song.objects.count()
    deep = ids[max(0, min(900_000, total - 51))]
    last_page = -(-total // 50)
    urls = {
        "cursor, first page": "/api/v1/songs/?cursor=",
        "cursor, 900,000 songs in": f"/api/v1/songs/?cursor={cursor_at(deep)}",
        "page 1": "/api/v1/songs/",
        "page 18,000 (900,000 songs in)": f"/api/v1/songs/?page={min(18_000, last_page)}",
        "page 1, sort by popularity": "/api/v1/songs/?ordering=-popularity",
        "albums page 1 (genres prefetched)": "/api/v1/albums/",
    }
    print(f"{total:,} songs on {connection.vendor}; {args.runs} runs each; milliseconds (cached counts cleared each run)")
    print(f"{'request':<36} {'queries':>7} {'median':>8} {'p95':>8} {'bytes':>7} {'gzip':>6}")
    client = Client()
    for label, url in urls.items():
        times = []
        for _ in range(args.runs):
            cache.clear()
            reset_queries()
            with CaptureQueriesContext(connection) as capture:
                elapsed, response = timed(client, url)
            queries = len(capture.captured_queries)
            times.append(elapsed)
        _, compressed = timed(client, url, HTTP_ACCEPT_ENCODING="gzip")
        print(f"{label:<36} {queries:>7} {statistics.median(times):>8.1f} {p95(times):>8.1f} "
              f"{len(response.content):>7} {len(compressed.content):>6}")


if __name__ == "__main__":
    main()
