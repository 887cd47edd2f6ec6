"""Transcoding (SyroMusic.audio.transcode), the copies kept on disk (transcode_cache), and the web player's
transcoded URL (SyroMusic.views.media.audio_transcoded). Real files, encoded at test time; every copy is
decoded back to check what it holds."""

import io
import os
import re
import threading
from http import HTTPStatus

import av
import pytest
from django.test import Client

from SyroMusic.audio import transcode_cache
from SyroMusic.audio.transcode import TranscodeError, target, transcode
from SyroMusic.models import Profile

from .audio_files import make_audio, make_corrupt
from .factories import logged_in, make_user
from .streaming_cases import audio_row

A_YEAR = "max-age=31536000, immutable"
SECONDS = 3.0


@pytest.fixture(scope="module")
def flac(tmp_path_factory):
    """Three seconds of stereo FLAC at 22.05 kHz: a lossless file, as a data saver would shrink."""
    return make_audio(
        tmp_path_factory.mktemp("music"), "song", format="flac", seconds=SECONDS, sample_rate=22050, channels=2
    )


@pytest.fixture(scope="module")
def copies(flac):
    """The bytes of the copies the tests compare against, each encoded once."""
    return {(format, kbps): b"".join(transcode(flac, target(format, kbps))) for format, kbps in (
        ("mp3", 96), ("opus", 96), ("mp3", 64), ("mp3", 128),
    )}


