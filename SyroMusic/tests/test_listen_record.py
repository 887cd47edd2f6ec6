"""Recording listens (SyroMusic.listening.record): the counting rule, ids that make retries harmless,
and rollups (ListenDay, ListenTally) that always equal what the listens add up to."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from SyroMusic.listening import record
from SyroMusic.listening.counts import counts
from SyroMusic.models import Listen, ListenAlbumTally, ListenArtistTally, ListenDay, ListenMonth, ListenTally, Profile

from .factories import make_album, make_song, make_user

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 25, 21, 4, 5, tzinfo=UTC)


def event(song, n, heard_ms, started_at=T0, **fields):
    return record.Event(client_id=f"c{n}", song_id=song.pk, started_at=started_at, heard_ms=heard_ms, **fields)


def rollups(user):
    """The stored rollups, as plain data."""
    days = {row.day: (row.listens, row.heard_ms, tuple(row.hours)) for row in ListenDay.objects.filter(user=user)}
    tallies = {
        (row.month, row.song_id): (row.listens, row.heard_ms) for row in ListenTally.objects.filter(user=user)
    }
    return days, tallies


def all_rollups(user):
    """Days, the three tallies (songs, albums, artists) and months, as plain data."""
    days, songs = rollups(user)
    albums = {(r.month, r.album_id): (r.listens, r.heard_ms) for r in ListenAlbumTally.objects.filter(user=user)}
    artists = {(r.month, r.artist_id): (r.listens, r.heard_ms) for r in ListenArtistTally.objects.filter(user=user)}
    months = {
        row.month: (row.listens, row.heard_ms, tuple(row.hours), tuple(row.weekdays), row.active_days, row.first_run,
                    row.last_run, row.longest_run)
        for row in ListenMonth.objects.filter(user=user)
    }
    # The unique counts over all time the profile keeps (rebuild counts them afresh from the tallies), as the
    # stats read them (counted again where a song, album or artist leaving the catalogue dropped them).
    months["uniques"] = tuple(record.count_uniques(user, 0).listen_uniques["0"])
    return days, songs, albums, artists, months


def rebuilt(user):
    """What the rollups would be if computed afresh from the listens."""
    record.rebuild(user, (Profile.objects.filter(user=user).first() or Profile(user=user)).zone)
    return all_rollups(user)


@pytest.mark.parametrize(
    ("duration_ms", "heard_ms", "counted"),
    [
        (29_000, 29_000, False),  # a 29 s track never counts, even heard whole
        (30_000, 30_000, False),  # 30 s is not longer than 30 s
        (31_000, 15_499, False),  # just under half
        (31_000, 15_500, True),  # half
        (180_000, 89_999, False),
        (180_000, 90_000, True),
        (1_200_000, 239_999, False),  # a 20-minute track: 4 minutes is enough, half is not needed
        (1_200_000, 240_000, True),
        (600_000, 240_000, True),  # 4 minutes come before half of 10 minutes
        (400_000, 200_000, True),  # half of 6:40 comes before 4 minutes
        (None, 500_000, False),  # unknown length: cannot tell
    ],
)
def test_the_counting_rule(duration_ms, heard_ms, counted):
    assert counts(duration_ms, heard_ms) is counted


@pytest.mark.django_db
def test_a_batch_is_recorded_with_the_rule_applied_to_each_event(alice):
    long_song = make_song(duration_ms=200_000)
    short_song = make_song(duration_ms=29_000)
    result = record.record(
        alice,
        [
            event(long_song, 1, 100_000, client="SyroMusic web"),
            event(long_song, 2, 20_000, started_at=T0 + dt.timedelta(minutes=4)),  # a skip
            event(short_song, 3, 29_000),
        ],
    )
    assert [(listen.client_id, listen.counted, listen.heard_ms) for listen in result.listens] == [
        ("c1", True, 100_000), ("c2", False, 20_000), ("c3", False, 29_000),
    ]
    assert result.duplicates == [] and result.skipped == []
    assert list(Listen.objects.values_list("client_id", "client", "source").order_by("client_id")) == [
        ("c1", "SyroMusic web", "player"), ("c2", "", "player"), ("c3", "", "player"),
    ]
    days, tallies = rollups(alice)
    hours = [0] * 24
    hours[21] = 1
    assert days == {dt.date(2026, 11, 25): (1, 149_000, tuple(hours))}
    assert tallies == {
        (202611, long_song.pk): (1, 120_000), (0, long_song.pk): (1, 120_000),
        (202611, short_song.pk): (0, 29_000), (0, short_song.pk): (0, 29_000),
    }
    _, _, albums, artists, _ = all_rollups(alice)
    assert albums == {
        (202611, long_song.album_id): (1, 120_000), (0, long_song.album_id): (1, 120_000),
        (202611, short_song.album_id): (0, 29_000), (0, short_song.album_id): (0, 29_000),
    }
    assert artists[(0, long_song.artist_id)] == (1, 120_000)
    assert Listen.objects.get(client_id="c1").album_id == long_song.album_id


@pytest.mark.django_db
def test_the_same_client_id_twice_is_recorded_once_whether_in_one_batch_or_a_retry(alice):
    song = make_song(duration_ms=200_000)
    first = record.record(alice, [event(song, 1, 150_000), event(song, 1, 150_000)])
    assert [listen.client_id for listen in first.listens] == ["c1"] and first.duplicates == ["c1"]
    again = record.record(alice, [event(song, 1, 150_000), event(song, 2, 150_000)])
    assert [listen.client_id for listen in again.listens] == ["c2"] and again.duplicates == ["c1"]
    assert Listen.objects.count() == 2
    assert rollups(alice)[1][(0, song.pk)] == (2, 300_000)


@pytest.mark.django_db
def test_another_listener_may_use_the_same_client_id(alice, bob):
    song = make_song(duration_ms=200_000)
    record.record(alice, [event(song, 1, 150_000)])
    assert len(record.record(bob, [event(song, 1, 150_000)]).listens) == 1


@pytest.mark.django_db
def test_an_event_of_a_song_not_in_the_catalogue_is_skipped_with_a_reason(alice):
    song = make_song(duration_ms=200_000)
    result = record.record(
        alice, [record.Event("gone", 999_999, T0, 100_000), event(song, 1, 150_000)]
    )
    assert result.skipped == [("gone", "No song with id 999999.")]
    assert [listen.client_id for listen in result.listens] == ["c1"]


@pytest.mark.django_db
def test_time_heard_is_capped_at_the_length_of_the_file_that_plays(alice):
    song = make_song(duration_ms=200_000)
    listen = record.record(alice, [event(song, 1, 10 * 3_600_000)]).listens[0]
    assert listen.heard_ms == 201_000 and listen.counted


@pytest.mark.django_db
def test_a_client_may_say_whether_it_counts(alice):
    song = make_song(duration_ms=200_000)
    result = record.record(
        alice, [event(song, 1, 10_000, counted=True), event(song, 2, 190_000, counted=False)],
        source=Listen.Source.IMPORT,
    )
    assert [(listen.counted, listen.source) for listen in result.listens] == [(True, "import"), (False, "import")]


@pytest.mark.django_db
def test_forgetting_listens_takes_them_out_of_the_rollups_and_ignores_others_ids(alice, bob):
    song = make_song(duration_ms=200_000)
    mine = record.record(alice, [event(song, n, 150_000, started_at=T0 + dt.timedelta(days=n)) for n in range(3)])
    theirs = record.record(bob, [event(song, 9, 150_000)])
    assert record.forget(alice, [mine.listens[0].pk, theirs.listens[0].pk]) == 1
    assert Listen.objects.filter(user=bob).count() == 1
    days, tallies = rollups(alice)
    assert sorted(days) == [dt.date(2026, 11, 26), dt.date(2026, 11, 27)]
    assert tallies[(0, song.pk)] == (2, 300_000)
    assert all_rollups(alice) == rebuilt(alice)
    assert record.forget_all(alice) == 2
    assert all_rollups(alice) == ({}, {}, {}, {}, {"uniques": (0, 0, 0)}) and Listen.objects.filter(user=alice).count() == 0
    assert rollups(bob)[1][(0, song.pk)] == (1, 150_000)


@pytest.mark.django_db
def test_days_and_months_are_the_listeners_own_and_follow_a_new_time_zone(alice):
    song = make_song(duration_ms=200_000)
    # 23:30 UTC on 31 October: still the 31st in Los Angeles, already 1 November in Tokyo.
    late = dt.datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    record.change_time_zone(alice, "America/Los_Angeles")
    record.record(alice, [event(song, 1, 150_000, started_at=late)])
    days, tallies = rollups(alice)
    assert list(days) == [dt.date(2026, 10, 31)] and days[dt.date(2026, 10, 31)][2][16] == 1
    assert set(tallies) == {(202610, song.pk), (0, song.pk)}
    record.change_time_zone(alice, "Asia/Tokyo")
    days, tallies = rollups(alice)
    assert list(days) == [dt.date(2026, 11, 1)] and days[dt.date(2026, 11, 1)][2][8] == 1
    assert set(tallies) == {(202611, song.pk), (0, song.pk)}
    assert Profile.objects.get(user=alice).time_zone == "Asia/Tokyo"


@pytest.mark.django_db
def test_an_unknown_time_zone_is_refused_and_nothing_changes(alice):
    with pytest.raises(ValidationError, match="not a time zone"):
        record.change_time_zone(alice, "Mars/Olympus_Mons")
    assert Profile.of(alice).time_zone == "UTC"


@pytest.mark.django_db
def test_a_song_leaving_the_catalogue_keeps_its_listens_time_and_drops_its_tallies(alice):
    album = make_album()
    kept, removed = make_song(album=album, duration_ms=200_000), make_song(album=album, duration_ms=200_000)
    record.record(alice, [event(kept, 1, 150_000), event(removed, 2, 150_000)])
    removed.delete()
    listen = Listen.objects.get(client_id="c2")
    assert listen.song is None and listen.counted
    days, tallies = rollups(alice)
    assert days[dt.date(2026, 11, 25)][:2] == (2, 300_000)
    assert set(tallies) == {(202611, kept.pk), (0, kept.pk)}
    assert all_rollups(alice) == rebuilt(alice)
    # Forgetting the orphan still takes its time off the day.
    record.forget(alice, [listen.pk])
    assert rollups(alice)[0][dt.date(2026, 11, 25)][:2] == (1, 150_000)


@pytest.mark.django_db
def test_recording_a_batch_takes_a_bounded_number_of_queries(alice, django_assert_max_num_queries):
    songs = [make_song(duration_ms=200_000) for _ in range(5)]
    record.record(alice, [event(songs[0], 0, 150_000)])
    batch = [event(songs[n % 5], n, 150_000, started_at=T0 + dt.timedelta(hours=n)) for n in range(1, 51)]
    # Lock, songs, known ids, insert, days read + write, months write, one adding upsert per tally table, the
    # profile's unique counts (+ the savepoints).
    with django_assert_max_num_queries(13):
        assert len(record.record(alice, batch).listens) == 50


moments = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(UTC)
)
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("record"), st.integers(0, 2), moments, st.integers(0, 400_000), st.sampled_from([None, True, False]),
            st.booleans(),  # deferred (as the API records), folded by a later step or the end
        ),
        st.tuples(st.just("forget"), st.integers(0, 30)),
        st.tuples(st.just("zone"), st.sampled_from(["UTC", "Europe/Paris", "Asia/Kolkata", "America/Los_Angeles"])),
        st.tuples(st.just("delete song"), st.integers(0, 2)),
    ),
    max_size=25,
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_the_rollups_always_equal_a_rebuild_from_the_listens(steps):
    Listen.objects.all().delete()
    user = make_user()
    songs = [make_song(duration_ms=length) for length in (20_000, 200_000, 1_500_000)]
    for n, step in enumerate(steps):
        if step[0] == "record":
            _, which, started_at, heard_ms, counted, defer = step
            if songs[which] is not None:
                event = record.Event(f"e{n}", songs[which].pk, started_at, heard_ms, counted=counted)
                record.record(user, [event], defer=defer)
        elif step[0] == "forget":
            ids = list(Listen.objects.filter(user=user).order_by("pk").values_list("pk", flat=True))
            if ids:
                record.forget(user, [ids[step[1] % len(ids)]])
        elif step[0] == "zone":
            record.change_time_zone(user, step[1])
        elif songs[step[1]] is not None:
            songs[step[1]].delete()
            songs[step[1]] = None
    record.fold(user)
    assert all_rollups(user) == rebuilt(user)


@pytest.mark.django_db(transaction=True)
def test_two_clients_sending_the_same_batch_at_once_record_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and real concurrency need PostgreSQL (make test-services)")
    user = make_user()
    song = make_song(duration_ms=200_000)
    record.record(user, [event(song, 0, 150_000)])  # the profile row exists: both wait on its lock
    batch = [event(song, n, 150_000, started_at=T0 + dt.timedelta(minutes=n)) for n in range(1, 21)]
    barrier, errors = threading.Barrier(2), []

    def send():
        try:
            barrier.wait(timeout=60)
            record.record(user, batch)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert Listen.objects.filter(user=user).count() == 21
    assert rollups(user)[1][(0, song.pk)] == (21, 21 * 150_000)


def test_local_days_and_month_keys():
    paris = ZoneInfo("Europe/Paris")
    assert record.local_day(dt.datetime(2026, 3, 28, 23, 30, tzinfo=UTC), paris) == dt.date(2026, 3, 29)
    assert record.month_key(dt.date(2026, 11, 30)) == 202611
