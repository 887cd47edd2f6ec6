"""A listener's stats over a range (the last 7 or 30 days, 12 months, all time), in their own time zone.

Read from the rollups, never from the whole history: the listener's days (ListenDay, at most one row a
day, loaded whole) give listens, minutes, streaks, hours, weekdays and the monthly figures; one more
query ranks the top songs, albums and artists of the range and the top song and artist of each of the
last 12 months. The monthly tallies (ListenTally) serve 12 months and all time; 7 and 30 days do not
fall on month boundaries, so those rank the range's own listens (the listener's newest, by index).

Words: a *listen* is a counted one (the scrobbling rule); *minutes* are every event's time heard,
skips too; a song, album or artist is among the *unique* ones and the top lists once it has a counted
listen in the range.
"""

import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from SyroMusic.models import Album, Artist, Listen, ListenDay, ListenTally, Profile, Song

from .record import HOURS, TALLIES, month_key

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
    (none when loaded with the user), their days, and the ranking."""
    profile = Profile.of(user)
    zone = profile.zone
    today = today or timezone.now().astimezone(zone).date()
    start = range_start(range, today)
    stats = Stats(range=range, time_zone=profile.time_zone, today=today, start=start, ever_listened=False)
    days = list(ListenDay.objects.filter(user=user).order_by("day").values_list("day", "listens", "heard_ms", "hours"))
    if not days:
        stats.months = [MonthSummary(first, 0, 0, None, None) for first in _last_months(today)]
        return stats
    stats.ever_listened = True
    month_totals = _add_days(stats, days)
    _add_ranking(stats, user, zone, month_totals)
    return stats


def _last_months(today):
    this_month = today.replace(day=1)
    return [_months_back(this_month, back) for back in range(MONTHS - 1, -1, -1)]


def _add_days(stats, days):
    active = []
    for day, listens, heard_ms, hours in days:
        if listens:
            active.append(day)
        if stats.start is None or day >= stats.start:
            stats.listens += listens
            stats.heard_ms += heard_ms
            stats.weekdays[day.weekday()] += listens
            for hour, count in enumerate(hours or ()):
                stats.hours[hour] += count
    stats.current_streak = _current_streak(set(active), stats.today)
    stats.longest_streak = _longest_streak(active)
    month_totals = {}
    for day, listens, heard_ms, _ in days:
        totals = month_totals.setdefault(month_key(day), [0, 0])
        totals[0] += listens
        totals[1] += heard_ms
    return month_totals


def _current_streak(active, today):
    """Consecutive days with a listen, ending today, or yesterday when today has none yet: a streak
    lasts until a whole day passed without a listen."""
    one = datetime.timedelta(days=1)
    day = today if today in active else today - one
    streak = 0
    while day in active:
        streak += 1
        day -= one
    return streak


def _longest_streak(active):
    """The longest run of consecutive days in `active` (sorted, distinct)."""
    longest = run = 0
    previous = None
    for day in active:
        run = run + 1 if previous is not None and (day - previous).days == 1 else 1
        longest = max(longest, run)
        previous = day
    return longest


def _add_ranking(stats, user, zone, month_totals):
    months = _last_months(stats.today)
    rows = _ranking(user.pk, stats.range, stats.start, zone, month_key(months[0]))
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


def _ranking(user_id, range, start, zone, first_month):
    """One query: the range's top songs, albums and artists (each row with how many there are in all),
    and the top song and artist of each month from `first_month` (YYYYMM) on. Rows: kind, month, id,
    name, listens, heard, artist id, artist name, album id, album title, how many of that kind.

    Each kind is ranked from its own tally (or, for 7 and 30 days, the range's own listens, which carry
    their album and artist) by listens and time heard before any name is joined: only the rows that can
    still be among the first ten (RANK() <= 10: ties at the tenth place included) meet the catalogue's
    tables, where the name breaks the remaining ties."""
    quote = connection.ops.quote_name
    listens = quote(Listen._meta.db_table)
    songs, albums, artists = (quote(model._meta.db_table) for model in (Song, Album, Artist))
    tallies = {kind: quote(model._meta.db_table) for kind, model in TALLIES.items()}
    params = []

    def source(kind):
        column = f"{kind}_id"
        if range == "all":
            params.extend([user_id, ListenTally.ALL_TIME])
            return f"SELECT {column} AS id, listens, heard_ms AS heard FROM {tallies[kind]} WHERE user_id = %s AND month = %s"
        if range == "12m":
            params.extend([user_id, month_key(start)])
            return (
                f"SELECT {column} AS id, SUM(listens) AS listens, SUM(heard_ms) AS heard FROM {tallies[kind]}"
                f" WHERE user_id = %s AND month >= %s GROUP BY {column}"
            )
        # Days, not months: the range's own listens, from local midnight of its first day (the user's
        # newest listens, by listen_user_recent_idx).
        since = datetime.datetime.combine(start, datetime.time(), tzinfo=zone)
        params.extend([user_id, connection.ops.adapt_datetimefield_value(since)])
        return (
            f"SELECT {column} AS id, SUM(CASE WHEN counted THEN 1 ELSE 0 END) AS listens, SUM(heard_ms) AS heard"
            f" FROM {listens} WHERE user_id = %s AND started_at >= %s AND {column} IS NOT NULL GROUP BY {column}"
        )

    def candidates(kind):
        """The rows of the range that can still be among the first ten, with how many there are in all."""
        return (
            f"SELECT id, listens, heard, total FROM (SELECT id, listens, heard, COUNT(*) OVER () AS total,"
            f" RANK() OVER (ORDER BY listens DESC, heard DESC) AS place FROM ({source(kind)}) AS heard_{kind}"
            f" WHERE listens > 0) AS ranked_{kind} WHERE place <= {TOP} ORDER BY place LIMIT {CANDIDATES}"
        )

    def month_candidates(kind):
        """The first of each month (ties kept) from `first_month` on."""
        params.extend([user_id, first_month])
        return (
            f"SELECT month, id, listens, heard FROM (SELECT month, {kind}_id AS id, listens, heard_ms AS heard,"
            f" RANK() OVER (PARTITION BY month ORDER BY listens DESC, heard_ms DESC) AS place"
            f" FROM {tallies[kind]} WHERE user_id = %s AND month >= %s AND listens > 0) AS monthly_{kind}"
            f" WHERE place = 1"
        )

    song_rows, album_rows, artist_rows = candidates("song"), candidates("album"), candidates("artist")
    month_songs, month_artists = month_candidates("song"), month_candidates("artist")
    sql = f"""
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
        cursor.execute(sql, params)
        return cursor.fetchall()
