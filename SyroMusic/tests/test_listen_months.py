"""The months (ListenMonth) the stats read instead of every day: their runs of days, and the streaks
built from them across months, years and gaps, checked against the days walked one by one."""

import datetime
import random
from itertools import count

import pytest

from SyroMusic.listening import record
from SyroMusic.listening.stats import stats_for
from SyroMusic.models import ListenDay, ListenMonth, Profile

from .factories import make_song, make_user

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
THREE_MINUTES = 180_000
_ids = count(1)


def noon(day):
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=UTC)


def listen_on(user, song, days, *, heard_ms=THREE_MINUTES):
    events = [record.Event(f"m{next(_ids)}", song.pk, noon(day), heard_ms) for day in days]
    record.record(user, events)


def span(first, last):
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def walked(days, today):
    """The streaks the slow way: (current, longest) from the set of active days."""
    one = datetime.timedelta(days=1)
    day = today if today in days else today - one
    current = 0
    while day in days:
        current, day = current + 1, day - one
    longest = run = 0
    previous = None
    for day in sorted(days):
        run = run + 1 if previous is not None and (day - previous).days == 1 else 1
        longest, previous = max(longest, run), day
    return current, longest


@pytest.fixture
def song():
    return make_song(duration_ms=200_000)


def test_a_month_keeps_its_sums_and_its_runs_of_days(song):
    user = make_user()
    days = [datetime.date(2026, 2, d) for d in (1, 2, 3, 10, 11, 12, 13, 27, 28)]
    listen_on(user, song, days)
    listen_on(user, song, [datetime.date(2026, 2, 20)], heard_ms=5_000)  # a skip: time heard, no listen
    month = ListenMonth.objects.get(user=user)
    assert (month.month, month.listens, month.heard_ms) == (202602, 9, 9 * THREE_MINUTES + 5_000)
    assert (month.active_days, month.first_run, month.last_run, month.longest_run) == (9, 3, 2, 4)
    assert month.hours == [0] * 12 + [9] + [0] * 11
    assert month.weekdays == [1, 2, 1, 1, 2, 1, 1]  # Feb 1 2026 is a Sunday: two Tuesdays, two Fridays


def test_forgetting_a_months_only_listens_removes_the_month(song):
    user = make_user()
    listen_on(user, song, [datetime.date(2026, 3, 5)])
    listen_on(user, song, [datetime.date(2026, 4, 5)])
    march = user.listens.get(started_at=noon(datetime.date(2026, 3, 5)))
    record.forget(user, [march.pk])
    assert list(ListenMonth.objects.filter(user=user).values_list("month", "listens", "first_run")) == [(202604, 1, 0)]


def test_streaks_run_across_months_and_years_as_the_days_say(song):
    user = make_user()
    today = datetime.date(2026, 11, 25)
    # A run from mid-December 2025 through all of January and February into March (longest), a gap, then a
    # run over the whole of September and October into today (current: it reaches back past last month).
    days = span(datetime.date(2025, 12, 14), datetime.date(2026, 3, 20)) + span(
        datetime.date(2026, 8, 31), today
    )
    listen_on(user, song, days)
    stats = stats_for(user, "7d", today=today)
    assert (stats.current_streak, stats.longest_streak) == walked(set(days), today)
    assert (stats.current_streak, stats.longest_streak) == ((today - datetime.date(2026, 8, 31)).days + 1, 97)


def test_a_gap_of_a_whole_month_breaks_a_streak(song):
    user = make_user()
    today = datetime.date(2026, 11, 25)
    days = span(datetime.date(2026, 5, 20), datetime.date(2026, 5, 31)) + span(
        datetime.date(2026, 7, 1), datetime.date(2026, 7, 3)
    )
    listen_on(user, song, days)
    stats = stats_for(user, "all", today=today)
    assert (stats.current_streak, stats.longest_streak) == (0, 12)


@pytest.mark.parametrize("seed", range(6))
def test_streaks_and_totals_equal_the_days_for_random_histories(song, seed):
    rng = random.Random(seed)
    user = make_user()
    today = datetime.date(2026, 11, 25)
    start = datetime.date(2025, 6, 1)
    # Runs and gaps of random lengths, denser near today, some ending today or yesterday.
    days, day = set(), start
    while day <= today:
        run = rng.choice([1, 2, 5, 20, 40, 70])
        days.update(span(day, min(today, day + datetime.timedelta(days=run - 1))))
        day += datetime.timedelta(days=run + rng.choice([1, 1, 2, 9, 35]))
    if seed % 2:
        days.discard(today)
    listen_on(user, song, sorted(days))
    for range_ in ("7d", "30d", "12m", "all"):
        stats = stats_for(user, range_, today=today)
        assert (stats.current_streak, stats.longest_streak) == walked(days, today), range_
        first = stats.start or start
        assert stats.listens == sum(1 for day in days if day >= first), range_
    stored = {row.day for row in ListenDay.objects.filter(user=user, listens__gt=0)}
    assert stored == days


