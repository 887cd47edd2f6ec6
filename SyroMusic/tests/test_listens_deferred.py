"""Listens recorded by the API join the rollups once the answer is sent (record(defer=True), then fold()), and
every read or change of the rollups folds what still waits first: the rollups are exact whenever read."""

import datetime
from http import HTTPStatus

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections

from SyroMusic.api.history import FoldAfterAnswer
from SyroMusic.listening import record
from SyroMusic.listening.stats import stats_for
from SyroMusic.models import ListenDay, ListenMonth, ListenTally, Profile

from .factories import logged_in, make_song, make_user
from .test_listen_months import summed_window, window_rows
from .test_listen_record import all_rollups, rebuilt

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
T0 = datetime.datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
TODAY = datetime.date(2026, 11, 25)


@pytest.fixture
def song():
    return make_song(duration_ms=200_000)


def events(song, *numbers, heard_ms=150_000):
    return [record.Event(f"d{n}", song.pk, T0 + datetime.timedelta(hours=n), heard_ms) for n in numbers]


def close(answer):
    """Close the answer as a WSGI server does, keeping the test's database connection (as the test client
    does: request_finished would close it)."""
    request_finished.disconnect(close_old_connections)
    try:
        answer.close()
    finally:
        request_finished.connect(close_old_connections)


def pending(user):
    return Profile.objects.get(user=user).pending_listens


def test_a_deferred_batch_waits_outside_the_rollups_until_folded(song):
    user = make_user()
    recorded = record.record(user, events(song, 1, 2), defer=True)
    assert pending(user) == [listen.pk for listen in recorded.listens]
    assert not ListenDay.objects.filter(user=user).exists() and not ListenTally.objects.filter(user=user).exists()
    record.fold(user)
    assert pending(user) == []
    assert ListenTally.objects.get(user=user, month=0, song=song).listens == 2
    assert all_rollups(user) == rebuilt(user)


def test_a_batch_posted_to_the_api_is_in_the_rollups_when_answered(song):
    user = make_user()
    response = logged_in(user, api=True).post(
        "/api/v1/me/listens/",
        {"listens": [{"client_id": "x1", "song": song.pk, "started_at": "2026-11-20T18:00:00Z", "heard_ms": 150_000}]},
        format="json",
    )
    assert response.status_code == HTTPStatus.OK
    # The API adds at once (FoldAfterAnswer is not switched on): nothing waits.
    assert pending(user) == []
    assert ListenMonth.objects.get(user=user).listens == 1
    assert all_rollups(user) == rebuilt(user)


def test_an_answer_is_sent_with_the_listens_still_pending_and_close_folds_them(song):
    user = make_user()
    record.record(user, events(song, 1), defer=True)
    answer = FoldAfterAnswer(user, {"recorded": []})
    assert len(pending(user)) == 1  # made, not closed: nothing folded yet
    close(answer)
    assert pending(user) == [] and ListenMonth.objects.get(user=user).listens == 1


def test_a_fold_that_fails_after_the_answer_loses_nothing_and_the_next_read_folds(song, caplog, monkeypatch):
    user = make_user()
    record.record(user, events(song, 1, 2), defer=True)

    def broken(listener):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(record, "fold", broken)
    close(FoldAfterAnswer(user, {}))
    assert "not folded after the answer" in caplog.text
    monkeypatch.undo()
    assert len(pending(user)) == 2
    stats = stats_for(type(user).objects.get(pk=user.pk), "30d", today=TODAY)
    assert (stats.listens, stats.unique_songs, pending(user)) == (2, 1, [])


@pytest.mark.parametrize("change", ["stats", "record", "forget other", "forget pending", "forget all", "zone", "window"])
def test_every_read_or_change_of_the_rollups_folds_the_pending_listens_first(song, change):
    user = make_user()
    record.record(user, events(song, 0))  # one listen in the rollups already
    waiting = record.record(user, events(song, 1, 2, 3), defer=True).listens
    if change == "stats":
        assert stats_for(type(user).objects.get(pk=user.pk), "all", today=TODAY).listens == 4
    elif change == "record":
        record.record(user, events(song, 4))
    elif change == "forget other":
        first = user.listens.get(client_id="d0")
        assert record.forget(user, [first.pk]) == 1
    elif change == "forget pending":
        assert record.forget(user, [waiting[0].pk]) == 1  # never in the rollups: nothing taken away for it
    elif change == "forget all":
        record.forget_all(user)
    elif change == "zone":
        record.change_time_zone(user, "Pacific/Auckland")
    else:
        stats_for(type(user).objects.get(pk=user.pk), "12m", today=TODAY)
        assert window_rows(user) == summed_window(user, 202611) != {}
    assert pending(user) == []
    days, songs, albums, artists, months = all_rollups(user)
    without_window = [{key: value for key, value in tally.items() if key[0] >= 0} for tally in (songs, albums, artists)]
    assert (days, *without_window, months) == rebuilt(user)  # a rebuild leaves the window to the next look


def test_past_the_limit_a_deferred_batch_folds_everything_at_once(song, monkeypatch):
    monkeypatch.setattr(record, "MAX_PENDING", 3)
    user = make_user()
    record.record(user, events(song, 1, 2), defer=True)
    assert len(pending(user)) == 2
    record.record(user, events(song, 3, 4), defer=True)  # 4 would wait: all go in now
    assert pending(user) == []
    assert ListenTally.objects.get(user=user, month=0, song=song).listens == 4


