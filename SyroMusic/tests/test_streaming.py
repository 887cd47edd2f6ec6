"""Streaming audio and serving covers when the app sends the bytes itself (SyroMusic.views.media), and the
answer it gives nginx instead (X-Accel-Redirect). The range rules are a table shared with the nginx tests
(streaming_cases.py)."""

import logging
import os
from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.utils import timezone
from PIL import Image

from SyroMusic.models import AudioFile, cover_file_name
from SyroMusic.web.files import CHUNK_BYTES

from .audio_files import make_audio, make_cover
from .factories import logged_in, make_user
from .streaming_cases import ASKS, audio_row, check_answer, facts, request_headers

pytestmark = pytest.mark.django_db

A_YEAR = "max-age=31536000, immutable"
TRICKY_NAME = "Première écoute %?#"


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    """A second of real WAV (some 16 KB), in a folder and under a name that need quoting in a URL."""
    return make_audio(tmp_path_factory.mktemp("music") / "Dossier é #1", f"{TRICKY_NAME}.wav", format="wav", sample_rate=8000)


def media_warnings(caplog):
    return [record.getMessage() for record in caplog.records if record.name == "SyroMusic.views.media"]


def body_of(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def listener():
    return logged_in(make_user("alice"))


@pytest.mark.parametrize("ask", ASKS, ids=[ask.name for ask in ASKS])
def test_each_range_and_validator_rule_is_answered_as_rfc_9110_says(ask, wav, listener):
    audio = audio_row(wav)
    file_facts = facts(os.stat(wav))
    send = listener.head if ask.method == "HEAD" else listener.get
    response = send(audio.get_absolute_url(), headers=request_headers(ask, file_facts))
    check_answer(
        ask, "django", wav.read_bytes(), file_facts, response.status_code, response.headers, body_of(response),
        content_type="audio/wav", cache_control=f"private, {A_YEAR}",
    )


def test_a_listener_gets_the_whole_file_in_two_queries_with_every_header(wav, listener, django_assert_num_queries):
    audio = audio_row(wav)
    with django_assert_num_queries(2):  # the session's user, the file
        response = listener.get(audio.get_absolute_url())
    assert response.status_code == HTTPStatus.OK
    assert body_of(response) == wav.read_bytes()
    assert {name: response.headers.get(name) for name in (
        "Content-Type", "Content-Length", "Accept-Ranges", "Cache-Control", "Content-Disposition",
        "X-Content-Type-Options", "ETag",
    )} == {
        "Content-Type": "audio/wav", "Content-Length": str(wav.stat().st_size), "Accept-Ranges": "bytes",
        "Cache-Control": f"private, {A_YEAR}", "Content-Disposition": "inline; filename*=utf-8''Premi%C3%A8re%20%C3%A9coute.wav",
        "X-Content-Type-Options": "nosniff", "ETag": facts(wav.stat())["etag"],
    }


def test_anonymous_visitors_are_asked_to_log_in_without_a_query(wav, client, django_assert_num_queries):
    audio = audio_row(wav)
    with django_assert_num_queries(0):
        response = client.get(audio.get_absolute_url())
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"Log in to listen."


def test_anonymous_visitors_may_listen_when_stream_anonymous_is_on_and_caches_may_share_it(
    wav, client, settings, django_assert_num_queries,
):
    settings.STREAM_ANONYMOUS = True
    audio = audio_row(wav)
    with django_assert_num_queries(1):
        response = client.get(audio.get_absolute_url(), headers={"Range": "bytes=0-3"})
    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    assert body_of(response) == b"RIFF"
    assert response.headers["Cache-Control"] == f"public, {A_YEAR}"


@pytest.mark.parametrize("change", ["another hash", "a shorter hash", "another format", "another id", "missing since a scan"])
def test_an_address_that_no_longer_names_the_files_bytes_is_404(wav, listener, change):
    audio = audio_row(wav)
    pk, digest, ext = audio.pk, audio.content_hash[:16], audio.format
    if change == "another hash":
        digest = f"{int(digest, 16) ^ 1:016x}"
    elif change == "a shorter hash":
        digest = digest[:15]
    elif change == "another format":
        ext = "mp3"
    elif change == "another id":
        pk += 1
    else:
        AudioFile.objects.filter(pk=pk).update(missing_since=timezone.now())
    response = listener.get(f"/audio/{pk}/{digest}.{ext}")
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_file_gone_from_disk_is_404_and_logged_never_500(tmp_path, listener, caplog):
    path = make_audio(tmp_path, "gone", format="wav", sample_rate=8000)
    audio = audio_row(path)
    path.unlink()
    with caplog.at_level(logging.WARNING, logger="SyroMusic.views.media"):
        response = listener.get(audio.get_absolute_url())
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert media_warnings(caplog) == [f"audio file {path} (id {audio.pk}) is not on disk: a scan will mark it missing"]


def test_a_file_changed_since_the_scan_is_404_rather_than_other_bytes_under_a_cached_address(tmp_path, listener, caplog):
    path = make_audio(tmp_path, "edited", format="wav", sample_rate=8000)
    audio = audio_row(path)
    os.utime(path, ns=(audio.mtime_ns, audio.mtime_ns + 1_000_000_000))  # a tag editor kept the size
    with caplog.at_level(logging.WARNING, logger="SyroMusic.views.media"):
        response = listener.get(audio.get_absolute_url())
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert media_warnings(caplog) == [f"audio file {path} (id {audio.pk}) changed since it was scanned: scan again to serve it"]


@pytest.mark.parametrize("range_header", [None, "bytes=10-"], ids=["whole file", "range"])
def test_audio_is_never_gzipped_even_when_the_client_asks(wav, listener, range_header):
    audio = audio_row(wav)
    headers = {"Accept-Encoding": "gzip, deflate, br"} | ({"Range": range_header} if range_header else {})
    response = listener.get(audio.get_absolute_url(), headers=headers)
    assert response.headers.get("Content-Encoding") is None
    assert "Accept-Encoding" not in response.headers.get("Vary", "")
    assert response.headers["ETag"] == facts(wav.stat())["etag"]  # strong: gzip would have weakened it
    assert body_of(response) == wav.read_bytes()[10 if range_header else 0:]


def test_a_range_is_read_in_chunks_from_the_file_never_whole(tmp_path, listener):
    path = make_audio(tmp_path, "long", format="wav", sample_rate=8000, seconds=30)  # some 480 KB
    audio = audio_row(path)
    response = listener.get(audio.get_absolute_url(), headers={"Range": "bytes=1000-"})
    chunks = list(response.streaming_content)
    assert max(map(len, chunks)) == CHUNK_BYTES and len(chunks) == -(-(path.stat().st_size - 1000) // CHUNK_BYTES)
    assert b"".join(chunks) == path.read_bytes()[1000:]


@pytest.mark.parametrize(
    ("title", "disposition"),
    [
        ("Plain Title", 'inline; filename="Plain Title.wav"'),
        ('AC/DC: "Live"', 'inline; filename="AC DC Live.wav"'),
        ("Ночь/день", "inline; filename*=utf-8''%D0%9D%D0%BE%D1%87%D1%8C%20%D0%B4%D0%B5%D0%BD%D1%8C.wav"),
        ("/", 'inline; filename="audio.wav"'),
    ],
)
def test_the_file_name_offered_is_the_songs_title_made_safe(wav, listener, title, disposition):
    audio = audio_row(wav, title=title)
    assert listener.head(audio.get_absolute_url()).headers["Content-Disposition"] == disposition


def test_only_get_and_head_are_allowed(wav, listener):
    audio = audio_row(wav)
    assert listener.post(audio.get_absolute_url()).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_with_accel_redirect_the_app_checks_then_names_the_file_for_nginx(wav, listener, settings):
    settings.AUDIO_ACCEL_REDIRECT = "/_syro_files/"
    audio = audio_row(wav)
    response = listener.get(audio.get_absolute_url(), headers={"Range": "bytes=5-9"})  # nginx does ranges
    assert response.status_code == HTTPStatus.OK
    assert response.content == b""
    folder = quote(str(wav.parent.parent))  # pytest's own folder: letters, digits, - and _
    assert response.headers["X-Accel-Redirect"] == (
        f"/_syro_files{folder}/Dossier%20%C3%A9%20%231/Premi%C3%A8re%20%C3%A9coute%20%25%3F%23.wav"
    )
    assert response.headers["Content-Type"] == "audio/wav"
    assert response.headers["Cache-Control"] == f"private, {A_YEAR}"
    assert response.headers["Content-Disposition"] == "inline; filename*=utf-8''Premi%C3%A8re%20%C3%A9coute.wav"
    assert "Accept-Ranges" not in response.headers  # nginx adds its own


def test_with_accel_redirect_the_access_check_and_the_404s_stay_in_the_app(tmp_path, wav, client, listener, settings):
    settings.AUDIO_ACCEL_REDIRECT = "/_syro_files/"
    audio = audio_row(wav)
    assert client.get(audio.get_absolute_url()).status_code == HTTPStatus.FORBIDDEN
    gone = audio_row(make_audio(tmp_path, "gone", format="wav", sample_rate=8000))
    os.unlink(gone.path)
    response = listener.get(gone.get_absolute_url())
    assert response.status_code == HTTPStatus.NOT_FOUND and "X-Accel-Redirect" not in response.headers


def write_cover(media_root, content_hash, size):
    path = media_root / cover_file_name(content_hash, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), (30, 120, 200)).save(path, "WEBP")
    return path


def test_a_cover_size_is_served_as_webp_to_anyone_and_cached_for_good(settings, client, django_assert_num_queries):
    content_hash = "ab" + "0" * 62
    path = write_cover(settings.MEDIA_ROOT, content_hash, 300)
    with django_assert_num_queries(0):
        response = client.get(f"/media/covers/ab/{content_hash}-300.webp", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == HTTPStatus.OK
    assert body_of(response) == path.read_bytes()
    assert response.headers["Content-Type"] == "image/webp"
    assert response.headers["Cache-Control"] == f"public, {A_YEAR}"
    assert response.headers["ETag"] == facts(path.stat())["etag"]
    assert response.headers.get("Content-Encoding") is None


@pytest.mark.parametrize(
    "address",
    [
        "/media/covers/ab/{hash}",  # the original: kept as the source of the sizes, not served
        "/media/covers/ab/{hash}-200.webp",  # not one of the sizes
        "/media/covers/cd/{hash}-300.webp",  # in another shard than its hash says
        "/media/covers/ab/{upper}-300.webp",
        "/media/covers/ab/..%2F..%2Faudio%2Fsong.wav",
        "/media/covers/..%2Faudio/song.wav",
        "/media/audio/song.wav",  # uploaded audio is streamed only through the access check
        "/media/covers/ab/{hash}-64.webp",  # a size not written
    ],
)
def test_nothing_but_the_sized_webps_under_covers_is_served(settings, client, address):
    content_hash = "ab" + "0" * 62
    write_cover(settings.MEDIA_ROOT, content_hash, 300)
    (settings.MEDIA_ROOT / cover_file_name(content_hash)).write_bytes(make_cover())
    (settings.MEDIA_ROOT / "audio").mkdir()
    (settings.MEDIA_ROOT / "audio" / "song.wav").write_bytes(b"RIFF")
    response = client.get(address.format(hash=content_hash, upper=content_hash.upper()))
    assert response.status_code == HTTPStatus.NOT_FOUND
