"""A listener's stats over a range (the last 7 or 30 days, 12 months, all time), in their own time zone.

Read from the rollups, never from the whole history, so that the heaviest listener's stats cost about
what a light one's do. One query loads the listener's months (ListenMonth: at most one row a month) and
their days since the 1st of last month (ListenDay): the months give 12 months' and all time's listens,
minutes, hours and weekdays, the monthly figures and the streaks (each month keeps its runs of days);
the days give 7 and 30 days' and the current streak's. One more query ranks the top songs, albums and
artists of the range and the top song and artist of each of the last 12 months (see _ranking).

Words: a *listen* is a counted one (the scrobbling rule); *minutes* are every event's time heard,
skips too; a song, album or artist is among the *unique* ones and the top lists once it has a counted
listen in the range.
"""

import datetime
import json
from dataclasses import dataclass, field

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from SyroMusic.models import Album, Artist, Listen, ListenDay, ListenMonth, ListenTally, Profile, Song

from .record import HOURS, TALLIES, build_window, count_uniques, fold, month_days, month_key

RANGES = {"7d": "Last 7 days", "30d": "Last 30 days", "12m": "Last 12 months", "all": "All time"}
DEFAULT_RANGE = "30d"
TOP = 10
# At most this many rows meet the catalogue's tables per top list: the planner then looks names up by
# index instead of reading whole tables (it cannot tell that RANK() <= 10 leaves about ten). Only when more
# than this many tie for the tenth place are some of them left out before their names are compared.
CANDIDATES = 100
MONTHS = 12
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTE_MS = 60_000


def range_error(value):
    """What is wrong with a `range` value, or None when it is one of RANGES."""
    if value in RANGES:
        return None
    return f"Must be one of {', '.join(RANGES)}; got {value!r}."


@dataclass(frozen=True)
class Ranked:
    """A song, album or artist in a top list, with its counted listens and time heard. A song names its
    artist and album; an album its artist (`artist_*`)."""

    kind: str  # "song", "album" or "artist"
    id: int
    name: str
    listens: int
    heard_ms: int
    artist_id: int | None = None
    artist_name: str | None = None
    album_id: int | None = None
    album_title: str | None = None

    @property
    def minutes(self):
        return self.heard_ms // MINUTE_MS

    def get_absolute_url(self):
        return reverse(f"music:{self.kind}-detail", args=[self.id])


@dataclass(frozen=True)
class MonthSummary:
    first_day: datetime.date
    listens: int
    heard_ms: int
    top_artist: Ranked | None
    top_song: Ranked | None

    @property
    def minutes(self):
        return self.heard_ms // MINUTE_MS

    @property
    def key(self):
        return month_key(self.first_day)


@dataclass
class Stats:
    range: str
    time_zone: str
    today: datetime.date
    start: datetime.date | None  # the range's first day; None for all time
    ever_listened: bool  # any event at all, in any range
    listens: int = 0
    heard_ms: int = 0
    unique_songs: int = 0
    unique_albums: int = 0
    unique_artists: int = 0
    current_streak: int = 0
    longest_streak: int = 0
    hours: list = field(default_factory=lambda: [0] * HOURS)
    weekdays: list = field(default_factory=lambda: [0] * len(WEEKDAYS))
    top_songs: list = field(default_factory=list)
    top_albums: list = field(default_factory=list)
    top_artists: list = field(default_factory=list)
    months: list = field(default_factory=list)  # the last 12 calendar months, oldest first

    @property
    def range_label(self):
        return RANGES[self.range]

    @property
    def minutes(self):
        return self.heard_ms // MINUTE_MS

    @property
    def most_active_hour(self):
        """The hour of the day (0-23) with the most listens, the earliest on a tie; None without listens."""
        return _busiest(self.hours)

    @property
    def most_active_weekday(self):
        """The day of the week (0 = Monday) with the most listens, the earliest on a tie; None without listens."""
        return _busiest(self.weekdays)

    @property
    def most_active_weekday_name(self):
        day = self.most_active_weekday
        return None if day is None else WEEKDAYS[day]


def _busiest(counts):
    best = max(counts)
    return counts.index(best) if best else None


def range_start(range, today):
    """The first day of the range ending today (the listener's today), None for all time."""
    if range == "7d":
        return today - datetime.timedelta(days=6)
    if range == "30d":
        return today - datetime.timedelta(days=29)
    if range == "12m":
        return _months_back(today.replace(day=1), MONTHS - 1)
    if range == "all":
        return None
    raise ValueError(range_error(range))


