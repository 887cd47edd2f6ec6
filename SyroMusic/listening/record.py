"""Recording listens, and keeping the rollups the stats read exact.

Every change to a listener's listens goes through here, under a lock on their profile row, so that
ListenDay, ListenMonth and the tallies always equal what the listens add up to: record() adds, forget() and
forget_all() take away, change_time_zone() rebuilds (days and months are the listener's own, so a new
time zone moves listens between them). A client makes each event's id, so a retried or repeated batch
records nothing twice.
"""

import calendar
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

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
    no_listen_uniques,
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
# Listens that may wait for fold() (record(defer=True)); past it, a batch adds them all at once.
MAX_PENDING = 1_000
# Rows per INSERT … ON CONFLICT statement (5 parameters each: well under SQLite's limit).
UPSERT_ROWS = 500
# The tallies: what each counts listens of (the song, and the album and artist the listen was of).
TALLIES = {"song": ListenTally, "album": ListenAlbumTally, "artist": ListenArtistTally}


# No listen starts before this: an older time is a client's broken clock (or a bug), refused.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def started_at(moment, now):
    """When a client says a play started, as it is recorded: before EARLIEST is refused (ValueError); a time
    in the future (the client's clock runs fast) is kept as `now`, the latest it can be. Refusing that would
    lose the listen for good: a player never sends a refused one again."""
    if moment < EARLIEST:
        raise ValueError("Must not be before 2000-01-01.")
    return min(moment, now)


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

    def apply(self, user, profile, saving=()):
        """Add this rollup to the stored one (the caller holds the listener's lock). Days: read the rows it
        touches and write the sums back (one upsert); tallies: one INSERT … ON CONFLICT DO UPDATE that adds,
        per table. Rows that fall to nothing are deleted. The profile's unique counts follow the all-time and
        window rows that gain their first listen or lose their last; it is saved with them and the fields
        named in `saving`."""
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
        # Only counts the profile holds move: a count dropped (a song, album or artist left the catalogue,
        # SyroMusic.signals) is not known, and waits to be counted afresh (count_uniques), never started at 0.
        periods = {ListenTally.ALL_TIME, -self.window} if self.window else {ListenTally.ALL_TIME}
        counted = {period for period in periods if str(period) in profile.listen_uniques}
        uniques = {str(period): list(profile.listen_uniques[str(period)]) for period in counted}
        changed = False
        for index, (kind, model) in enumerate(TALLIES.items()):
            changes = [(month, thing, *change) for (month, thing), change in self.tallies[kind].items() if any(change)]
            for period, delta in _add_to_tallies(model, kind, user.pk, changes, counted).items():
                uniques[str(period)][index] += delta
                changed = changed or bool(delta)
            if any(listens < 0 or heard < 0 for _, _, listens, heard in changes):
                model.objects.filter(user=user, listens=0, heard_ms=0).delete()
        if changed:
            profile.listen_uniques = {**profile.listen_uniques, **uniques}
            saving = [*saving, "listen_uniques"]
        if saving:
            profile.save(update_fields=list(saving))


def _upsert(model, rows, unique_fields, update_fields):
    """INSERT … ON CONFLICT (the unique fields) DO UPDATE: rows read before are written back by their key,
    not their id (SQLite's upsert would refuse a row whose id also conflicts)."""
    for row in rows:
        row.pk = None
    if rows:
        model.objects.bulk_create(
            rows, batch_size=BATCH, update_conflicts=True, unique_fields=unique_fields, update_fields=update_fields
        )


