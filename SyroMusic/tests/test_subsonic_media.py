"""Subsonic's stream, download and getCoverArt (SyroMusic.subsonic.media): the file itself with ranges, a
transcoded copy when the client asks for less or for another format, cover art in the nearest size, and
Subsonic errors (never a 500) for whatever a client sends."""

import io
import os
from http import HTTPStatus

import av
import pytest
from django.http import QueryDict
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from SyroMusic import services
from SyroMusic.audio.covers import store_cover
from SyroMusic.audio.transcode import target
from SyroMusic.models import AudioFile
from SyroMusic.subsonic.core import Params
from SyroMusic.subsonic.media import cover_width, stream_target

from .audio_files import make_audio, make_corrupt, make_cover
from .factories import make_album, make_artist, make_song, make_user
from .streaming_cases import audio_row
from .subsonic_calls import app_password, error_of, rest, token

pytestmark = pytest.mark.django_db

SECONDS = 3.0


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    folder = tmp_path_factory.mktemp("music")
    return {
        "flac": make_audio(folder, "song", format="flac", seconds=SECONDS, sample_rate=22050, channels=2),
        "mp3": make_audio(folder, "song", format="mp3", seconds=1.0, sample_rate=22050, channels=2, bitrate=128_000),
    }


@pytest.fixture
def alice():
    user = make_user("alice")
    return token(user, app_password(user))


def playing(path, format, codec, bitrate, title="Première écoute"):
    """A song whose file is `path`, as a scan leaves it (the song plays that file)."""
    audio = audio_row(path, title=title, format=format, codec=codec, bitrate=bitrate)
    services.song_pick_audio(song_ids=[audio.song_id])
    return audio.song


@pytest.fixture
def flac_song(music):
    return playing(music["flac"], "flac", "flac", 900_000)


@pytest.fixture
def mp3_song(music):
    return playing(music["mp3"], "mp3", "mp3", 128_000)