def _months_back(first_day, count):
    index = first_day.year * 12 + first_day.month - 1 - count
    return datetime.date(index // 12, index % 12 + 1, 1)


def stats_for(user, range, *, today=None):
    """The listener's stats over `range` (one of RANGES), in their time zone. Three queries: the profile
    (none when loaded with the user), their months with their recent days, and the ranking."""
    profile = Profile.of(user)
    if profile.pending_listens:
        # Listens recorded since the rollups were last brought up to date (record(defer=True)): in first.
        profile = fold(user)
    zone = profile.zone
    today = today or timezone.now().astimezone(zone).date()
    start = range_start(range, today)
    stats = Stats(range=range, time_zone=profile.time_zone, today=today, start=start, ever_listened=False)
    # The recent days: from the 1st of last month (the current streak), or of the range's first month.
    since = _months_back(today.replace(day=1), 1)
    if range in ("7d", "30d"):
        since = min(since, start.replace(day=1))
    months, days = _months_and_days(user.pk, since)
    if not months:
        stats.months = [MonthSummary(first, 0, 0, None, None) for first in _last_months(today)]
        return stats
    stats.ever_listened = True
    if range == "12m" and profile.listens_window != month_key(today):
        # The tallies' window of these 12 months, once a month (then kept by record): see ListenTally.
        profile = build_window(user, month_key(today))
    _add_totals(stats, months, days)
    stats.current_streak = _current_streak(months, days, since, today)
    stats.longest_streak = _longest_streak(months)
    month_totals = {key: (month.listens, month.heard_ms) for key, month in months.items()}
    _add_ranking(stats, user, zone, month_totals)
    if range in ("12m", "all"):
        # Kept with the tallies they count (record): no need to count the rows on every view.
        period = ListenTally.ALL_TIME if range == "all" else -month_key(today)
        if str(period) not in profile.listen_uniques:
            profile = count_uniques(user, period)
        stats.unique_songs, stats.unique_albums, stats.unique_artists = profile.listen_uniques[str(period)]
    return stats


@dataclass(frozen=True)
class _Month:
    listens: int
    heard_ms: int
    hours: list
    weekdays: list
    first_run: int
    last_run: int
    longest_run: int


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _months_and_days(user_id, since):
    """One query: the listener's months (YYYYMM -> _Month) and their days from `since` on (date ->
    (listens, heard_ms, hours))."""
    quote = connection.ops.quote_name
    sql = (
        f"SELECT 0, month, NULL, listens, heard_ms, hours, weekdays, first_run, last_run, longest_run"
        f" FROM {quote(ListenMonth._meta.db_table)} WHERE user_id = %s"
        f" UNION ALL SELECT 1, NULL, day, listens, heard_ms, hours, NULL, NULL, NULL, NULL"
        f" FROM {quote(ListenDay._meta.db_table)} WHERE user_id = %s AND day >= %s"
    )
    months, days = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, user_id, connection.ops.adapt_datefield_value(since)])
        for is_day, key, day, listens, heard_ms, hours, weekdays, first_run, last_run, longest_run in cursor.fetchall():
            if is_day:
                day = day if isinstance(day, datetime.date) else datetime.date.fromisoformat(day)
                days[day] = (int(listens), int(heard_ms), _json(hours))
            else:
                months[int(key)] = _Month(
                    int(listens), int(heard_ms), _json(hours), _json(weekdays), first_run, last_run, longest_run
                )
    return dict(sorted(months.items())), days


def _add_totals(stats, months, days):
    """Listens, minutes, hours and weekdays of the range: 7 and 30 days from their days, longer from months."""
    if stats.range in ("7d", "30d"):
        for day, (listens, heard_ms, hours) in days.items():
            if day >= stats.start:
                stats.listens += listens
                stats.heard_ms += heard_ms
                stats.weekdays[day.weekday()] += listens
                stats.hours = [a + b for a, b in zip(stats.hours, hours or [0] * HOURS, strict=True)]
        return
    first = 0 if stats.start is None else month_key(stats.start)
    for key, month in months.items():
        if key >= first:
            stats.listens += month.listens
            stats.heard_ms += month.heard_ms
            stats.weekdays = [a + b for a, b in zip(stats.weekdays, month.weekdays, strict=True)]
            stats.hours = [a + b for a, b in zip(stats.hours, month.hours, strict=True)]


def _last_months(today):
    this_month = today.replace(day=1)
    return [_months_back(this_month, back) for back in range(MONTHS - 1, -1, -1)]


def _current_streak(months, days, since, today):
    """Consecutive days with a listen, ending today, or yesterday when today has none yet: a streak
    lasts until a whole day passed without a listen. The days from `since` (a 1st) on, then whole months
    back from there: a month adds its last run of days, and the streak goes on only if that was all of it."""
    one = datetime.timedelta(days=1)
    active = {day for day, (listens, _, _) in days.items() if listens}
    day = today if today in active else today - one
    streak = 0
    while day in active:
        streak += 1
        day -= one
    if day >= since:
        return streak
    key = month_key(day)  # the walk reached `since`: the month before it ends the streak or carries it on
    while key in months:
        month = months[key]
        streak += month.last_run
        if month.last_run < month_days(key)[1].day:
            break
        key = _month_before(key)
    return streak


