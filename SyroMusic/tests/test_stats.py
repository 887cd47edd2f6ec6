"""The stats' figures (SyroMusic.listening.stats) for hand-made histories: ranges, streaks in the listener's
own days (midnight, DST, two time zones), hours and weekdays, top lists and their ties, the monthly summary."""

import datetime
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from SyroMusic.listening import record
from SyroMusic.listening.stats import range_error, stats_for
from SyroMusic.models import Profile

from .factories import make_album, make_artist, make_song, make_user

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
THREE_MINUTES = 180_000
TODAY = datetime.date(2026, 11, 25)  # a Wednesday
_ids = count(1)


def at(zone, *args, fold=0):
    """An aware datetime: local time in `zone` (a name)."""
    return datetime.datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)


def play(user, song, *times, heard_ms=THREE_MINUTES):
    """Record a listen of `song` at each time (heard in full unless said otherwise)."""
    events = [record.Event(f"e{next(_ids)}", song.pk, started_at, heard_ms) for started_at in times]
    recorded = record.record(user, events)
    assert len(recorded.listens) == len(events)
    return recorded


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def three_minute_song(title=None, **fields):
    return make_song(title, duration_ms=THREE_MINUTES, **fields)


def figures(stats):
    return {
        "listens": stats.listens, "minutes": stats.minutes, "songs": stats.unique_songs,
        "albums": stats.unique_albums, "artists": stats.unique_artists,
    }


class TestRanges:
    @pytest.fixture
    def history(self, alice):
        x, y = make_artist("X"), make_artist("Y")
        a1, a2 = three_minute_song("A1", album=make_album("XA", artist=x)), three_minute_song("A2", album=make_album("XB", artist=x))
        b1 = three_minute_song("B1", album=make_album("YA", artist=y))
        play(alice, a1, at("UTC", 2026, 11, 25, 10), at("UTC", 2026, 11, 24, 10))
        play(alice, b1, at("UTC", 2026, 11, 25, 11), heard_ms=10_000)  # a skip: minutes, not a listen
        play(alice, a2, at("UTC", 2026, 11, 10, 9))
        play(alice, b1, at("UTC", 2026, 6, 1, 9))
        play(alice, a1, at("UTC", 2025, 1, 5, 9))
        return alice

    @pytest.mark.parametrize(
        ("period", "expected"),
        [
            ("7d", {"listens": 2, "minutes": 6, "songs": 1, "albums": 1, "artists": 1}),
            ("30d", {"listens": 3, "minutes": 9, "songs": 2, "albums": 2, "artists": 1}),
            ("12m", {"listens": 4, "minutes": 12, "songs": 3, "albums": 3, "artists": 2}),
            ("all", {"listens": 5, "minutes": 15, "songs": 3, "albums": 3, "artists": 2}),
        ],
    )
    def test_it_counts_listens_minutes_and_unique_songs_albums_and_artists_in_the_range(self, history, period, expected):
        assert figures(stats_for(history, period, today=TODAY)) == expected

    @pytest.mark.parametrize(
        ("period", "start"),
        [("7d", datetime.date(2026, 11, 19)), ("30d", datetime.date(2026, 10, 27)), ("12m", datetime.date(2025, 12, 1)), ("all", None)],
    )
    def test_each_range_starts_where_documented(self, alice, period, start):
        assert stats_for(alice, period, today=TODAY).start == start

    def test_an_unknown_range_is_refused_with_the_allowed_values(self, alice):
        assert range_error("1y") == "Must be one of 7d, 30d, 12m, all; got '1y'."
        assert range_error("7d") is None
        with pytest.raises(ValueError, match="Must be one of"):
            stats_for(alice, "1y", today=TODAY)

    @pytest.mark.parametrize(
        ("period", "first_local_moment"),
        [("7d", (2026, 11, 19)), ("30d", (2026, 10, 27)), ("12m", (2025, 12, 1))],
    )
    def test_a_range_begins_at_local_midnight_of_its_first_day(self, alice, period, first_local_moment):
        record.change_time_zone(alice, "America/Los_Angeles")
        zone = "America/Los_Angeles"
        inside, outside = three_minute_song("Inside"), three_minute_song("Outside")
        first = at(zone, *first_local_moment)
        play(alice, inside, first)
        play(alice, outside, first - datetime.timedelta(seconds=1))
        stats = stats_for(alice, period, today=TODAY)
        assert (stats.listens, stats.unique_songs) == (1, 1)
        assert [song.name for song in stats.top_songs] == ["Inside"]
        assert stats_for(alice, "all", today=TODAY).listens == 2


