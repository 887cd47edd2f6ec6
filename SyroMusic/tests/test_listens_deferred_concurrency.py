"""On PostgreSQL a deferred batch (the API's) takes no lock: batches recorded while folds, forgets and time zone
changes run at the same moment still end in rollups equal to a rebuild, and no listen is folded twice or lost."""

import datetime
import threading

import pytest
from django.db import connection

from SyroMusic.listening import record
from SyroMusic.models import Listen, Profile

from .factories import make_song, make_user
from .test_listen_record import all_rollups, rebuilt

UTC = datetime.UTC
T0 = datetime.datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def run_at_once(*jobs):
    """Run each job in its own thread (own database connection), started together; returns their errors."""
    barrier, errors = threading.Barrier(len(jobs)), []

    def run(job):
        try:
            barrier.wait(timeout=60)
            job()
        except Exception as error:  # noqa: BLE001 - reported by the caller
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a job never ended"
    return errors


@pytest.mark.django_db(transaction=True)
def test_deferred_batches_folds_and_forgets_at_the_same_moment_leave_exact_rollups():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and real concurrency need PostgreSQL (make test-services)")
    user = make_user()
    songs = [make_song(duration_ms=200_000) for _ in range(3)]
    first = record.record(user, [record.Event(f"old{n}", songs[n % 3].pk, T0, 150_000) for n in range(6)], defer=True)

    def batch(name, hours):
        return lambda: record.record(user, [
            record.Event(f"{name}{n}", songs[n % 3].pk, T0 + datetime.timedelta(hours=hours + n), 100_000 + n)
            for n in range(20)
        ], defer=True)

    for _ in range(3):
        errors = run_at_once(
            batch("a", 1), batch("b", 30), lambda: record.fold(user),
            lambda: record.forget(user, [listen.pk for listen in first.listens[:2]]),
            lambda: record.change_time_zone(user, "America/New_York"),
        )
        assert errors == []
        record.fold(user)
        assert all_rollups(user) == rebuilt(user)
        Listen.objects.filter(user=user).exclude(client_id__startswith="old").delete()
        record.rebuild(user, Profile.objects.get(user=user).zone)
    errors = run_at_once(batch("c", 1), batch("d", 50), lambda: record.fold(user))
    assert errors == []
    assert Listen.objects.filter(user=user).count() == 4 + 40
    record.fold(user)
    assert Profile.objects.get(user=user).pending_listens == []
    assert all_rollups(user) == rebuilt(user)