def _add_to_tallies(model, kind, user_id, changes, counted=()):
    """Add (month, id, listens, heard_ms) to the tally rows, creating the missing ones. Returns, for each
    period in `counted`, how many more rows have a listen than before (a row's first listen: +1; its last one
    taken away: -1)."""
    deltas = dict.fromkeys(counted, 0)
    if not changes:
        return deltas
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(f"{kind}_id")
    insert = f'INSERT INTO {table} ("user_id", "month", {column}, "listens", "heard_ms") '
    add = (
        f' ON CONFLICT ("user_id", "month", {column}) DO UPDATE SET'
        f' "listens" = {table}."listens" + excluded."listens",'
        f' "heard_ms" = {table}."heard_ms" + excluded."heard_ms"'
        f' RETURNING "month", {column}, "listens"'
    )
    added = {(month, thing): listens for month, thing, listens, _ in changes}
    returned = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array a column: five parameters whatever the batch (psycopg takes longer to split a
            # statement of hundreds of placeholders than PostgreSQL takes to run it).
            months, things, listens, heard = (list(values) for values in zip(*changes, strict=True))
            cursor.execute(
                insert + "SELECT %s, * FROM unnest(%s::integer[], %s::bigint[], %s::integer[], %s::bigint[])" + add,
                [user_id, months, things, listens, heard],
            )
            returned = cursor.fetchall()
        else:
            for start in range(0, len(changes), UPSERT_ROWS):
                chunk = changes[start : start + UPSERT_ROWS]
                cursor.execute(
                    insert + "VALUES " + ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk)) + add,
                    [value for row in chunk for value in (user_id, *row)],
                )
                returned += cursor.fetchall()
    for month, thing, listens in returned:
        if month in deltas:
            change = added[(month, thing)]
            if change > 0 and listens == change:
                deltas[month] += 1
            elif change < 0 and listens == 0:
                deltas[month] -= 1
    return deltas


def _lock(user):
    """The listener's profile, locked until the transaction ends: their listens change one writer at a time.
    It becomes the user's cached profile too, so that stats read after a change in the same request (or
    test) see what the change left (pending listens, unique counts, the window)."""
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    Profile.user.field.remote_field.set_cached_value(user, profile)
    return profile


@transaction.atomic
def record(user, events, *, source=Listen.Source.PLAYER, defer=False):
    """Record a batch of events for `user`: new ones are saved and added to the rollups; ids seen before
    are duplicates; events of songs not (or no longer) in the catalogue are skipped with a reason.

    `defer`: the new listens only join the listener's pending ones (Profile.pending_listens), for fold() to
    add to the rollups later (the API does, once its answer is sent); any read of the rollups folds first, so
    they are exact whenever read. Past MAX_PENDING waiting listens, they are added at once. On PostgreSQL a
    deferred batch takes no lock: its listens are inserted, then appended to the pending ones by one UPDATE,
    which waits for (and then follows) any fold, forget or rebuild holding the lock."""
    result = Recorded()
    events = list(events)
    if not events:
        return result
    lock_free = defer and connection.vendor == "postgresql"
    profile = None if lock_free else _lock(user)
    songs = {
        pk: (length, album_id, artist_id)
        for pk, length, album_id, artist_id in Song.objects.filter(pk__in={event.song_id for event in events})
        .order_by()  # (not the catalogue's order by title: a sort for nothing)
        .annotate(length=Coalesce("audio__duration_ms", "duration_ms"))
        .values_list("pk", "length", "album_id", "artist_id")
    }
    seen, new, repeated = set(), [], []  # repeated: True for an id twice in the batch, else whether it is new
    for event in events:
        if event.client_id in seen:
            repeated.append(True)
            continue
        if event.song_id not in songs:
            result.skipped.append((event.client_id, f"No song with id {event.song_id}."))
            repeated.append(False)
            continue
        repeated.append(None)
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
    new, recorded_before = _insert(new)
    # Duplicates, in the batch's order: an id twice in it, or one the listener already had.
    result.duplicates = [
        event.client_id for event, again in zip(events, repeated, strict=True)
        if again or (again is None and event.client_id in recorded_before)
    ]
    result.listens = new
    if not new:
        return result
    ids = [listen.pk for listen in new]
    if lock_free and _append_pending(user, ids):
        return result
    profile = profile or _lock(user)
    if defer and len(profile.pending_listens) + len(new) <= MAX_PENDING:
        profile.pending_listens = [*profile.pending_listens, *ids]
        profile.save(update_fields=["pending_listens"])
        return result
    rollup = Rollup(profile.zone, profile.listens_window)
    saving = _fold_into(rollup, user, profile)
    for listen in new:
        rollup.add(listen)
    rollup.apply(user, profile, saving)
    return result