class TestStreaks:
    def test_a_streak_runs_across_midnight(self, alice):
        song = three_minute_song()
        play(alice, song, at("UTC", 2026, 11, 23, 23, 50), at("UTC", 2026, 11, 24, 0, 10), at("UTC", 2026, 11, 25, 0, 5))
        stats = stats_for(alice, "7d", today=TODAY)
        assert (stats.current_streak, stats.longest_streak) == (3, 3)

    def test_a_streak_ending_yesterday_still_runs_until_a_whole_day_passes(self, alice):
        song = three_minute_song()
        play(alice, song, at("UTC", 2026, 11, 23, 12), at("UTC", 2026, 11, 24, 12))
        assert stats_for(alice, "7d", today=TODAY).current_streak == 2
        assert stats_for(alice, "7d", today=TODAY + datetime.timedelta(days=1)).current_streak == 0
        assert stats_for(alice, "7d", today=TODAY + datetime.timedelta(days=1)).longest_streak == 2

    def test_the_longest_streak_is_all_time_whatever_the_range(self, alice):
        song = three_minute_song()
        play(alice, song, *(at("UTC", 2024, 2, day, 12) for day in range(27, 30)), at("UTC", 2024, 3, 1, 12))  # leap year: 4 days
        play(alice, song, at("UTC", 2026, 11, 25, 8))
        stats = stats_for(alice, "7d", today=TODAY)
        assert (stats.current_streak, stats.longest_streak) == (1, 4)

    def test_a_skip_keeps_no_streak(self, alice):
        song = three_minute_song()
        play(alice, song, at("UTC", 2026, 11, 24, 12))
        play(alice, song, at("UTC", 2026, 11, 25, 12), heard_ms=5_000)
        stats = stats_for(alice, "7d", today=TODAY)
        assert (stats.current_streak, stats.longest_streak, stats.listens, stats.heard_ms) == (1, 1, 1, 185_000)

    def test_days_follow_the_clock_across_the_spring_dst_change(self, alice):
        record.change_time_zone(alice, "Europe/Paris")
        paris = "Europe/Paris"
        song = three_minute_song()
        # Clocks jump from 02:00 to 03:00 on 2026-03-29: 00:30 that day is still UTC+1, 23:30 is UTC+2.
        play(alice, song, at(paris, 2026, 3, 28, 23, 30), at(paris, 2026, 3, 29, 0, 30), at(paris, 2026, 3, 29, 23, 30),
             at(paris, 2026, 3, 30, 0, 30))
        stats = stats_for(alice, "7d", today=datetime.date(2026, 3, 30))
        assert (stats.current_streak, stats.longest_streak) == (3, 3)
        assert (stats.hours[23], stats.hours[0]) == (2, 2)
        assert stats.weekdays == [1, 0, 0, 0, 0, 1, 2]  # Monday 30th, Saturday 28th, Sunday 29th twice
        record.change_time_zone(alice, "UTC")  # the same instants fall on the 28th (twice) and the 29th (twice)
        stats = stats_for(fresh(alice), "7d", today=datetime.date(2026, 3, 30))
        assert (stats.current_streak, stats.longest_streak, stats.weekdays) == (2, 2, [0, 0, 0, 0, 0, 2, 2])

    def test_the_repeated_hour_of_the_autumn_dst_change_counts_twice_on_one_day(self, alice):
        record.change_time_zone(alice, "Europe/Paris")
        paris = "Europe/Paris"
        song = three_minute_song()
        # 02:30 happens twice on 2026-10-25 (clocks go back from 03:00 to 02:00): first UTC+2, then UTC+1.
        play(alice, song, at(paris, 2026, 10, 24, 23, 30), at(paris, 2026, 10, 25, 2, 30), at(paris, 2026, 10, 25, 2, 30, fold=1),
             at(paris, 2026, 10, 26, 0, 30))
        stats = stats_for(alice, "7d", today=datetime.date(2026, 10, 26))
        assert (stats.current_streak, stats.longest_streak, stats.listens) == (3, 3, 4)
        assert (stats.hours[2], stats.hours[23], stats.hours[0]) == (2, 1, 1)
        assert stats.weekdays == [1, 0, 0, 0, 0, 1, 2]

    def test_the_same_listens_fall_on_different_days_in_two_time_zones_and_follow_a_change(self, alice):
        song = three_minute_song()
        record.change_time_zone(alice, "America/Los_Angeles")
        # 10:00 and 20:00 UTC on Nov 30: 02:00 and 12:00 that day in Los Angeles; 19:00 Nov 30 and 05:00 Dec 1 in Tokyo.
        play(alice, song, at("UTC", 2026, 11, 30, 10), at("UTC", 2026, 11, 30, 20))
        today = datetime.date(2026, 12, 1)
        los_angeles = stats_for(alice, "12m", today=today)
        assert (los_angeles.current_streak, los_angeles.longest_streak) == (1, 1)
        assert [hour for hour, listens in enumerate(los_angeles.hours) if listens] == [2, 12]
        assert [(month.first_day.month, month.listens) for month in los_angeles.months[-2:]] == [(11, 2), (12, 0)]
        assert stats_for(alice, "7d", today=today).listens == 2

        record.change_time_zone(alice, "Asia/Tokyo")
        alice = fresh(alice)  # as the next request would load it
        tokyo = stats_for(alice, "12m", today=today)
        assert tokyo.time_zone == "Asia/Tokyo"
        assert (tokyo.current_streak, tokyo.longest_streak) == (2, 2)
        assert [hour for hour, listens in enumerate(tokyo.hours) if listens] == [5, 19]
        assert [(month.first_day.month, month.listens) for month in tokyo.months[-2:]] == [(11, 1), (12, 1)]
        assert tokyo.months[-1].top_song.name == song.title
        assert stats_for(alice, "7d", today=today).listens == 2