def _month_before(key):
    year, month = divmod(key, 100)
    return key - 1 if month > 1 else (year - 1) * 100 + 12


def _longest_streak(months):
    """The longest run of days with a listen: within a month, or a month's last run carried on into the
    next months' first runs."""
    longest = carry = 0
    previous = None
    for key, month in months.items():  # in order
        if previous is None or _month_before(key) != previous:
            carry = 0
        longest = max(longest, month.longest_run, carry + month.first_run)
        carry = carry + month.first_run if month.first_run == month_days(key)[1].day else month.last_run
        previous = key
    return longest


def _add_ranking(stats, user, zone, month_totals):
    months = _last_months(stats.today)
    rows = _ranking(user.pk, stats.range, stats.start, zone, [month_key(first) for first in months])
    tops = {"song": stats.top_songs, "album": stats.top_albums, "artist": stats.top_artists}
    unique = {}
    month_tops = {}
    for kind, month, id, name, listens, heard, owner_id, owner_name, album_id, album_title, groups in rows:
        ranked = Ranked(
            kind=kind.removeprefix("month-"), id=id, name=name, listens=int(listens), heard_ms=int(heard),
            artist_id=owner_id, artist_name=owner_name, album_id=album_id, album_title=album_title,
        )
        if kind in tops:
            tops[kind].append(ranked)
            unique[kind] = int(groups)
        else:
            month_tops[(month, ranked.kind)] = ranked
    stats.unique_songs = unique.get("song", 0)
    stats.unique_albums = unique.get("album", 0)
    stats.unique_artists = unique.get("artist", 0)
    for first in months:
        key = month_key(first)
        listens, heard_ms = month_totals.get(key, (0, 0))
        stats.months.append(
            MonthSummary(first, listens, heard_ms, month_tops.get((key, "artist")), month_tops.get((key, "song")))
        )


class _Sql:
    """SQL text built in order, with its parameters in the same order."""

    def __init__(self):
        self.params = []

    def __call__(self, text, *params):
        self.params.extend(params)
        return text


