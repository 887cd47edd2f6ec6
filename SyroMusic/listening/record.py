"""Recording listens, and keeping the rollups the stats read exact.

Every change to a listener's listens goes through here, under a lock on their profile row, so that
ListenDay, ListenMonth and the tallies always equal what the listens add up to: record() adds, forget() and
forget_all() take away, change_time_zone() rebuilds (days and months are the listener's own, so a new
time zone moves listens between them). A client makes each event's id, so a retried or repeated batch
records nothing twice.
"""

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models.functions import Coalesce

from SyroMusic.models import (
    Listen,
    ListenAlbumTally,
    ListenArtistTally,
    ListenDay,
    ListenMonth,
    ListenTally,
    Profile,
    Song,
    validate_time_zone,
)

from .counts import counts

HOURS = 24
WEEKDAYS = 7
WINDOW_MONTHS = 12
MONTH_FIELDS = ("listens", "heard_ms", "hours", "weekdays", "active_days", "first_run", "last_run", "longest_run")
# What the rollups read of a listen.
LISTEN_FACTS = ("song_id", "album_id", "artist_id", "started_at", "heard_ms", "counted")
# Slack on a song's length when capping the time a client says it heard (its clock and ours differ a little).
CAP_SLACK_MS = 1_000
# Rows written per statement when rebuilding.
BATCH = 5_000
# Rows per INSERT … ON CONFLICT statement (5 parameters each: well under SQLite's limit).
UPSERT_ROWS = 500
# The tallies: what each counts listens of (the song, and the album and artist the listen was of).
TALLIES = {"song": ListenTally, "album": ListenAlbumTally, "artist": ListenArtistTally}


@dataclass(frozen=True)
class Event:
    """One play as a client reports it. `counted` None applies the rule; True or False is the client's
    word (an import of scrobbles, a Subsonic scrobble with submission=true)."""

    client_id: str
    song_id: int
    started_at: datetime
    heard_ms: int
    client: str = ""
    counted: bool | None = None


@dataclass
class Recorded:
    listens: list = field(default_factory=list)  # the new Listen rows
    duplicates: list = field(default_factory=list)  # client ids recorded before (or twice in the batch)
    skipped: list = field(default_factory=list)  # (client id, reason)


def local_day(started_at, zone):
    return started_at.astimezone(zone).date()


def month_key(day):
    """202611 for any day of November 2026."""
    return day.year * 100 + day.month