# What record() writes of a listen (the id comes back from the INSERT).
INSERTED = ("user", "song", "album", "artist", "client_id", "started_at", "heard_ms", "counted", "client", "source",
            "recorded_at")
# Listens per INSERT (11 parameters each: well under SQLite's limit).
INSERT_ROWS = 1_000


def _insert(listens):
    """INSERT the listens, but none whose client id the listener already has (ON CONFLICT DO NOTHING: that
    also holds against a batch recorded at the same moment). Returns (the inserted ones, their pk set; the
    set of client ids that were recorded before)."""
    if not listens:
        return [], set()
    fields = [Listen._meta.get_field(name) for name in INSERTED]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    inserted = {}
    conflict = (
        f" ON CONFLICT ({quote('user_id')}, {quote('client_id')}) DO NOTHING RETURNING {quote('id')}, {quote('client_id')}"
    )
    table = quote(Listen._meta.db_table)
    if connection.vendor == "postgresql":
        # The rows as one JSON parameter, a list a row (json_to_recordset): psycopg splits a statement of 550
        # placeholders (50 listens) slower than PostgreSQL runs it, and quotes arrays' items one by one in
        # Python (0.7 ms for 50 listens, against 0.1 ms for json.dumps). These values need no field's
        # preparation: ints, strings, booleans, and aware datetimes (written in ISO 8601, with their offset).
        names = [f"f{number}" for number in range(len(fields))]
        record_type = ", ".join(f"{name} {field.db_type(connection)}" for name, field in zip(names, fields, strict=True))
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT {', '.join(names)}"
            f" FROM json_to_recordset(%s::json) AS listen({record_type}){conflict}"
        )
        attnames = [field.attname for field in fields]

        def statement(chunk):
            rows = [dict(zip(names, (getattr(listen, name) for name in attnames), strict=True)) for listen in chunk]
            return sql, [json.dumps(rows, default=datetime.isoformat)]
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"

        def statement(chunk):
            return (
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(chunk))}{conflict}",
                [field.get_db_prep_save(getattr(listen, field.attname), connection) for listen in chunk for field in fields],
            )
    with connection.cursor() as cursor:
        for start in range(0, len(listens), INSERT_ROWS):
            cursor.execute(*statement(listens[start : start + INSERT_ROWS]))
            inserted.update((client_id, pk) for pk, client_id in cursor.fetchall())
    kept = []
    for listen in listens:
        if listen.client_id in inserted:
            listen.pk = inserted[listen.client_id]
            listen._state.adding, listen._state.db = False, connection.alias
            kept.append(listen)
    return kept, {listen.client_id for listen in listens} - inserted.keys()


def _append_pending(user, ids):
    """PostgreSQL: add `ids` to the listener's pending listens, unless that would pass MAX_PENDING (or they
    have no profile yet). Returns whether it did."""
    table = connection.ops.quote_name(Profile._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET pending_listens = pending_listens || %s::jsonb"
            " WHERE user_id = %s AND jsonb_array_length(pending_listens) <= %s RETURNING 1",
            [json.dumps(ids), user.pk, MAX_PENDING - len(ids)],
        )
        return cursor.fetchone() is not None


@transaction.atomic
def fold(user):
    """Add the listener's pending listens (recorded with defer=True) to the rollups. Returns the profile."""
    profile = _lock(user)
    if profile.pending_listens:
        rollup = Rollup(profile.zone, profile.listens_window)
        rollup.apply(user, profile, _fold_into(rollup, user, profile))
    return profile


def _fold_into(rollup, user, profile):
    """Add the pending listens to `rollup` and mark none pending (the caller holds the lock and applies the
    rollup, which saves the profile's fields this returns). A pending listen forgotten since is no longer
    there, and was never in the rollups."""
    if not profile.pending_listens:
        return []
    for listen in Listen.objects.filter(user=user, pk__in=profile.pending_listens).only(*LISTEN_FACTS):
        rollup.add(listen)
    profile.pending_listens = []
    return ["pending_listens"]


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
    # A pending listen deleted here was never in the rollups: nothing to take away for it. The other
    # pending ones are added first.
    pending = set(profile.pending_listens)
    saving = _fold_into(rollup, user, profile)
    for listen in gone:
        if listen.pk not in pending:
            rollup.add(listen, sign=-1)
    rollup.apply(user, profile, saving)
    return len(gone)


