"""The copies' encoders are bounded: past the limit a new copy is refused (and nothing is left claimed), and
an encode that cannot even start leaves no lock held and no part behind, so the next request makes it."""

import threading

import pytest

from SyroMusic.audio import transcode_cache
from SyroMusic.audio.transcode import TranscodeError, target

from .audio_files import make_audio


@pytest.fixture(scope="module")
def flac(tmp_path_factory):
    return make_audio(tmp_path_factory.mktemp("music"), "song", format="flac", seconds=1.0, sample_rate=22050,
                      channels=2)


def whole(flac, hash, kbps=96):
    path, chunks = transcode_cache.fetch(flac, hash, target("mp3", kbps))
    return path.read_bytes() if path else b"".join(chunks)


def leftovers():
    return sorted(path.name for path in transcode_cache.directory().rglob("*") if path.suffix in (".part",))


def test_past_the_encoders_limit_a_new_copy_is_refused_until_one_ends(flac):
    taken = 0
    while transcode_cache.ENCODERS.acquire(blocking=False):
        taken += 1
    try:
        with pytest.raises(TranscodeError, match="too many copies at once"):
            transcode_cache.fetch(flac, "a" * 64, target("mp3", 96))
        assert leftovers() == []
    finally:
        for _ in range(taken):
            transcode_cache.ENCODERS.release()
    assert len(whole(flac, "a" * 64)) > 1_000  # the lock was let go: made now


def test_an_encode_that_cannot_start_leaves_nothing_claimed(flac, monkeypatch):
    def refuse(thread):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    with pytest.raises(RuntimeError):
        transcode_cache.fetch(flac, "b" * 64, target("mp3", 96))
    monkeypatch.undo()
    assert leftovers() == []
    assert len(whole(flac, "b" * 64)) > 1_000
    # Every encoder's place was given back.
    assert transcode_cache.ENCODERS.acquire(blocking=False)
    transcode_cache.ENCODERS.release()
