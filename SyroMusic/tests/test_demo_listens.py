"""The demo's listener (seed_catalogue --demo-admin, what `make run` uses) has a history: Recently played
and the stats show something on a fresh checkout, recorded as the player would (the rollups exact)."""

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from SyroMusic.demo import DEMO_LISTENS, demo_listens_seed
from SyroMusic.listening import record
from SyroMusic.models import AudioFile, Listen, ListenDay, ListenTally, Profile, Song

from .factories import make_user

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 21, 30, tzinfo=dt.UTC)


def seed(**options):
    out = io.StringIO()
    call_command("seed_catalogue", songs=300, demo_admin=True, no_progress=True, stdout=out, **options)
    return out.getvalue()


def history(user):
    return list(Listen.objects.filter(user=user).newest_first().values_list("song_id", "started_at", "heard_ms", "counted"))


def rollups(user):
    days = {row.day: (row.listens, row.heard_ms, tuple(row.hours)) for row in ListenDay.objects.filter(user=user)}
    tallies = {(row.month, row.song_id): (row.listens, row.heard_ms) for row in ListenTally.objects.filter(user=user)}
    return days, tallies


def test_the_demo_admin_has_a_few_hundred_listens_over_the_last_months(settings):
    settings.DEBUG = True
    output = seed()

    admin = get_user_model().objects.get(username="admin")
    listens = Listen.objects.filter(user=admin)
    assert listens.count() == DEMO_LISTENS
    assert f"Gave admin {DEMO_LISTENS} listens over the last months" in output
    oldest, newest = listens.order_by("started_at").first().started_at, listens.order_by("started_at").last().started_at
    assert dt.timedelta(days=100) < newest - oldest < dt.timedelta(days=121)
    counted = listens.filter(counted=True).count()
    assert 0.5 * DEMO_LISTENS < counted < 0.8 * DEMO_LISTENS
    assert set(listens.values_list("source", "client").distinct()) == {("player", "SyroMusic demo")}
    # What the stats read is what recording added up, exactly.
    stored = rollups(admin)
    record.rebuild(admin, Profile.of(admin).zone)
    assert rollups(admin) == stored
    assert sum(day[0] for day in stored[0].values()) == counted


def test_the_newest_listens_are_of_songs_that_play_heard_whole_and_too_short_to_count(settings):
    settings.DEBUG = True
    seed()
    for song in Song.objects.order_by("id")[:5]:  # what --audio gives: short demo files (20-26 s)
        song.audio = AudioFile.objects.create(
            song=song, path=f"/srv/demo/{song.pk}.ogg", format="ogg", codec="vorbis", bitrate=96_000,
            sample_rate=44100, channels=2, duration_ms=22_000, size=1, mtime_ns=1, content_hash="0" * 64,
        )
        song.save(update_fields=["audio"])
    listener = make_user("listener")

    demo_listens_seed(user=listener, now=NOW)

    playable = set(Song.objects.playable().values_list("id", flat=True))
    newest = history(listener)[:12]
    assert {song_id for song_id, *_ in newest} <= playable
    assert all(not counted and heard_ms <= 22_000 for _, _, heard_ms, counted in newest)
    assert Listen.objects.filter(user=listener, counted=True).exclude(song__in=playable).exists()


def test_a_second_run_adds_no_listens(settings):
    settings.DEBUG = True
    seed()
    admin = get_user_model().objects.get(username="admin")
    before = history(admin)

    output = seed(if_empty=True)

    assert "nothing seeded" in output and "Gave admin" not in output
    assert history(admin) == before


def test_the_same_seed_gives_the_same_history(settings):
    settings.DEBUG = True
    seed()
    first, second, other = make_user("first"), make_user("second"), make_user("other")

    assert demo_listens_seed(user=first, seed=3, now=NOW) == DEMO_LISTENS
    assert demo_listens_seed(user=second, seed=3, now=NOW) == DEMO_LISTENS
    demo_listens_seed(user=other, seed=4, now=NOW)

    assert history(first) == history(second) != history(other)
    assert max(started for _, started, _, _ in history(first)) <= NOW.replace(minute=0)


def test_a_listener_with_listens_gets_no_demo_ones(settings):
    settings.DEBUG = True
    seed()
    admin = get_user_model().objects.get(username="admin")
    assert demo_listens_seed(user=admin, now=NOW) == 0
    assert Listen.objects.filter(user=admin).count() == DEMO_LISTENS


def test_a_flush_takes_the_listens_with_the_songs_they_name(settings):
    settings.DEBUG = True
    seed()
    admin = get_user_model().objects.get(username="admin")

    seed(flush=True)  # PostgreSQL refuses to empty the songs while listens or tallies still point at them

    assert Listen.objects.filter(user=admin).count() == DEMO_LISTENS  # the new catalogue's demo history
    assert ListenTally.objects.filter(user=admin).exclude(song__in=Song.objects.all()).count() == 0