def body_of(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def decoded(data):
    """(container, seconds, kbps) of encoded bytes, decoded to the last sample."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        seconds = sum(frame.samples for frame in container.decode(stream)) / stream.codec_context.sample_rate
        return container.format.name, seconds, len(data) * 8 / seconds / 1000


def test_stream_without_a_limit_sends_the_file_itself_with_ranges(mp3_song, music, alice, django_assert_num_queries):
    with django_assert_num_queries(2):  # the listener's app passwords, the song with its file
        response = rest("stream", alice, id=mp3_song.pk)
    assert response.status_code == HTTPStatus.OK
    assert body_of(response) == music["mp3"].read_bytes()
    assert {name: response.headers.get(name) for name in ("Content-Type", "Accept-Ranges", "Cache-Control")} == {
        "Content-Type": "audio/mpeg", "Accept-Ranges": "bytes", "Cache-Control": "private, no-cache",
    }
    response = rest("stream", alice, id=mp3_song.pk, maxBitRate=320, format="raw")
    assert body_of(response) == music["mp3"].read_bytes()


def test_stream_sends_a_range_of_the_file(mp3_song, music, alice):
    response = Client(headers={"Range": "bytes=10-19"}).get("/rest/stream", {**alice, "id": mp3_song.pk})
    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    assert body_of(response) == music["mp3"].read_bytes()[10:20]


def test_stream_under_the_files_bit_rate_is_an_mp3_copy_at_that_rate(flac_song, alice, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = rest("stream", alice, id=flac_song.pk, maxBitRate=96)
    assert (response.status_code, response["Content-Type"]) == (HTTPStatus.OK, "audio/mpeg")
    container, seconds, kbps = decoded(body_of(response))
    assert container == "mp3"
    assert seconds == pytest.approx(SECONDS, abs=0.1)  # MP3 without gapless info: the encoder's padding too
    assert kbps == pytest.approx(96, rel=0.1)
    # Asked again: the finished copy, with ranges.
    response = rest("stream", alice, id=flac_song.pk, maxBitRate=96)
    assert response.headers["Accept-Ranges"] == "bytes"
    assert decoded(body_of(response))[1] == pytest.approx(SECONDS, abs=0.1)


def test_stream_as_opus_from_an_offset_starts_there(flac_song, alice):
    response = rest("stream", alice, id=flac_song.pk, format="opus", maxBitRate=64, timeOffset=2)
    assert response["Content-Type"] == "audio/ogg"
    container, seconds, _ = decoded(body_of(response))
    assert container == "ogg"
    assert seconds == pytest.approx(SECONDS - 2, abs=0.05)


def test_download_sends_the_file_under_the_songs_title(mp3_song, music, alice):
    response = rest("download", alice, id=mp3_song.pk, maxBitRate=32)
    assert body_of(response) == music["mp3"].read_bytes()
    assert response["Content-Disposition"] == "inline; filename*=utf-8''Premi%C3%A8re%20%C3%A9coute.mp3"


# What stream makes of a file for each ask: None is the file itself, else (format, kbps, offset).
MP3_128 = ("mp3", 128_000)
FLAC = ("flac", 900_000)


@pytest.mark.parametrize("file, params, made", [
    (MP3_128, {}, None),
    (MP3_128, {"maxBitRate": "128"}, None),
    (MP3_128, {"maxBitRate": "320"}, None),
    (MP3_128, {"maxBitRate": "0"}, None),
    (MP3_128, {"maxBitRate": "96"}, ("mp3", 96, 0)),
    (MP3_128, {"format": "mp3"}, None),
    (MP3_128, {"format": "raw", "maxBitRate": "64", "timeOffset": "30"}, None),
    (MP3_128, {"format": "opus"}, ("opus", 128, 0)),
    (MP3_128, {"timeOffset": "30"}, ("mp3", 128, 30)),
    (MP3_128, {"format": "flv", "maxBitRate": "64"}, ("mp3", 64, 0)),
    (FLAC, {}, None),
    (FLAC, {"format": "mp3"}, ("mp3", 320, 0)),
    (FLAC, {"format": "opus", "maxBitRate": "100"}, ("opus", 96, 0)),
    (FLAC, {"maxBitRate": "192", "timeOffset": "5"}, ("mp3", 192, 5)),
])
def test_stream_sends_the_file_unless_asked_for_less_another_format_or_an_offset(file, params, made):
    audio = AudioFile(format=file[0], bitrate=file[1])
    query = QueryDict(mutable=True)
    query.update(params)
    assert stream_target(audio, Params(query)) == (target(*made) if made else None)


@pytest.fixture
def covers():
    """A cover (300x300 PNG, stored as WebPs of every width): its content hash."""
    return store_cover(make_cover(size=(700, 700)))


@pytest.mark.parametrize("size, width", [(None, 600), ("0", 600), ("32", 64), ("64", 64), ("65", 300), ("600", 600), ("2000", 600)])
def test_cover_art_comes_in_the_nearest_stored_size_at_least_as_wide(size, width, covers, alice):
    album = make_album("Blue", cover_hash=covers)
    response = rest("getCoverArt", alice, id=f"al-{album.pk}", **({"size": size} if size else {}))
    assert (response.status_code, response["Content-Type"]) == (HTTPStatus.OK, "image/webp")
    assert Image.open(io.BytesIO(body_of(response))).width == width


def test_an_artists_and_a_songs_cover_art_is_their_albums(covers, alice, django_assert_num_queries):
    artist = make_artist("Joni")
    make_album("Early", artist=artist, release_date="1968-01-01")  # no cover of its own
    album = make_album("Blue", artist=artist, release_date="1971-06-22", cover_hash=covers)
    song = make_song("River", album=album)
    for id in (f"ar-{artist.pk}", str(song.pk), f"al-{album.pk}"):
        with django_assert_num_queries(2):  # the app passwords, the cover's hash
            response = rest("getCoverArt", alice, id=id, size=64)
        assert Image.open(io.BytesIO(body_of(response))).size == (64, 64)


def test_cover_art_behind_nginx_is_named_for_nginx_to_send(covers, alice, settings):
    settings.AUDIO_ACCEL_REDIRECT = "/_syro_files/"
    album = make_album("Blue", cover_hash=covers)
    response = rest("getCoverArt", alice, id=f"al-{album.pk}", size=300)
    assert response["X-Accel-Redirect"] == f"/_syro_files{settings.MEDIA_ROOT}/covers/{covers[:2]}/{covers}-300.webp"


def test_cover_width_for_every_size():
    assert [cover_width(size) for size in (None, 1, 64, 299, 300, 301, 10_000)] == [600, 64, 64, 300, 300, 600, 600]


@pytest.mark.parametrize("method, params, code, message", [
    ("stream", {}, 10, "Required parameter is missing: id"),
    ("stream", {"id": "al-1"}, 70, "Song not found: 'al-1'"),
    ("stream", {"id": "999999"}, 70, "Song not found"),
    ("stream", {"id": "SONG", "maxBitRate": "fast"}, 0, "Parameter maxBitRate must be a whole number, not 'fast'"),
    ("stream", {"id": "SONG", "timeOffset": "-3"}, 0, "Parameter timeOffset must be at least 0"),
    ("download", {"id": "NO_AUDIO"}, 70, "The song has no audio file"),
    ("getCoverArt", {}, 10, "Required parameter is missing: id"),
    ("getCoverArt", {"id": "al-999999"}, 70, "Cover art not found"),
    ("getCoverArt", {"id": "NO_COVER"}, 70, "Cover art not found"),
    ("getCoverArt", {"id": "pl-1"}, 70, "Song not found: 'pl-1'"),
])
def test_what_cannot_be_sent_is_a_subsonic_error(method, params, code, message, mp3_song, alice):
    no_audio = make_song("Silent")
    names = {"SONG": str(mp3_song.pk), "NO_AUDIO": str(no_audio.pk), "NO_COVER": f"al-{no_audio.album_id}"}
    params = {key: names.get(value, value) for key, value in params.items()}
    assert error_of(rest(method, alice, **params)) == (code, message)


def test_a_song_whose_file_is_gone_is_not_found(tmp_path, alice):
    path = make_audio(tmp_path, "gone", format="mp3", seconds=1.0)
    song = playing(path, "mp3", "mp3", 128_000)
    os.unlink(path)
    assert error_of(rest("stream", alice, id=song.pk)) == (70, "Song file is not on the server")


def test_a_song_whose_file_changed_since_the_scan_is_not_found(tmp_path, alice):
    path = make_audio(tmp_path, "changed", format="mp3", seconds=1.0)
    song = playing(path, "mp3", "mp3", 128_000)
    with open(path, "ab") as file:
        file.write(b"more")
    assert error_of(rest("download", alice, id=song.pk)) == (70, "Song file changed since it was scanned")


def test_a_file_that_cannot_be_transcoded_is_error_0(tmp_path, alice):
    song = playing(make_corrupt(tmp_path), "mp3", "mp3", 128_000)
    assert error_of(rest("stream", alice, id=song.pk, maxBitRate=64)) == (0, "The song could not be transcoded.")


def test_without_credentials_nothing_is_sent(mp3_song):
    assert error_of(rest("stream", id=mp3_song.pk))[0] == 10


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["stream", "download", "getCoverArt"]),
    params=st.dictionaries(
        st.sampled_from(["id", "maxBitRate", "format", "timeOffset", "size", "estimateContentLength"]),
        st.one_of(st.text(max_size=12), st.integers(-5, 400).map(str), st.sampled_from(["mp3", "opus", "raw", "al-1", "SONG"])),
    ),
)
def test_any_parameters_get_audio_an_image_or_a_subsonic_error_never_a_500(method, params, mp3_song, alice):
    params = {key: str(mp3_song.pk) if value == "SONG" else value.replace("\x00", "") for key, value in params.items()}
    response = rest(method, alice, **params)
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT)
    if response["Content-Type"].startswith(("text/xml", "application/json")):
        assert error_of(response)[0] in (0, 10, 70)
    else:
        assert response["Content-Type"] in ("audio/mpeg", "audio/ogg", "image/webp")