@transaction.atomic
def forget_all(user):
    """Delete all the user's listens and rollups. Returns how many listens there were."""
    profile = _lock(user)
    ListenDay.objects.filter(user=user).delete()
    ListenMonth.objects.filter(user=user).delete()
    if profile.listens_window or profile.pending_listens or profile.listen_uniques != no_listen_uniques():
        profile.listens_window, profile.pending_listens, profile.listen_uniques = 0, [], no_listen_uniques()
        profile.save(update_fields=["listens_window", "pending_listens", "listen_uniques"])
    for model in TALLIES.values():
        model.objects.filter(user=user).delete()
    return Listen.objects.filter(user=user).delete()[0]


@transaction.atomic
def change_time_zone(user, name):
    """Save the listener's time zone and rebuild their days and months in it (all time does not move)."""
    validate_time_zone(name)
    profile = _lock(user)
    changed = profile.time_zone != name
    if changed and profile.pending_listens:
        # All time does not move with the zone and is kept as it is: the pending listens join it first.
        rollup = Rollup(profile.zone, profile.listens_window)
        rollup.apply(user, profile, _fold_into(rollup, user, profile))
    profile.time_zone = name
    profile.save(update_fields=["time_zone"])
    if changed:
        profile.listen_uniques = rebuild(user, profile.zone, all_time=False)
        profile.listens_window = 0
    return profile


def rebuild(user, zone, *, all_time=True):
    """The listener's rollups computed afresh from their listens (the caller holds the lock). The 12 months'
    window is dropped: the next stats of the last 12 months build it again (build_window). Returns the
    profile's unique counts, saved."""
    Profile.objects.filter(user=user).update(listens_window=0, pending_listens=[])
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
    uniques = {str(ListenTally.ALL_TIME): [
        model.objects.filter(user=user, month=ListenTally.ALL_TIME, listens__gt=0).count() for model in TALLIES.values()
    ]}
    Profile.objects.filter(user=user).update(listen_uniques=uniques)
    return uniques


@transaction.atomic
def build_window(user, last):
    """The tallies' rows of the 12 months up to `last` (YYYYMM), summed from those months' rows, in place of
    an older window: from then on record() and forget() keep them exact. Returns the listener's profile."""
    profile = _lock(user)
    if profile.listens_window == last:
        return profile
    if profile.pending_listens:
        rollup = Rollup(profile.zone, profile.listens_window)
        rollup.apply(user, profile, _fold_into(rollup, user, profile))
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
    all_time = str(ListenTally.ALL_TIME)
    profile.listen_uniques = {
        **({all_time: profile.listen_uniques[all_time]} if all_time in profile.listen_uniques else {}),
        str(-last): [model.objects.filter(user=user, month=-last, listens__gt=0).count() for model in TALLIES.values()],
    }
    profile.listens_window = last
    profile.save(update_fields=["listens_window", "listen_uniques"])
    return profile


@transaction.atomic
def count_uniques(user, period):
    """Count the listener's songs, albums and artists with a listen in `period` (all time, or the 12 months'
    window) afresh from the tallies, where the profile lost them (a song, album or artist left the catalogue:
    see SyroMusic.signals). Returns the profile."""
    profile = _lock(user)
    if str(period) not in profile.listen_uniques:
        if profile.pending_listens:
            rollup = Rollup(profile.zone, profile.listens_window)
            rollup.apply(user, profile, _fold_into(rollup, user, profile))
        profile.listen_uniques = {
            **profile.listen_uniques,
            str(period): [model.objects.filter(user=user, month=period, listens__gt=0).count() for model in TALLIES.values()],
        }
        profile.save(update_fields=["listen_uniques"])
    return profile