def months_before(key, count):
    """The month (YYYYMM) `count` months before `key`."""
    index = (key // 100) * 12 + key % 100 - 1 - count
    return (index // 12) * 100 + index % 12 + 1


def month_days(key):
    """The first and the last day of month `key` (YYYYMM)."""
    year, month = divmod(key, 100)
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def month_row(user_id, key, days, model=ListenMonth):
    """The ListenMonth of month `key` from its days: (day, listens, heard_ms, hours) in any order. (`model`:
    the migration that fills the months passes its own.)"""
    _, last = month_days(key)
    row = model(user_id=user_id, month=key, hours=[0] * HOURS, weekdays=[0] * WEEKDAYS)
    active = set()
    for day, listens, heard_ms, hours in days:
        row.listens += listens
        row.heard_ms += heard_ms
        row.weekdays[day.weekday()] += listens
        row.hours = [a + b for a, b in zip(row.hours, hours or [0] * HOURS, strict=True)]
        if listens:
            active.add(day.day)
    length = last.day
    row.active_days = len(active)
    while row.first_run < length and row.first_run + 1 in active:
        row.first_run += 1
    while row.last_run < length and length - row.last_run in active:
        row.last_run += 1
    run = 0
    for number in range(1, length + 1):
        run = run + 1 if number in active else 0
        row.longest_run = max(row.longest_run, run)
    return row


class Rollup:
    """What some listens add to (or take from) a listener's days and tallies. `window`: the listener's
    Profile.listens_window (the tallies' rows of the 12 months up to that month take the listens of those
    months too)."""

    def __init__(self, zone, window=0):
        self.zone = zone
        self.window = window
        self.window_from = months_before(window, WINDOW_MONTHS - 1) if window else None
        self.days = defaultdict(lambda: [0, 0, [0] * HOURS])  # day -> [listens, heard_ms, hours]
        # kind -> (month, id) -> [listens, heard_ms]
        self.tallies = {kind: defaultdict(lambda: [0, 0]) for kind in TALLIES}

    def add(self, listen, sign=1):
        """Add a listen (anything with song_id, album_id, artist_id, started_at, heard_ms, counted)."""
        local = listen.started_at.astimezone(self.zone)
        day = self.days[local.date()]
        day[1] += sign * listen.heard_ms
        if listen.counted:
            day[0] += sign
            day[2][local.hour] += sign
        month = month_key(local.date())
        periods = (month, ListenTally.ALL_TIME)
        if self.window and self.window_from <= month <= self.window:
            periods += (-self.window,)
        for kind, thing in (("song", listen.song_id), ("album", listen.album_id), ("artist", listen.artist_id)):
            if thing is not None:
                for period in periods:
                    tally = self.tallies[kind][(period, thing)]
                    tally[0] += sign * int(listen.counted)
                    tally[1] += sign * listen.heard_ms

    def apply(self, user):
        """Add this rollup to the stored one (the caller holds the listener's lock). Days: read the rows it
        touches and write the sums back (one upsert); tallies: one INSERT … ON CONFLICT DO UPDATE that adds,
        per table. Rows that fall to nothing are deleted."""
        if self.days:
            keys = {month_key(day) for day in self.days}
            start, end = month_days(min(keys))[0], month_days(max(keys))[1]
            stored = {
                row.day: row
                for row in ListenDay.objects.filter(user=user, day__gte=start, day__lte=end)
                if month_key(row.day) in keys
            }
            keep, drop = [], []
            for day, (listens, heard_ms, hours) in self.days.items():
                row = stored.get(day) or ListenDay(user=user, day=day, hours=[0] * HOURS)
                row.listens += listens
                row.heard_ms += heard_ms
                row.hours = [a + b for a, b in zip(row.hours or [0] * HOURS, hours, strict=True)]
                stored[day] = row
                (keep if row.listens or row.heard_ms else drop).append(row)
            _upsert(ListenDay, keep, ["user", "day"], ["listens", "heard_ms", "hours"])
            if drop:
                ListenDay.objects.filter(user=user, day__in=[row.day for row in drop]).delete()
            # The months these days are in, afresh from all their days (read above with them).
            months = defaultdict(list)
            for day, row in stored.items():
                if row.listens or row.heard_ms:
                    months[month_key(day)].append((day, row.listens, row.heard_ms, row.hours))
            _upsert(ListenMonth, [month_row(user.pk, key, days) for key, days in months.items()], ["user", "month"],
                    list(MONTH_FIELDS))
            if keys - months.keys():
                ListenMonth.objects.filter(user=user, month__in=list(keys - months.keys())).delete()
        for kind, model in TALLIES.items():
            changes = [(month, thing, *change) for (month, thing), change in self.tallies[kind].items() if any(change)]
            _add_to_tallies(model, kind, user.pk, changes)
            if any(listens < 0 or heard < 0 for _, _, listens, heard in changes):
                model.objects.filter(user=user, listens=0, heard_ms=0).delete()


def _upsert(model, rows, unique_fields, update_fields):
    """INSERT … ON CONFLICT (the unique fields) DO UPDATE: rows read before are written back by their key,
    not their id (SQLite's upsert would refuse a row whose id also conflicts)."""
    for row in rows:
        row.pk = None
    if rows:
        model.objects.bulk_create(
            rows, batch_size=BATCH, update_conflicts=True, unique_fields=unique_fields, update_fields=update_fields
        )


def _add_to_tallies(model, kind, user_id, changes):
    """Add (month, id, listens, heard_ms) to the tally rows, creating the missing ones."""
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(f"{kind}_id")
    with connection.cursor() as cursor:
        for start in range(0, len(changes), UPSERT_ROWS):
            chunk = changes[start : start + UPSERT_ROWS]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f'INSERT INTO {table} ("user_id", "month", {column}, "listens", "heard_ms") VALUES {values}'
                f' ON CONFLICT ("user_id", "month", {column}) DO UPDATE SET'
                f' "listens" = {table}."listens" + excluded."listens",'
                f' "heard_ms" = {table}."heard_ms" + excluded."heard_ms"',
                [value for row in chunk for value in (user_id, *row)],
            )


def _lock(user):
    """The listener's profile, locked until the transaction ends: their listens change one writer at a time."""
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    return profile


@transaction.atomic
def record(user, events, *, source=Listen.Source.PLAYER):
    """Record a batch of events for `user`: new ones are saved and added to the rollups; ids seen before
    are duplicates; events of songs not (or no longer) in the catalogue are skipped with a reason."""
    result = Recorded()
    events = list(events)
    if not events:
        return result
    profile = _lock(user)
    songs = {
        pk: (length, album_id, artist_id)
        for pk, length, album_id, artist_id in Song.objects.filter(pk__in={event.song_id for event in events})
        .annotate(length=Coalesce("audio__duration_ms", "duration_ms"))
        .values_list("pk", "length", "album_id", "artist_id")
    }
    seen = set(
        Listen.objects.filter(user=user, client_id__in={event.client_id for event in events}).values_list(
            "client_id", flat=True
        )
    )
    new = []
    for event in events:
        if event.client_id in seen:
            result.duplicates.append(event.client_id)
            continue
        if event.song_id not in songs:
            result.skipped.append((event.client_id, f"No song with id {event.song_id}."))
            continue
        seen.add(event.client_id)
        length, album_id, artist_id = songs[event.song_id]
        heard = max(0, int(event.heard_ms))
        if length is not None:
            heard = min(heard, length + CAP_SLACK_MS)
        counted = counts(length, heard) if event.counted is None else bool(event.counted)
        new.append(
            Listen(
                user=user, song_id=event.song_id, album_id=album_id, artist_id=artist_id,
                client_id=event.client_id, started_at=event.started_at,
                heard_ms=heard, counted=counted, client=event.client[:64], source=source,
            )
        )
    if not new:
        return result
    result.listens = Listen.objects.bulk_create(new)
    rollup = Rollup(profile.zone, profile.listens_window)
    for listen in new:
        rollup.add(listen)
    rollup.apply(user)
    return result


@transaction.atomic
def forget(user, listen_ids):
    """Delete those of the user's listens (ids of others' are ignored) and take them out of the rollups.
    Returns how many were deleted."""
    profile = _lock(user)
    gone = list(Listen.objects.filter(user=user, pk__in=list(listen_ids)).only(*LISTEN_FACTS))
    if not gone:
        return 0
    Listen.objects.filter(pk__in=[listen.pk for listen in gone]).delete()
    rollup = Rollup(profile.zone, profile.listens_window)
    for listen in gone:
        rollup.add(listen, sign=-1)
    rollup.apply(user)
    return len(gone)


@transaction.atomic
def forget_all(user):
    """Delete all the user's listens and rollups. Returns how many listens there were."""
    profile = _lock(user)
    ListenDay.objects.filter(user=user).delete()
    ListenMonth.objects.filter(user=user).delete()
    if profile.listens_window:
        profile.listens_window = 0
        profile.save(update_fields=["listens_window"])
    for model in TALLIES.values():
        model.objects.filter(user=user).delete()
    return Listen.objects.filter(user=user).delete()[0]


@transaction.atomic
def change_time_zone(user, name):
    """Save the listener's time zone and rebuild their days and months in it (all time does not move)."""
    validate_time_zone(name)
    profile = _lock(user)
    changed = profile.time_zone != name
    profile.time_zone = name
    profile.save(update_fields=["time_zone"])
    if changed:
        rebuild(user, profile.zone, all_time=False)
        profile.listens_window = 0
    return profile


def rebuild(user, zone, *, all_time=True):
    """The listener's rollups computed afresh from their listens (the caller holds the lock). The 12 months'
    window is dropped: the next stats of the last 12 months build it again (build_window)."""
    Profile.objects.filter(user=user).update(listens_window=0)
    ListenDay.objects.filter(user=user).delete()
    ListenMonth.objects.filter(user=user).delete()
    for model in TALLIES.values():
        tallies = model.objects.filter(user=user)
        (tallies if all_time else tallies.exclude(month=ListenTally.ALL_TIME)).delete()
    rollup = Rollup(zone)
    for listen in Listen.objects.filter(user=user).only(*LISTEN_FACTS).iterator(chunk_size=BATCH):
        rollup.add(listen)
    ListenDay.objects.bulk_create(
        [
            ListenDay(user=user, day=day, listens=listens, heard_ms=heard_ms, hours=hours)
            for day, (listens, heard_ms, hours) in rollup.days.items()
            if listens or heard_ms
        ],
        batch_size=BATCH,
    )
    months = defaultdict(list)
    for day, (listens, heard_ms, hours) in rollup.days.items():
        if listens or heard_ms:
            months[month_key(day)].append((day, listens, heard_ms, hours))
    ListenMonth.objects.bulk_create([month_row(user.pk, key, days) for key, days in months.items()], batch_size=BATCH)
    for kind, model in TALLIES.items():
        model.objects.bulk_create(
            [
                model(user=user, month=month, listens=listens, heard_ms=heard_ms, **{f"{kind}_id": thing})
                for (month, thing), (listens, heard_ms) in rollup.tallies[kind].items()
                if (listens or heard_ms) and (all_time or month != ListenTally.ALL_TIME)
            ],
            batch_size=BATCH,
        )


@transaction.atomic
def build_window(user, last):
    """The tallies' rows of the 12 months up to `last` (YYYYMM), summed from those months' rows, in place of
    an older window: from then on record() and forget() keep them exact. Returns the listener's profile."""
    profile = _lock(user)
    if profile.listens_window == last:
        return profile
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for kind, model in TALLIES.items():
            model.objects.filter(user=user, month__lt=0).delete()
            table, column = quote(model._meta.db_table), quote(f"{kind}_id")
            cursor.execute(
                f'INSERT INTO {table} ("user_id", "month", {column}, "listens", "heard_ms")'
                f' SELECT "user_id", %s, {column}, SUM("listens"), SUM("heard_ms") FROM {table}'
                f' WHERE "user_id" = %s AND "month" >= %s AND "month" <= %s GROUP BY "user_id", {column}',
                [-last, user.pk, months_before(last, WINDOW_MONTHS - 1), last],
            )
    profile.listens_window = last
    profile.save(update_fields=["listens_window"])
    return profile

