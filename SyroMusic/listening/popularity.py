"""Song popularity (the "popular" sort) from real counted listens over a recent window.

A song's score is round(100 × ln(1 + n) / ln(1 + max_n)), where n is its counted listens started in the
last `days` days and max_n the most any song had; 0 for a song without one. Why a logarithm: listens
are heavy-tailed (a hit has thousands where most songs have a few), so a linear share of the top song
would put nearly the whole catalogue at 0 or 1 and the "popular" order below the first few songs would
be noise. The logarithm keeps the order of the counts (more listens never score lower) while spreading
the long tail over the scale: one listen is already worth something, ten listens clearly more, and the
top song is 100. The `1 +` makes no listens exactly 0.

Computed in SQL, grouped by song over the partial index of counted listens by start
(listen_counted_recent_idx: an index-only scan of the window), and written only where the value
changes, a batch of song ids at a time. Refreshing is a job for a schedule (refresh_popularity), never
for a request: at ten million listens it takes seconds.
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from SyroMusic import caching
from SyroMusic.models import Listen, Song

DEFAULT_DAYS = 30
BATCH = 1_000_000  # song ids per statement


@dataclass
class PopularityReport:
    days: int
    since: object  # the window's start (aware datetime): listens started at or after it count
    songs: int = 0  # songs looked at (the whole catalogue)
    heard: int = 0  # songs with a counted listen in the window
    most: int = 0  # the most counted listens one song had (max_n)
    raised: int = 0
    lowered: int = 0
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def changed(self):
        return self.raised + self.lowered


def popularity_refresh(*, days=DEFAULT_DAYS, dry_run=False, now=None, batch_size=BATCH, progress=None):
    """Set every song's popularity from its counted listens of the last `days` days (see the module).

    One transaction: the scores are relative to the window's top song, so a run stopped halfway must not
    leave two scales mixed in the "popular" order; readers see the old order until the new one is whole.
    The batches bound each statement's work (and move the progress bar), not the transaction. Songs whose
    score changes stay locked until the end (an admin's edit of one of them waits a few seconds at most).
    With `dry_run` nothing is written: the report says what would change. Bumps the catalogue's cache
    version when something changed, so no cached page keeps the old "popular" order.
    `progress` is called with the number of song ids done after each batch."""
    started = time.monotonic()
    now = now or timezone.now()
    report = PopularityReport(days=days, since=now - timedelta(days=days), dry_run=dry_run)
    with transaction.atomic():
        bounds = _window_and_ids(report)
        if bounds is None:
            report.seconds = time.monotonic() - started
            return report
        first, last = bounds
        for low in range(first, last + 1, batch_size):
            high = min(low + batch_size - 1, last)
            raised, lowered = _batch(report, low, high, dry_run)
            report.raised += raised
            report.lowered += lowered
            if progress is not None:
                progress(high - low + 1)
        if report.changed and not dry_run:
            caching.bump(caching.CATALOGUE)
    report.seconds = time.monotonic() - started
    return report


def _tables():
    quote = connection.ops.quote_name
    return {"listen": quote(Listen._meta.db_table), "song": quote(Song._meta.db_table)}


def _window_and_ids(report):
    """One statement: the window's counted songs and their top count, and the catalogue's id range and size.
    None for an empty catalogue."""
    tables = _tables()
    window = _WINDOW.format(**tables, songs="")
    sql = f"""
        SELECT heard, most, first, last, songs
        FROM (SELECT COUNT(*) AS heard, MAX(n) AS most FROM ({window}) AS counted) AS window_,
             (SELECT MIN(id) AS first, MAX(id) AS last, COUNT(*) AS songs FROM {tables['song']}) AS catalogue
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [report.since])
        heard, most, first, last, songs = cursor.fetchone()
    report.heard, report.most, report.songs = heard, most or 0, songs
    return None if first is None else (first, last)


# A song's counted listens in the window, grouped over listen_counted_recent_idx (started_at, song_id
# WHERE counted): the scan reads the window's part of the index and nothing else.
_WINDOW = """
    SELECT song_id, COUNT(*) AS n FROM {listen}
    WHERE counted AND started_at >= %s AND song_id IS NOT NULL {songs}
    GROUP BY song_id
"""


def _score_sql(most):
    """The new popularity of `song` (the outer table) with `counted.n` its listens, in SQL (see the module).
    FLOOR(x + 0.5) rounds halves up on every database (ROUND's ties differ between them)."""
    if not most:
        return "0"
    return f"COALESCE(CAST(FLOOR(100.0 * LN(1 + counted.n) / LN({1 + int(most)}) + 0.5) AS INTEGER), 0)"


def _batch(report, low, high, dry_run):
    """(raised, lowered) among songs low..high: counted first (one statement), then written unless `dry_run`
    or nothing changes (a second one, touching only the songs whose score moved)."""
    tables = _tables()
    window = _WINDOW.format(**tables, songs="AND song_id BETWEEN %s AND %s")
    scored = f"""
        SELECT song.id, song.popularity AS previous, {_score_sql(report.most)} AS score
        FROM {tables['song']} AS song LEFT JOIN ({window}) AS counted ON counted.song_id = song.id
        WHERE song.id BETWEEN %s AND %s
    """
    params = [report.since, low, high, low, high]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(CASE WHEN score > previous THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN score < previous THEN 1 ELSE 0 END), 0) FROM ({scored}) AS scored",
            params,
        )
        raised, lowered = (int(value) for value in cursor.fetchone())
        if (raised or lowered) and not dry_run:
            cursor.execute(
                f"UPDATE {tables['song']} SET popularity = scored.score FROM ({scored}) AS scored "
                f"WHERE {tables['song']}.id = scored.id AND scored.score <> scored.previous",
                params,
            )
    return raised, lowered