def decoded(data):
    """(seconds, channels, container format name) of encoded bytes, decoded to the last sample."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate, stream.codec_context.channels, container.format.name


def kbps_of(data, seconds):
    return len(data) * 8 / seconds / 1000


@pytest.mark.parametrize("format, container", [("mp3", "mp3"), ("opus", "ogg")])
def test_a_copy_decodes_whole_at_about_the_bit_rate_asked(format, container, copies):
    data = copies[(format, 96)]
    seconds, channels, name = decoded(data)
    assert name == container
    assert channels == 2
    assert seconds == pytest.approx(SECONDS, abs=0.08)
    assert kbps_of(data, seconds) == pytest.approx(96, rel=0.1)


@pytest.mark.parametrize("format", ["mp3", "opus"])
def test_a_copy_from_an_offset_starts_there(format, flac):
    data = b"".join(transcode(flac, target(format, 96, offset=2)))
    seconds, _, _ = decoded(data)
    assert seconds == pytest.approx(SECONDS - 2, abs=0.08)


@pytest.mark.parametrize("format", ["mp3", "opus"])
def test_the_same_file_and_settings_always_give_the_same_bytes(format, flac, copies):
    # Readers of a copy being made rely on it: they carry on in a second encode where the first stopped.
    assert b"".join(transcode(flac, target(format, 96))) == copies[(format, 96)]


def test_a_copy_comes_out_a_piece_at_a_time(flac):
    pieces = list(transcode(flac, target("mp3", 96)))
    assert len(pieces) > 10
    assert max(len(piece) for piece in pieces) < 8192


@pytest.mark.parametrize("format, asked, made", [
    ("mp3", 96, 96), ("mp3", 100, 96), ("mp3", 0, 192), ("mp3", None, 192), ("mp3", 1000, 320), ("mp3", 8, 32),
    ("opus", 320, 256), ("opus", 64, 64), ("opus", 63, 48),
])
def test_the_bit_rate_is_snapped_down_to_one_of_a_few(format, asked, made):
    assert target(format, asked).kbps == made


def test_only_mp3_and_opus_are_made():
    with pytest.raises(ValueError, match="cannot transcode to 'flac'"):
        target("flac", 96)


def test_a_file_that_is_not_audio_is_a_transcode_error_naming_it(tmp_path):
    corrupt = make_corrupt(tmp_path)
    with pytest.raises(TranscodeError, match=str(corrupt)):
        b"".join(transcode(corrupt, target("mp3", 96)))


# The copies on disk.

HASH = "ab" * 32


def files_in(directory):
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())


def test_the_first_fetch_streams_the_copy_as_it_is_made_and_the_next_gets_the_finished_file(flac, copies, settings):
    path, chunks = transcode_cache.fetch(flac, HASH, target("mp3", 96))
    assert path is None
    assert b"".join(chunks) == copies[("mp3", 96)]
    path, chunks = transcode_cache.fetch(flac, HASH, target("mp3", 96))
    assert chunks is None
    assert path == settings.MEDIA_ROOT / "transcodes" / "ab" / f"{HASH}-96.mp3"
    assert path.read_bytes() == copies[("mp3", 96)]
    # The lock stays (deleting it would race with a new encoder); no part is left.
    assert files_in(settings.MEDIA_ROOT / "transcodes") == [f"ab/{HASH}-96.mp3", f"ab/{HASH}-96.mp3.lock"]


def test_copies_go_where_transcode_dir_says(flac, settings, tmp_path):
    settings.TRANSCODE_DIR = str(tmp_path / "elsewhere")
    _, chunks = transcode_cache.fetch(flac, HASH, target("opus", 96))
    b"".join(chunks)
    assert transcode_cache.fetch(flac, HASH, target("opus", 96))[0] == tmp_path / "elsewhere" / "ab" / f"{HASH}-96.opus"


class HeldEncodes:
    """transcode() as the cache calls it, counted, and held after its first piece until `release`."""

    def __init__(self, monkeypatch, *, fail=False):
        self.calls, self.release, self.fail = 0, threading.Event(), fail
        monkeypatch.setattr(transcode_cache, "transcode", self)

    def __call__(self, path, wanted):
        self.calls += 1
        pieces = transcode(path, wanted)
        yield next(pieces)
        assert self.release.wait(30)
        if self.fail:
            raise RuntimeError("the encoder died")
        yield from pieces


def test_listeners_asking_at_once_share_one_encode_and_each_gets_the_whole_copy(flac, copies, monkeypatch):
    encodes = HeldEncodes(monkeypatch)
    results, fetched = [None] * 4, threading.Semaphore(0)

    def listen(at):
        path, chunks = transcode_cache.fetch(flac, HASH, target("mp3", 96))
        fetched.release()
        results[at] = (path, b"".join(chunks))

    listeners = [threading.Thread(target=listen, args=(at,)) for at in range(4)]
    for listener in listeners:
        listener.start()
    for _ in listeners:
        assert fetched.acquire(timeout=30)
    encodes.release.set()  # every listener is reading the growing copy now
    for listener in listeners:
        listener.join(timeout=60)
    assert encodes.calls == 1
    assert results == [(None, copies[("mp3", 96)])] * 4


def test_a_crashed_encode_leaves_no_copy_that_looks_finished_and_the_next_fetch_encodes_again(
    flac, copies, monkeypatch, settings
):
    encodes = HeldEncodes(monkeypatch, fail=True)
    encodes.release.set()
    _, chunks = transcode_cache.fetch(flac, HASH, target("mp3", 96))
    with pytest.raises(TranscodeError):
        b"".join(chunks)
    assert files_in(settings.MEDIA_ROOT / "transcodes") == [f"ab/{HASH}-96.mp3.lock"]
    monkeypatch.undo()
    _, chunks = transcode_cache.fetch(flac, HASH, target("mp3", 96))
    assert b"".join(chunks) == copies[("mp3", 96)]


def test_a_part_left_by_a_dead_worker_is_made_again(flac, copies, settings):
    final = transcode_cache.copy_path(HASH, target("mp3", 96))
    final.parent.mkdir(parents=True)
    final.with_name(final.name + ".part").write_bytes(copies[("mp3", 96)][:5000])
    path, chunks = transcode_cache.fetch(flac, HASH, target("mp3", 96))
    assert path is None
    assert b"".join(chunks) == copies[("mp3", 96)]
    assert final.read_bytes() == copies[("mp3", 96)]


def test_evicting_also_deletes_parts_dead_encoders_left_but_not_one_being_written(flac, copies, settings):
    dead = transcode_cache.copy_path(HASH, target("mp3", 64))
    dead.parent.mkdir(parents=True)
    dead.with_name(dead.name + ".part").write_bytes(b"half")
    live = transcode_cache.copy_path(HASH, target("mp3", 128))
    live.with_name(live.name + ".part").write_bytes(b"growing")
    lock = transcode_cache._claim(live)  # as its encoder holds it
    try:
        assert transcode_cache.evict() == []
    finally:
        os.close(lock)
    assert files_in(settings.MEDIA_ROOT / "transcodes") == [
        f"ab/{HASH}-128.mp3.lock", f"ab/{HASH}-128.mp3.part", f"ab/{HASH}-64.mp3.lock",
    ]


def make_copies(flac, *rates):
    paths = []
    for kbps in rates:
        _, chunks = transcode_cache.fetch(flac, HASH, target("mp3", kbps))
        b"".join(chunks)
        paths.append(transcode_cache.copy_path(HASH, target("mp3", kbps)))
    return paths


def used(path, when):
    os.utime(path, ns=(when * 10**9, path.stat().st_mtime_ns))


def test_past_the_cap_the_least_recently_used_copies_go_first(flac):
    old, newest, middle = make_copies(flac, 64, 96, 128)
    used(old, 1_000), used(newest, 3_000), used(middle, 2_000)
    cap = newest.stat().st_size + middle.stat().st_size
    assert transcode_cache.evict(cap) == [old]
    assert transcode_cache.evict(cap) == []
    assert transcode_cache.evict(newest.stat().st_size) == [middle]
    assert not old.with_name(old.name + ".lock").exists()


def test_a_copy_served_again_counts_as_used_without_changing_its_etag(flac):
    (copy,) = make_copies(flac, 96)
    used(copy, 1_000)
    modified = copy.stat().st_mtime_ns
    assert transcode_cache.fetch(flac, HASH, target("mp3", 96)) == (copy, None)
    assert copy.stat().st_atime > 1_000_000
    assert copy.stat().st_mtime_ns == modified


def test_a_new_copy_past_the_cap_pushes_the_oldest_out(flac, settings):
    (old,) = make_copies(flac, 64)
    used(old, 1_000)
    settings.TRANSCODE_CACHE_MAX_BYTES = 1
    (new,) = make_copies(flac, 96)
    # The encoder's thread evicts once it is done; wait for it (a condition, not a guess).
    deadline = threading.Event()
    for _ in range(3000):
        if not old.exists():
            break
        deadline.wait(0.01)
    assert not old.exists()
    assert new.exists()  # over the cap alone, but its listeners are still reading it


# The web player's transcoded URL.

@pytest.fixture
def listener():
    return logged_in(make_user("alice"))


def transcoded_url(audio, kbps=96, ext="opus"):
    return f"/audio/{audio.pk}/{audio.content_hash[:16]}/{kbps}.{ext}"


@pytest.mark.django_db
def test_the_player_gets_a_copy_as_it_is_made_then_the_finished_file_with_ranges(
    flac, copies, listener, django_assert_num_queries
):
    audio = audio_row(flac, format="flac", codec="flac")
    with django_assert_num_queries(2):  # the session's user, the file
        response = listener.get(transcoded_url(audio))
    assert response.status_code == HTTPStatus.OK
    assert response.streaming
    assert {name: response.headers.get(name) for name in ("Content-Type", "Cache-Control", "Content-Length")} == {
        "Content-Type": "audio/ogg", "Cache-Control": "no-store", "Content-Length": None,
    }
    assert b"".join(response.streaming_content) == copies[("opus", 96)]
    with django_assert_num_queries(2):
        response = listener.get(transcoded_url(audio), headers={"Range": "bytes=100-199"})
    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    assert {name: response.headers.get(name) for name in ("Content-Type", "Cache-Control", "Content-Range")} == {
        "Content-Type": "audio/ogg", "Cache-Control": f"private, {A_YEAR}",
        "Content-Range": f"bytes 100-199/{len(copies[('opus', 96)])}",
    }
    assert b"".join(response.streaming_content) == copies[("opus", 96)][100:200]


@pytest.mark.django_db
def test_behind_nginx_a_finished_copy_is_named_for_nginx_to_send(flac, copies, listener, settings):
    settings.AUDIO_ACCEL_REDIRECT = "/_syro_files/"
    audio = audio_row(flac, format="flac", codec="flac")
    b"".join(listener.get(transcoded_url(audio, 64, "mp3")).streaming_content)
    response = listener.get(transcoded_url(audio, 64, "mp3"))
    copy = transcode_cache.copy_path(audio.content_hash, target("mp3", 64))
    assert response.headers["X-Accel-Redirect"] == f"/_syro_files{copy}"
    assert response.content == b""


@pytest.mark.django_db
@pytest.mark.parametrize("kbps, ext", [(100, "mp3"), (0, "opus"), (96, "flac"), (320, "opus"), (99999999999, "mp3")])
def test_a_bit_rate_or_format_not_made_is_404(kbps, ext, flac, listener):
    audio = audio_row(flac, format="flac", codec="flac")
    assert listener.get(transcoded_url(audio, kbps, ext)).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db
def test_a_transcoded_url_with_another_hash_is_404_and_anonymous_visitors_log_in(flac, listener, client):
    audio = audio_row(flac, format="flac", codec="flac")
    assert listener.get(f"/audio/{audio.pk}/{'0' * 16}/96.opus").status_code == HTTPStatus.NOT_FOUND
    response = client.get(transcoded_url(audio))
    assert (response.status_code, response.content) == (HTTPStatus.FORBIDDEN, b"Log in to listen.")


@pytest.mark.django_db
def test_a_file_that_cannot_be_transcoded_is_404_and_logged(tmp_path, listener, caplog):
    audio = audio_row(make_corrupt(tmp_path), format="mp3", codec="mp3")
    assert listener.get(transcoded_url(audio, 96, "mp3")).status_code == HTTPStatus.NOT_FOUND
    assert any("could not be transcoded" in record.getMessage() for record in caplog.records)


# The data saver: a checkbox on the settings page, then every page tells the player (#page-state).

def page_state(client):
    return re.search(r'<div id="page-state"[^>]*>', client.get("/music/songs/").content.decode())[0]


@pytest.mark.django_db
def test_the_data_saver_is_a_checkbox_on_the_settings_page_and_the_player_is_told():
    alice = make_user("alice")
    client = logged_in(alice)
    page = client.get("/accounts/profile/").content.decode()
    assert (
        '<label for="id_data_saver">Data saver:</label>\n    <input type="checkbox" name="data_saver" '
        'aria-describedby="id_data_saver_helptext" id="id_data_saver">'
    ) in page
    assert 'data-data-saver="0"' in page_state(client)
    response = client.post("/accounts/profile/", {"time_zone": "UTC", "data_saver": "on"})
    assert response.status_code == HTTPStatus.FOUND
    assert Profile.objects.get(user=alice).data_saver is True
    assert 'data-data-saver="1"' in page_state(client)
    client.post("/accounts/profile/", {"time_zone": "UTC"})
    assert Profile.objects.get(user=alice).data_saver is False
    assert 'data-data-saver="0"' in page_state(client)


@pytest.mark.django_db
def test_logging_in_tells_the_player_about_the_data_saver():
    alice = make_user("alice")
    Profile.objects.update_or_create(user=alice, defaults={"data_saver": True})
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == HTTPStatus.FOUND
    assert 'data-data-saver="1"' in page_state(client)
    assert 'data-data-saver="0"' in page_state(Client())
