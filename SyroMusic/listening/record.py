"""Recording listens, and keeping the rollups the stats read exact.

Every change to a listener's listens goes through here, under a lock on their profile row, so that
ListenDay and ListenTally always equal what the listens add up to: record() adds, forget() and
forget_all() take away, change_time_zone() rebuilds (days and months are the listener's own, so a new
time zone moves listens between them). A client makes each event's id, so a retried or repeated batch
records nothing twice.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models.functions import Coalesce

from SyroMusic.models import Listen, ListenDay, ListenTally, Profile, Song, validate_time_zone

from .counts import counts

HOURS = 24
# Slack on a song's length when capping the time a client says it heard (its clock and ours differ a little).
CAP_SLACK_MS = 1_000
# Rows written per statement when rebuilding.
BATCH = 5_000


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


class Rollup:
    """What some listens add to (or take from) a listener's days and tallies."""

    def __init__(self, zone):
        self.zone = zone
        self.days = defaultdict(lambda: [0, 0, [0] * HOURS])  # day -> [listens, heard_ms, hours]
        self.tallies = defaultdict(lambda: [0, 0])  # (month, song id) -> [listens, heard_ms]

    def add(self, song_id, started_at, heard_ms, counted, sign=1):
        local = started_at.astimezone(self.zone)
        day = self.days[local.date()]
        day[1] += sign * heard_ms
        if counted:
            day[0] += sign
            day[2][local.hour] += sign
        if song_id is not None:
            for month in (month_key(local.date()), ListenTally.ALL_TIME):
                tally = self.tallies[(month, song_id)]
                tally[0] += sign * int(counted)
                tally[1] += sign * heard_ms

    def apply(self, user):
        """Add this rollup to the stored one: read the rows it touches, write the sums back (one upsert per
        table), delete rows that fall to nothing. The caller holds the listener's lock."""
        if self.days:
            stored = {row.day: row for row in ListenDay.objects.filter(user=user, day__in=list(self.days))}
            keep, drop = [], []
            for day, (listens, heard_ms, hours) in self.days.items():
                row = stored.get(day) or ListenDay(user=user, day=day, hours=[0] * HOURS)
                row.listens += listens
                row.heard_ms += heard_ms
                row.hours = [a + b for a, b in zip(row.hours or [0] * HOURS, hours, strict=True)]
                (keep if row.listens or row.heard_ms else drop).append(row)
            _upsert(ListenDay, keep, ["user", "day"], ["listens", "heard_ms", "hours"])
            if drop:
                ListenDay.objects.filter(user=user, day__in=[row.day for row in drop]).delete()
        if self.tallies:
            months = {month for month, _ in self.tallies}
            songs = {song for _, song in self.tallies}
            stored = {
                (row.month, row.song_id): row
                for row in ListenTally.objects.filter(user=user, month__in=months, song__in=songs)
            }
            keep, drop = [], []
            for (month, song_id), (listens, heard_ms) in self.tallies.items():
                row = stored.get((month, song_id)) or ListenTally(user=user, month=month, song_id=song_id)
                row.listens += listens
                row.heard_ms += heard_ms
                (keep if row.listens or row.heard_ms else drop).append(row)
            _upsert(ListenTally, keep, ["user", "month", "song"], ["listens", "heard_ms"])
            if drop:
                ListenTally.objects.filter(pk__in=[row.pk for row in drop if row.pk]).delete()


def _upsert(model, rows, unique_fields, update_fields):
    """INSERT … ON CONFLICT (the unique fields) DO UPDATE: rows read before are written back by their key,
    not their id (SQLite's upsert would refuse a row whose id also conflicts)."""
    for row in rows:
        row.pk = None
    if rows:
        model.objects.bulk_create(
            rows, batch_size=BATCH, update_conflicts=True, unique_fields=unique_fields, update_fields=update_fields
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
    lengths = dict(
        Song.objects.filter(pk__in={event.song_id for event in events})
        .annotate(length=Coalesce("audio__duration_ms", "duration_ms"))
        .values_list("pk", "length")
    )
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
        if event.song_id not in lengths:
            result.skipped.append((event.client_id, f"No song with id {event.song_id}."))
            continue
        seen.add(event.client_id)
        length = lengths[event.song_id]
        heard = max(0, int(event.heard_ms))
        if length is not None:
            heard = min(heard, length + CAP_SLACK_MS)
        counted = counts(length, heard) if event.counted is None else bool(event.counted)
        new.append(
            Listen(
                user=user, song_id=event.song_id, client_id=event.client_id, started_at=event.started_at,
                heard_ms=heard, counted=counted, client=event.client[:64], source=source,
            )
        )
    if not new:
        return result
    result.listens = Listen.objects.bulk_create(new)
    rollup = Rollup(profile.zone)
    for listen in new:
        rollup.add(listen.song_id, listen.started_at, listen.heard_ms, listen.counted)
    rollup.apply(user)
    return result


@transaction.atomic
def forget(user, listen_ids):
    """Delete those of the user's listens (ids of others' are ignored) and take them out of the rollups.
    Returns how many were deleted."""
    profile = _lock(user)
    gone = list(
        Listen.objects.filter(user=user, pk__in=list(listen_ids)).values_list(
            "pk", "song_id", "started_at", "heard_ms", "counted"
        )
    )
    if not gone:
        return 0
    Listen.objects.filter(pk__in=[row[0] for row in gone]).delete()
    rollup = Rollup(profile.zone)
    for _, song_id, started_at, heard_ms, counted in gone:
        rollup.add(song_id, started_at, heard_ms, counted, sign=-1)
    rollup.apply(user)
    return len(gone)


@transaction.atomic
def forget_all(user):
    """Delete all the user's listens and rollups. Returns how many listens there were."""
    _lock(user)
    ListenDay.objects.filter(user=user).delete()
    ListenTally.objects.filter(user=user).delete()
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
    return profile


def rebuild(user, zone, *, all_time=True):
    """The listener's rollups computed afresh from their listens (the caller holds the lock)."""
    ListenDay.objects.filter(user=user).delete()
    tallies = ListenTally.objects.filter(user=user)
    (tallies if all_time else tallies.exclude(month=ListenTally.ALL_TIME)).delete()
    rollup = Rollup(zone)
    rows = Listen.objects.filter(user=user).values_list("song_id", "started_at", "heard_ms", "counted")
    for song_id, started_at, heard_ms, counted in rows.iterator(chunk_size=BATCH):
        rollup.add(song_id, started_at, heard_ms, counted)
    if not all_time:
        rollup.tallies = {key: value for key, value in rollup.tallies.items() if key[0] != ListenTally.ALL_TIME}
    ListenDay.objects.bulk_create(
        [
            ListenDay(user=user, day=day, listens=listens, heard_ms=heard_ms, hours=hours)
            for day, (listens, heard_ms, hours) in rollup.days.items()
            if listens or heard_ms
        ],
        batch_size=BATCH,
    )
    ListenTally.objects.bulk_create(
        [
            ListenTally(user=user, month=month, song_id=song_id, listens=listens, heard_ms=heard_ms)
            for (month, song_id), (listens, heard_ms) in rollup.tallies.items()
            if listens or heard_ms
        ],
        batch_size=BATCH,
    )