class TestWhen:
    def test_hours_and_weekdays_count_listens_in_the_range_and_name_the_busiest(self, alice):
        song = three_minute_song()
        play(alice, song, at("UTC", 2026, 11, 25, 21), at("UTC", 2026, 11, 25, 21, 30), at("UTC", 2026, 11, 24, 8))
        play(alice, song, at("UTC", 2026, 11, 1, 8), at("UTC", 2026, 11, 1, 8, 5), at("UTC", 2026, 11, 1, 8, 10))  # a Sunday
        week = stats_for(alice, "7d", today=TODAY)
        assert week.hours == [0] * 8 + [1] + [0] * 12 + [2] + [0] * 2
        assert week.weekdays == [0, 1, 2, 0, 0, 0, 0]
        assert (week.most_active_hour, week.most_active_weekday, week.most_active_weekday_name) == (21, 2, "Wednesday")
        month = stats_for(alice, "30d", today=TODAY)
        assert (month.most_active_hour, month.most_active_weekday_name) == (8, "Sunday")

    def test_a_tie_names_the_earliest_hour_and_day(self, alice):
        song = three_minute_song()
        play(alice, song, at("UTC", 2026, 11, 25, 21), at("UTC", 2026, 11, 24, 8))
        stats = stats_for(alice, "7d", today=TODAY)
        assert (stats.most_active_hour, stats.most_active_weekday_name) == (8, "Tuesday")

    def test_a_range_without_listens_has_no_busiest_hour_or_day(self, alice):
        play(alice, three_minute_song(), at("UTC", 2026, 1, 5, 12))
        stats = stats_for(alice, "7d", today=TODAY)
        assert (stats.listens, stats.most_active_hour, stats.most_active_weekday, stats.top_songs) == (0, None, None, [])
        assert stats.ever_listened

    def test_a_listener_who_never_listened_has_empty_figures_and_twelve_empty_months(self, alice):
        stats = stats_for(alice, "all", today=TODAY)
        assert not stats.ever_listened
        assert (stats.listens, stats.current_streak, stats.longest_streak, stats.hours, stats.weekdays) == (0, 0, 0, [0] * 24, [0] * 7)
        assert [(month.first_day, month.listens, month.top_song) for month in stats.months][::11] == [
            (datetime.date(2025, 12, 1), 0, None), (datetime.date(2026, 11, 1), 0, None)
        ]