@pytest.mark.django_db(transaction=True)
def test_migration_0009_makes_every_listeners_months_from_their_days():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("SyroMusic", "0008_listens")], [("SyroMusic", "0009_listen_months")]
    try:
        MigrationExecutor(connection).migrate(before)
        old = MigrationExecutor(connection).loader.project_state(before).apps
        users = old.get_model("auth", "User")
        alice, bob = users.objects.create(username="alice"), users.objects.create(username="bob")
        day = old.get_model("SyroMusic", "ListenDay")
        hours = [0] * 24
        hours[9] = 2
        for when in (datetime.date(2026, 1, 30), datetime.date(2026, 1, 31), datetime.date(2026, 2, 1)):
            day.objects.create(user=alice, day=when, listens=2, heard_ms=360_000, hours=hours)
        day.objects.create(user=bob, day=datetime.date(2026, 2, 14), listens=0, heard_ms=4_000, hours=[0] * 24)

        MigrationExecutor(connection).migrate(after)
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("SyroMusic"))
        months = ListenMonth.objects.order_by("user__username", "month")
        assert [
            (m.user.username, m.month, m.listens, m.heard_ms, m.hours[9], m.weekdays, m.first_run, m.last_run, m.longest_run)
            for m in months
        ] == [
            ("alice", 202601, 4, 720_000, 4, [0, 0, 0, 0, 2, 2, 0], 0, 2, 2),  # Jan 30 2026 is a Friday
            ("alice", 202602, 2, 360_000, 2, [0, 0, 0, 0, 0, 0, 2], 1, 0, 1),
            ("bob", 202602, 0, 4_000, 0, [0] * 7, 0, 0, 0),
        ]
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("SyroMusic"))


def window_rows(user):
    """The 12 months' window rows of the three tallies, as plain data: {(kind, month, id): (listens, heard)}."""
    return {
        (kind, row.month, getattr(row, f"{kind}_id")): (row.listens, row.heard_ms)
        for kind, model in record.TALLIES.items() for row in model.objects.filter(user=user, month__lt=0)
    }


def summed_window(user, last):
    """What the window of the 12 months up to `last` should hold: its months' rows, added up."""
    first = record.months_before(last, 11)
    out = {}
    for kind, model in record.TALLIES.items():
        for row in model.objects.filter(user=user, month__gte=first, month__lte=last):
            key = (kind, -last, getattr(row, f"{kind}_id"))
            listens, heard = out.get(key, (0, 0))
            out[key] = (listens + row.listens, heard + row.heard_ms)
    return out


def test_the_12_months_window_is_built_once_a_month_then_kept_exact_by_record_and_forget(song):
    user = make_user()
    other = make_song(duration_ms=200_000)
    listen_on(user, song, [datetime.date(2025, 11, 30), datetime.date(2025, 12, 1), datetime.date(2026, 6, 1)])
    assert window_rows(user) == {}  # nothing built before anyone looks
    november = datetime.date(2026, 11, 25)
    stats = stats_for(user, "12m", today=november)
    assert stats.listens == 2 and [r.listens for r in stats.top_songs] == [2]  # Nov 2025 is outside
    assert window_rows(user) == summed_window(user, 202611) != {}
    assert user.profile.__class__.objects.get(user=user).listens_window == 202611

    # Kept by record and forget: in the window, before it (not added), and a skip (time heard only).
    listen_on(user, other, [datetime.date(2026, 11, 20), datetime.date(2025, 10, 3)])
    listen_on(user, other, [datetime.date(2026, 11, 21)], heard_ms=4_000)
    assert window_rows(user) == summed_window(user, 202611)
    first_june = user.listens.get(started_at=noon(datetime.date(2026, 6, 1)))
    record.forget(user, [first_june.pk])
    assert window_rows(user) == summed_window(user, 202611)
    stats = stats_for(user, "12m", today=november)
    assert [(r.id, r.listens) for r in stats.top_songs] == [(other.pk, 1), (song.pk, 1)] or [
        (r.id, r.listens) for r in stats.top_songs] == [(song.pk, 1), (other.pk, 1)]
    assert stats.unique_songs == 2 and stats.listens == 2

    # A new month: the next look builds the new window in place of the old one.
    stats = stats_for(user, "12m", today=datetime.date(2026, 12, 2))
    assert window_rows(user) == summed_window(user, 202612)
    assert {month for _, month, _ in window_rows(user)} == {-202612}
    assert stats.listens == 1  # January to December 2026: only the 20 November listen

    # A time zone change rebuilds the rollups and drops the window; forget_all leaves nothing behind.
    record.change_time_zone(user, "Asia/Tokyo")
    assert window_rows(user) == {}
    stats_for(user, "12m", today=datetime.date(2026, 12, 2))
    assert window_rows(user) == summed_window(user, 202612) != {}
    record.forget_all(user)
    assert window_rows(user) == {} and user.profile.__class__.objects.get(user=user).listens_window == 0


