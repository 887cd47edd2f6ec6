"""A rescan of a library nothing touched finds every file unchanged: the first scan refused no healthy file.

Reading a file must take everything it needs from a PyAV stream while its container is open. Closing the
container frees the FFmpeg stream behind it, and PyAV reads a closed stream's fields (time_base, start_time)
from that freed memory: usually the right values or none, now and then garbage, which refused a healthy
Ogg file ("2.00 s of audio where the last Ogg page ends at 4983.89 s") in about one scan of 200 files in ten
(loaded machine or not), and the rescan then counted it "new". The guard below makes any such read fail every time.
"""

import types

import av
import pytest

from SyroMusic.library.scan import library_scan

from .audio_files import make_audio

pytestmark = pytest.mark.django_db


class ClosedStreamRead(Exception):
    """A stream was read after its container was closed."""


class GuardedStream:
    def __init__(self, stream, container):
        self._stream, self._container = stream, container

    def __getattr__(self, name):
        if self._container.closed:
            raise ClosedStreamRead(f"stream.{name} read after its container was closed")
        return getattr(self._stream, name)


class GuardedContainer:
    """A PyAV input container whose streams refuse to be read once it is closed, where the real ones read freed
    memory."""

    def __init__(self, container):
        self._container = container
        self.closed = False
        self.streams = types.SimpleNamespace(audio=[GuardedStream(stream, self) for stream in container.streams.audio])

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.closed = True
        return self._container.__exit__(*exception)

    def demux(self, *streams):
        return self._container.demux(*[stream._stream for stream in streams])

    def __getattr__(self, name):
        return getattr(self._container, name)


@pytest.fixture
def guarded_av(monkeypatch):
    """av.open for reading, with streams that cannot be read after their container is closed."""
    real_open = av.open

    def guarded_open(file, mode="r", **options):
        container = real_open(file, mode, **options)
        return GuardedContainer(container) if mode == "r" else container

    monkeypatch.setattr(av, "open", guarded_open)


def make_library(folder):
    for number, format in enumerate(["ogg", "mp3", "flac", "ogg"], start=1):
        make_audio(folder / f"Album {number}", f"{number:02d} Song", format=format, seed=number,
                   tags={"title": f"Song {number}", "artist": "Band", "album": f"Album {number}", "track_number": 1})


def test_a_rescan_finds_every_file_of_the_first_scan_unchanged(music_folder, guarded_av):
    make_library(music_folder)

    first = library_scan(path=music_folder, workers=1)
    second = library_scan(path=music_folder, workers=1)

    assert first.refused == []
    assert first.counts["files new"] == 4
    assert second.counts["files unchanged"] == 4
    assert not second.changed