class TestTopLists:
    @pytest.mark.parametrize("period", ["7d", "all"])  # ranked from the listens, and from the tallies
    def test_ties_go_to_more_minutes_then_to_the_name(self, alice, period):
        gamma, alpha, beta = (make_artist(name) for name in ("Gamma", "alpha", "Beta"))
        songs = {
            name: three_minute_song(name, album=make_album(f"{name} album", artist=artist))
            for name, artist in (("Zed", gamma), ("apple", alpha), ("Banana", beta))
        }
        when = at("UTC", 2026, 11, 25, 9)
        for song in songs.values():
            play(alice, song, when, when + datetime.timedelta(hours=1))
        longer = three_minute_song("Longer", album=make_album("Longer album", artist=make_artist("Zz")))
        play(alice, longer, when, when + datetime.timedelta(hours=1))
        play(alice, longer, when + datetime.timedelta(hours=2), heard_ms=1_000)  # more minutes, no more listens
        stats = stats_for(alice, period, today=TODAY)
        assert [(song.name, song.listens, song.heard_ms) for song in stats.top_songs] == [
            ("Longer", 2, 361_000), ("apple", 2, 360_000), ("Banana", 2, 360_000), ("Zed", 2, 360_000)
        ]
        assert [album.name for album in stats.top_albums] == ["Longer album", "apple album", "Banana album", "Zed album"]
        assert [artist.name for artist in stats.top_artists] == ["Zz", "alpha", "Beta", "Gamma"]
        top = stats.top_songs[1]
        assert (top.artist_name, top.album_title, top.artist_id, top.album_id) == (
            "alpha", "apple album", alpha.pk, songs["apple"].album_id
        )
        assert top.get_absolute_url() == songs["apple"].get_absolute_url()
        assert stats.top_albums[1].artist_name == "alpha"

    @pytest.mark.parametrize("period", ["30d", "12m"])
    def test_a_list_shows_ten_and_counts_them_all(self, alice, period):
        artist = make_artist("Prolific")
        songs = [three_minute_song(f"Song {index:02d}", album=make_album(f"Album {index:02d}", artist=artist)) for index in range(12)]
        for index, song in enumerate(songs):
            play(alice, song, *(at("UTC", 2026, 11, 20, hour) for hour in range(index + 1)))
        stats = stats_for(alice, period, today=TODAY)
        assert [song.name for song in stats.top_songs] == [f"Song {index:02d}" for index in range(11, 1, -1)]
        assert [song.listens for song in stats.top_songs] == list(range(12, 2, -1))
        assert (stats.unique_songs, stats.unique_albums, stats.unique_artists) == (12, 12, 1)
        assert [(artist.name, artist.listens, artist.minutes) for artist in stats.top_artists] == [("Prolific", 78, 234)]

    def test_artists_are_the_songs_own_and_albums_name_their_artist(self, alice):
        band, guest = make_artist("The Band"), make_artist("Guest")
        album = make_album("Split", artist=band)
        play(alice, three_minute_song("Guest song", album=album, artist=guest), at("UTC", 2026, 11, 25, 9))
        stats = stats_for(alice, "7d", today=TODAY)
        assert [artist.name for artist in stats.top_artists] == ["Guest"]
        assert [(album.name, album.artist_name) for album in stats.top_albums] == [("Split", "The Band")]
        assert (stats.top_songs[0].artist_name, stats.top_songs[0].album_title) == ("Guest", "Split")

    def test_a_removed_song_leaves_the_lists_but_not_the_minutes(self, alice):
        kept, gone = three_minute_song("Kept"), three_minute_song("Gone")
        play(alice, kept, at("UTC", 2026, 11, 25, 9))
        play(alice, gone, at("UTC", 2026, 11, 25, 10))
        gone.delete()
        for period in ("7d", "all"):
            stats = stats_for(alice, period, today=TODAY)
            assert ([song.name for song in stats.top_songs], stats.listens, stats.minutes) == (["Kept"], 2, 6)


