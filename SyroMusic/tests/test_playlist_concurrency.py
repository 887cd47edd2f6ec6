"""Positions stay exactly 1..N when collaborators change one playlist at the same time (PostgreSQL)."""

import random
import threading

import pytest
from django.db import connection

from SyroMusic.models import Playlist, PlaylistEntry

from .factories import make_playlist, make_song, make_user

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 8
OPERATIONS = 25


def test_concurrent_adds_moves_and_removes_never_lose_an_entry_or_repeat_a_position():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and real concurrency need PostgreSQL (make test-services)")
    owner = make_user("alice")
    songs = [make_song(f"Song {n}") for n in range(30)]
    playlist = make_playlist(owner=owner, songs=songs[:20])
    original = set(playlist.entries.values_list("id", flat=True))
    added, removed, errors = [], [], []
    barrier = threading.Barrier(WORKERS)

    def work(seed):
        rng = random.Random(seed)
        try:
            barrier.wait()
            target = Playlist.objects.get(pk=playlist.pk)
            for _ in range(OPERATIONS):
                action = rng.choice(["add", "add", "move", "move", "remove"])
                if action == "add":
                    try:
                        entry = target.add_song(rng.choice(songs), by=owner, position=rng.choice([None, 1, 5, 15]))
                    except ValueError:
                        continue  # the playlist got shorter than the position
                    added.append(entry.pk)
                    continue
                candidates = list(target.entries.values_list("id", flat=True))
                if action == "remove":
                    pick = rng.choice([pk for pk in candidates if pk in original] or [None])
                    if pick is None:
                        continue
                    try:
                        target.remove_entry(PlaylistEntry(pk=pick))
                        removed.append(pick)
                    except PlaylistEntry.DoesNotExist:
                        pass  # another collaborator removed it first
                else:
                    try:
                        target.move_entry(PlaylistEntry(pk=rng.choice(candidates)), to=rng.randint(1, len(candidates)))
                    except (PlaylistEntry.DoesNotExist, ValueError):
                        pass  # removed meanwhile, or the playlist got shorter
        except Exception as error:  # report it to the main thread
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    positions = list(playlist.entries.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, len(positions) + 1))
    remaining = set(playlist.entries.values_list("id", flat=True))
    assert set(added) <= remaining, "a successful add went missing"
    assert remaining == (original - set(removed)) | set(added)
    assert len(added) > 50 and len(removed) > 0