def _ranking(user_id, range, start, zone, month_keys):
    """One query: the range's top songs, albums and artists (each row with how many there are in all),
    and the top song and artist of each month in `month_keys` (YYYYMM). Rows: kind, month, id, name,
    listens, heard, artist id, artist name, album id, album title, how many of that kind.

    Each part reads only what it needs, by index, so the heaviest listener's stats cost about what a
    light one's do:
    - all time and 12 months: the tenth-highest count of listens in the all-time tally or the 12 months'
      window (ten index entries) bounds the rows that can be among the first ten (how many there are, the
      profile keeps);
    - 7 and 30 days: the range's own listens (the listener's newest, by index), read once;
    - each month's top song and artist: that month's highest count (one index entry), then its rows.
    Only the rows that can still be among the first ten (RANK() <= 10 by listens and time heard: ties at
    the tenth place included) meet the catalogue's tables, where the name breaks the remaining ties."""
    quote = connection.ops.quote_name
    listens = quote(Listen._meta.db_table)
    songs, albums, artists = (quote(model._meta.db_table) for model in (Song, Album, Artist))
    tallies = {kind: quote(model._meta.db_table) for kind, model in TALLIES.items()}
    months = quote(ListenMonth._meta.db_table)
    sql = _Sql()
    # All time's tally rows, or the window's of the last 12 months (up to the current month, the last key).
    period = ListenTally.ALL_TIME if range == "all" else -month_keys[-1]

    head = ""
    if range in ("7d", "30d"):
        # Days, not months: the range's own listens, from local midnight of its first day.
        since = datetime.datetime.combine(start, datetime.time(), tzinfo=zone)
        head = sql(
            f"WITH recent AS (SELECT song_id, album_id, artist_id, counted, heard_ms FROM {listens}"
            f" WHERE user_id = %s AND started_at >= %s) ",
            user_id, connection.ops.adapt_datetimefield_value(since),
        )

    def candidates(kind):
        """The rows of the range that can still be among the first ten, with how many there are in all."""
        column, tally = f"{kind}_id", tallies[kind]
        if range in ("all", "12m"):
            total = "0"  # the profile keeps how many there are (stats_for)
            source = sql(
                f"SELECT {column} AS id, listens, heard_ms AS heard FROM {tally} WHERE user_id = %s AND month = %s"
                f" AND listens >= COALESCE((SELECT listens FROM {tally} WHERE user_id = %s AND month = %s"
                f" AND listens > 0 ORDER BY listens DESC LIMIT 1 OFFSET {TOP - 1}), 1)",
                user_id, period, user_id, period,
            )
        else:
            total = "COUNT(*) OVER ()"
            source = (
                f"SELECT {column} AS id, SUM(CASE WHEN counted THEN 1 ELSE 0 END) AS listens,"
                f" SUM(heard_ms) AS heard FROM recent WHERE {column} IS NOT NULL GROUP BY {column}"
            )
        return (
            f"SELECT id, listens, heard, total FROM (SELECT id, listens, heard, {total} AS total,"
            f" RANK() OVER (ORDER BY listens DESC, heard DESC) AS place FROM ({source}) AS heard_{kind}"
            f" WHERE listens > 0) AS ranked_{kind} WHERE place <= {TOP} ORDER BY place LIMIT {CANDIDATES}"
        )

    def month_candidates(kind):
        """The first of each month (ties kept): the month's highest count of listens, then its rows."""
        column, tally = f"{kind}_id", tallies[kind]
        # The listener's months (ListenMonth) from the first of the 12: a month without one has no listens.
        best = sql(
            f"SELECT wanted.month, (SELECT MAX(x.listens) FROM {tally} x WHERE x.user_id = %s"
            f" AND x.month = wanted.month) AS most FROM {months} wanted WHERE wanted.user_id = %s"
            f" AND wanted.month >= %s AND wanted.month <= %s",
            user_id, user_id, month_keys[0], month_keys[-1],
        )
        return sql(
            f"SELECT month, id, listens, heard FROM (SELECT t.month, t.{column} AS id, t.listens,"
            f" t.heard_ms AS heard, RANK() OVER (PARTITION BY t.month ORDER BY t.heard_ms DESC) AS place"
            f" FROM ({best}) AS best JOIN {tally} t ON t.user_id = %s AND t.month = best.month"
            f" AND t.listens = best.most WHERE best.most > 0) AS monthly_{kind} WHERE place = 1",
            user_id,
        )

    song_rows, album_rows, artist_rows = candidates("song"), candidates("album"), candidates("artist")
    month_songs, month_artists = month_candidates("song"), month_candidates("artist")
    query = head + f"""
        SELECT kind, month, id, name, listens, heard, owner_id, owner_name, album_id, album_title, total
        FROM (
            SELECT 'song' AS kind, 0 AS month, t.id, s.title AS name, t.listens, t.heard,
                   s.artist_id AS owner_id, ar.name AS owner_name, s.album_id, al.title AS album_title, t.total,
                   ROW_NUMBER() OVER (ORDER BY t.listens DESC, t.heard DESC, LOWER(s.title), t.id) AS position,
                   {TOP} AS most
            FROM ({song_rows}) AS t
            JOIN {songs} s ON s.id = t.id JOIN {artists} ar ON ar.id = s.artist_id JOIN {albums} al ON al.id = s.album_id
            UNION ALL
            SELECT 'album', 0, t.id, al.title, t.listens, t.heard, al.artist_id, aa.name, NULL, NULL, t.total,
                   ROW_NUMBER() OVER (ORDER BY t.listens DESC, t.heard DESC, LOWER(al.title), t.id), {TOP}
            FROM ({album_rows}) AS t JOIN {albums} al ON al.id = t.id JOIN {artists} aa ON aa.id = al.artist_id
            UNION ALL
            SELECT 'artist', 0, t.id, ar.name, t.listens, t.heard, NULL, NULL, NULL, NULL, t.total,
                   ROW_NUMBER() OVER (ORDER BY t.listens DESC, t.heard DESC, LOWER(ar.name), t.id), {TOP}
            FROM ({artist_rows}) AS t JOIN {artists} ar ON ar.id = t.id
            UNION ALL
            SELECT 'month-song', t.month, t.id, s.title, t.listens, t.heard, s.artist_id, ar.name, s.album_id, al.title, 0,
                   ROW_NUMBER() OVER (PARTITION BY t.month ORDER BY LOWER(s.title), t.id), 1
            FROM ({month_songs}) AS t
            JOIN {songs} s ON s.id = t.id JOIN {artists} ar ON ar.id = s.artist_id JOIN {albums} al ON al.id = s.album_id
            UNION ALL
            SELECT 'month-artist', t.month, t.id, ar.name, t.listens, t.heard, NULL, NULL, NULL, NULL, 0,
                   ROW_NUMBER() OVER (PARTITION BY t.month ORDER BY LOWER(ar.name), t.id), 1
            FROM ({month_artists}) AS t JOIN {artists} ar ON ar.id = t.id
        ) AS ranked
        WHERE position <= most
        ORDER BY kind, month, position
    """
    with connection.cursor() as cursor:
        cursor.execute(query, sql.params)
        return cursor.fetchall()