class TestMonths:
    def test_the_summary_covers_the_last_twelve_months_whatever_the_range(self, alice):
        loud, quiet = make_artist("Loud"), make_artist("Quiet")
        anthem = three_minute_song("Anthem", album=make_album("L", artist=loud))
        other = three_minute_song("Other", album=make_album("L2", artist=loud))
        whisper = three_minute_song("Whisper", album=make_album("Q", artist=quiet))
        play(alice, anthem, at("UTC", 2026, 11, 2, 9), at("UTC", 2026, 11, 3, 9))
        play(alice, whisper, at("UTC", 2026, 11, 4, 9), at("UTC", 2026, 11, 5, 9), at("UTC", 2026, 11, 6, 9))
        play(alice, other, at("UTC", 2026, 11, 7, 9), at("UTC", 2026, 11, 8, 9))
        play(alice, whisper, at("UTC", 2025, 12, 31, 23, 59))
        play(alice, anthem, at("UTC", 2025, 11, 30, 12))  # 12 months and a day ago: not in the summary
        play(alice, anthem, at("UTC", 2026, 3, 3, 3), heard_ms=20_000)  # a skip only
        stats = stats_for(alice, "7d", today=TODAY)
        summary = [
            (f"{month.first_day:%Y-%m}", month.listens, month.minutes,
             month.top_artist and month.top_artist.name, month.top_song and month.top_song.name)
            for month in stats.months
        ]
        assert summary == [
            ("2025-12", 1, 3, "Quiet", "Whisper"),
            ("2026-01", 0, 0, None, None),
            ("2026-02", 0, 0, None, None),
            ("2026-03", 0, 0, None, None),  # 20 s heard, no listen: no top song
            *((f"2026-{month:02d}", 0, 0, None, None) for month in range(4, 11)),
            ("2026-11", 7, 21, "Loud", "Whisper"),  # Loud has 4 listens over two songs; Whisper alone has 3
        ]
        assert stats.months[-1].top_song.artist_name == "Quiet"


class TestQueries:
    @pytest.mark.parametrize("songs", [1, 6])
    def test_stats_take_three_queries_whatever_the_history(self, alice, django_assert_num_queries, songs):
        for index in range(songs):
            play(alice, three_minute_song(), *(at("UTC", 2026, month, 3, index) for month in range(1, 12)))
        stats_for(alice, "12m", today=TODAY)  # the month's first look at 12 months builds its window (once)
        for period in ("7d", "30d", "12m", "all"):
            alice = fresh(alice)
            with django_assert_num_queries(3):  # the profile, the days, the ranking
                stats_for(alice, period, today=TODAY)

    def test_a_profile_loaded_with_the_user_saves_one(self, alice, django_assert_num_queries):
        play(alice, three_minute_song(), at("UTC", 2026, 11, 25, 9))
        alice = type(alice).objects.select_related("profile").get(pk=alice.pk)
        with django_assert_num_queries(2):
            stats_for(alice, "30d", today=TODAY)

    def test_without_listens_the_ranking_is_not_asked(self, django_assert_num_queries):
        nobody = make_user()
        with django_assert_num_queries(2):  # no profile row: the defaults; no days
            stats = stats_for(nobody, "all", today=TODAY)
        assert stats.time_zone == "UTC"
        assert not Profile.objects.filter(user=nobody).exists()