@pytest.mark.parametrize("seed", range(4))
def test_the_window_equals_its_months_after_random_records_and_forgets(song, seed):
    rng = random.Random(seed)
    user = make_user()
    songs = [song, make_song(duration_ms=200_000), make_song(duration_ms=20_000)]
    today = datetime.date(2026, 11, 25)
    stats_for(user, "12m", today=today)  # no listens: nothing to build
    listen_on(user, songs[0], [today])
    stats_for(user, "12m", today=today)
    for _ in range(30):
        if rng.random() < 0.7:
            day = today - datetime.timedelta(days=rng.randint(0, 500))
            listen_on(user, rng.choice(songs), [day], heard_ms=rng.choice([3_000, 150_000, 200_000]))
        else:
            ids = list(user.listens.values_list("pk", flat=True))
            record.forget(user, [rng.choice(ids)])
        assert window_rows(user) == summed_window(user, 202611)
        uniques = Profile.objects.get(user=user).listen_uniques
        assert uniques["-202611"] == [
            sum(1 for (k, _, _), (listens, _) in window_rows(user).items() if k == kind and listens > 0)
            for kind in ("song", "album", "artist")
        ]
    stats = stats_for(user, "12m", today=today)
    assert stats.listens == sum(
        1 for listen in user.listens.all() if listen.counted and listen.started_at.date() >= datetime.date(2025, 12, 1)
    )


@pytest.mark.parametrize("leaving", ["song", "album", "artist"])
def test_the_unique_counts_follow_a_song_album_or_artist_leaving_the_catalogue(leaving, django_assert_num_queries):
    user = make_user()
    stay, go = make_song(duration_ms=200_000), make_song(duration_ms=200_000)  # each its own album and artist
    listen_on(user, stay, [datetime.date(2026, 11, 20)])
    listen_on(user, go, [datetime.date(2026, 11, 21)])
    today = datetime.date(2026, 11, 25)
    assert stats_for(user, "12m", today=today).unique_songs == 2
    assert Profile.objects.get(user=user).listen_uniques == {"0": [2, 2, 2], "-202611": [2, 2, 2]}
    if leaving == "artist":  # an artist leaves only once their albums are gone (PROTECT)
        go.album.delete()
        assert Profile.objects.get(user=user).listen_uniques == {}
        stats_for(type(user).objects.get(pk=user.pk), "all", today=today)  # counted again: 1 song, 1 album
    {"song": go, "album": go.album, "artist": go.artist}[leaving].delete()
    assert Profile.objects.get(user=user).listen_uniques == {}  # dropped: counted again at the next look
    fresh = type(user).objects.select_related("profile").get(pk=user.pk)
    stats = stats_for(fresh, "all", today=today)
    gone = {"song": (1, 2, 2), "album": (1, 1, 2), "artist": (1, 1, 1)}[leaving]
    assert (stats.unique_songs, stats.unique_albums, stats.unique_artists) == gone
    fresh = type(user).objects.select_related("profile").get(pk=user.pk)
    with django_assert_num_queries(2):  # counted once: the months and days, the ranking
        assert stats_for(fresh, "all", today=today).unique_songs == 1


def test_counts_dropped_by_a_deletion_are_counted_again_not_restarted_by_the_next_listen_or_window(song):
    user = make_user()
    others = [make_song(duration_ms=200_000) for _ in range(3)]
    listen_on(user, song, [datetime.date(2026, 11, 1)])
    for n, other in enumerate(others):
        listen_on(user, other, [datetime.date(2026, 11, 2 + n)])
    today = datetime.date(2026, 11, 25)
    assert stats_for(user, "all", today=today).unique_songs == 4
    others[0].delete()  # the counts are dropped
    fresh = make_song(duration_ms=200_000)
    record.record(user, [record.Event("new", fresh.pk, noon(datetime.date(2026, 11, 20)), 150_000)], defer=True)
    record.fold(user)  # the next listen, folded after the answer: no count restarted from 0
    assert Profile.objects.get(user=user).listen_uniques == {}
    stats_for(type(user).objects.get(pk=user.pk), "12m", today=today)  # the window: all time stays unknown
    assert "0" not in Profile.objects.get(user=user).listen_uniques
    stats = stats_for(type(user).objects.get(pk=user.pk), "all", today=today)
    # The deleted song's album and artist are still there, with their listen.
    assert (stats.unique_songs, stats.unique_albums, stats.unique_artists) == (4, 5, 5)
    assert stats_for(type(user).objects.get(pk=user.pk), "12m", today=today).unique_songs == 4
