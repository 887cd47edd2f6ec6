"""refresh_popularity: a song's popularity follows its counted listens over the last days, on a log scale
(SyroMusic.listening.popularity), written only where it changes, and cached pages follow."""

import datetime as dt
import io
import math

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from SyroMusic import caching
from SyroMusic.listening import record
from SyroMusic.models import Song

from .factories import make_album, make_song, make_user

pytestmark = pytest.mark.django_db

MINUTE = 60_000
_ids = iter(range(1, 10**9))


def listen(user, song, started_at, counted=True):
    """One listen recorded as the player would: a whole 4-minute song heard (counted), or 10 s (not)."""
    heard = 4 * MINUTE if counted else 10_000
    event = record.Event(client_id=f"c{next(_ids)}", song_id=song.pk, started_at=started_at, heard_ms=heard)
    recorded = record.record(user, [event])
    assert [item.counted for item in recorded.listens] == [counted]


def refresh(*arguments):
    out = io.StringIO()
    call_command("refresh_popularity", *arguments, no_progress=True, stdout=out)
    return out.getvalue()


def popularity():
    return dict(Song.objects.values_list("title", "popularity"))


def expected(n, most):
    return math.floor(100 * math.log(1 + n) / math.log(1 + most) + 0.5) if n else 0


@pytest.fixture
def songs():
    album = make_album()
    return {title: make_song(title, album=album, duration_ms=4 * MINUTE) for title in "ABCDE"}


def test_scores_follow_counted_listens_on_a_log_scale(songs):
    alice, bob = make_user("alice"), make_user("bob")
    now = timezone.now()
    for n, title in ((20, "A"), (5, "B"), (1, "C")):
        for i in range(n):
            listen(alice if i % 2 else bob, songs[title], now - dt.timedelta(hours=i + 1))
    for i in range(7):  # heard for 10 s: skips do not count
        listen(alice, songs["D"], now - dt.timedelta(hours=i + 1), counted=False)

    output = refresh()

    assert popularity() == {"A": 100, "B": expected(5, 20), "C": expected(1, 20), "D": 0, "E": 0}
    assert (expected(5, 20), expected(1, 20)) == (59, 23)
    assert "3 of 5 songs heard, the most 20 times; 3 songs changed (3 up, 0 down)" in output


def test_only_listens_started_within_the_window_count(songs):
    alice = make_user("alice")
    now = timezone.now()
    listen(alice, songs["A"], now - dt.timedelta(days=30) + dt.timedelta(minutes=1))
    listen(alice, songs["B"], now - dt.timedelta(days=30) - dt.timedelta(minutes=1))
    listen(alice, songs["C"], now - dt.timedelta(days=6, hours=23))
    listen(alice, songs["D"], now - dt.timedelta(days=7, hours=1))

    refresh()
    assert popularity() == {"A": 100, "B": 0, "C": 100, "D": 100, "E": 0}

    refresh("--days", "7")
    assert popularity() == {"A": 0, "B": 0, "C": 100, "D": 0, "E": 0}


def test_songs_no_longer_heard_fall_to_zero(songs):
    alice = make_user("alice")
    Song.objects.filter(title__in=["A", "B"]).update(popularity=80)
    listen(alice, songs["B"], timezone.now() - dt.timedelta(days=1))

    output = refresh()

    assert popularity() == {"A": 0, "B": 100, "C": 0, "D": 0, "E": 0}
    assert "2 songs changed (1 up, 1 down)" in output


def test_without_any_counted_listen_every_song_is_zero(songs):
    Song.objects.filter(title="C").update(popularity=40)
    assert "1 songs changed (0 up, 1 down)" in refresh()
    assert set(popularity().values()) == {0}


def test_a_dry_run_reports_the_changes_and_writes_nothing(songs):
    alice = make_user("alice")
    Song.objects.filter(title="E").update(popularity=50)
    listen(alice, songs["A"], timezone.now() - dt.timedelta(days=1))
    before = popularity()

    output = refresh("--dry-run")

    assert popularity() == before
    assert "2 songs would change (1 up, 1 down)" in output
    assert "Dry run: nothing written." in output


@pytest.mark.django_db(transaction=True)  # the version moves when the refresh commits
def test_the_cache_version_moves_only_when_a_song_changed():
    song = make_song("A", duration_ms=4 * MINUTE)
    listen(make_user("alice"), song, timezone.now() - dt.timedelta(days=1))
    first = caching.versions()

    refresh("--dry-run")
    assert caching.versions() == first

    refresh()
    changed = caching.versions()
    assert changed[0] != first[0] and changed[1] == first[1]  # the catalogue's version; playlists' stays

    refresh()  # the same scores again: nothing written, nothing to refresh
    assert caching.versions() == changed


@pytest.mark.parametrize("extra_songs", [0, 40])
def test_the_queries_do_not_grow_with_the_catalogue(songs, extra_songs):
    alice = make_user("alice")
    album = make_album()
    for number in range(extra_songs):
        make_song(f"extra {number}", album=album, duration_ms=4 * MINUTE)
    for title in "ABC":
        listen(alice, songs[title], timezone.now() - dt.timedelta(days=1))

    with CaptureQueriesContext(connection) as queries:
        refresh()

    statements = [query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]]
    assert len(statements) == 3  # the window and the catalogue's ids; one batch counted, then written
    assert statements[-1].startswith("UPDATE")


def test_batches_of_song_ids_give_the_same_scores(songs):
    from SyroMusic.listening.popularity import popularity_refresh

    alice = make_user("alice")
    now = timezone.now()
    for n, title in ((3, "A"), (1, "E")):
        for i in range(n):
            listen(alice, songs[title], now - dt.timedelta(hours=i + 1))

    report = popularity_refresh(batch_size=2)

    assert popularity() == {"A": 100, "B": 0, "C": 0, "D": 0, "E": expected(1, 3)}
    assert (report.raised, report.lowered, report.songs) == (2, 0, 5)


def test_days_must_be_positive():
    with pytest.raises(CommandError, match="--days must be at least 1"):
        refresh("--days", "0")
