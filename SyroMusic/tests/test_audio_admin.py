"""Staff uploads in the admin: audio to a song and a cover to an album, each checked by its bytes and
limited in size; a refusal is a form error that leaves nothing behind. The request body limit lets
staff send an upload to those pages, and nobody anything larger anywhere else."""

import gc
import hashlib
import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from SyroMusic.library import uploads
from SyroMusic.models import AudioFile, Song
from SyroMusic.text import duration

from .audio_files import PLAIN_LYRICS, SYNCED_LYRICS, audio_bytes, make_cover
from .audio_rows import give_audio
from .factories import logged_in, make_album, make_artist, make_song, make_user, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return logged_in(django_user_model.objects.create_superuser("root", "root@example.com", "correct horse battery"))


@pytest.fixture
def river():
    album = make_album("Blue", artist=make_artist("Joni Mitchell"), release_date="1971-06-22")
    return make_song("River", album=album, track_number=4, duration_ms=244_000)


def m_ss(milliseconds):
    """A duration as the song's form shows it."""
    return "" if milliseconds is None else duration(milliseconds, exact=True)


def song_form(song, **extra):
    """The song's change form as the admin page posts it, unchanged, plus `extra`."""
    return {
        "title": song.title, "album": song.album_id, "artist": song.artist_id, "disc_number": song.disc_number,
        "track_number": song.track_number, "duration_ms": m_ss(song.duration_ms), "composer": song.composer,
        "genre": song.genre_id or "", "popularity": song.popularity, "mbid": "", "lyrics": song.lyrics,
        "synced_lyrics": "null",
        "audio_files-TOTAL_FORMS": "0", "audio_files-INITIAL_FORMS": "0", "audio_files-MIN_NUM_FORMS": "0",
        "audio_files-MAX_NUM_FORMS": "0",
        **extra,
    }


def album_form(album, **extra):
    return {
        "title": album.title, "artist": album.artist_id, "album_type": album.album_type,
        "release_date": album.release_date or "", "cover_url": album.cover_url, "label": album.label, "mbid": "",
        "songs-TOTAL_FORMS": "0", "songs-INITIAL_FORMS": "0", "songs-MIN_NUM_FORMS": "0", "songs-MAX_NUM_FORMS": "1000",
        **extra,
    }


def song_url(song):
    return reverse("admin:SyroMusic_song_change", args=[song.pk])


def album_url(album):
    return reverse("admin:SyroMusic_album_change", args=[album.pk])


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def stored_files(settings):
    """Every file under MEDIA_ROOT, relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def form_errors(response, field):
    return response.context["adminform"].form.errors.get(field)


class TestAudioUploads:
    def test_an_uploaded_file_is_stored_by_its_hash_and_the_song_plays_it(self, staff, river, settings):
        data = audio_bytes(format="flac", seconds=1.0)
        response = staff.post(song_url(river), song_form(river, audio_upload=upload("My River (final).flac", data)))
        assert response.status_code == HTTPStatus.FOUND, form_errors(response, "audio_upload")
        content_hash = hashlib.sha256(data).hexdigest()
        audio = AudioFile.objects.get()
        path = Path(settings.MEDIA_ROOT) / "audio" / content_hash[:2] / f"{content_hash}.flac"
        assert (audio.song, audio.source, audio.path, audio.content_hash) == (river, "upload", str(path), content_hash)
        assert (audio.format, audio.codec, audio.sample_rate, audio.channels, audio.size) == ("flac", "flac", 22_050, 1, len(data))
        assert 990 <= audio.duration_ms <= 1010 and audio.peaks
        assert path.read_bytes() == data
        assert oct(path.stat().st_mode & 0o777) == oct(settings.FILE_UPLOAD_PERMISSIONS)  # nginx may read it
        assert stored_files(settings) == [f"audio/{content_hash[:2]}/{content_hash}.flac"]  # no temporary left
        assert Song.objects.get(pk=river.pk).audio == audio
        page = text(staff.get(river.get_absolute_url()))
        assert f'<audio controls preload="none" src="/audio/{audio.pk}/{content_hash[:16]}.flac"' in page

    def test_the_songs_admin_page_lists_its_files_with_a_player_each(self, staff, river):
        audio = uploads.song_attach_upload(song=river, upload=upload("river.mp3", audio_bytes(format="mp3")))
        html = text(staff.get(song_url(river)))
        assert (
            f'<audio controls preload="none" src="/audio/{audio.pk}/{audio.content_hash[:16]}.mp3" '
            f'aria-label="Play {audio.path}"></audio>'
        ) in html
        assert '<td class="field-kbps">' in html and '<label for="id_audio_upload">Add an audio file:</label>' in html

    def test_lyrics_come_from_the_files_tags_when_the_song_has_none(self, staff, river):
        data = audio_bytes(format="mp3", lyrics=PLAIN_LYRICS, synced_lyrics=SYNCED_LYRICS)
        staff.post(song_url(river), song_form(river, audio_upload=upload("river.mp3", data)))
        river.refresh_from_db()
        assert river.lyrics == PLAIN_LYRICS
        assert river.synced_lyrics == [[ms, line] for ms, line in SYNCED_LYRICS]

    def test_lyrics_the_song_has_are_kept(self, staff, river):
        river.lyrics = "Our own words"
        river.save()
        data = audio_bytes(format="flac", lyrics="The file's words")
        staff.post(song_url(river), song_form(river, audio_upload=upload("river.flac", data)))
        river.refresh_from_db()
        assert (river.lyrics, river.synced_lyrics, river.is_playable) == ("Our own words", None, True)

    def test_the_song_plays_the_best_of_its_files(self, staff, river):
        staff.post(song_url(river), song_form(river, audio_upload=upload("river.mp3", audio_bytes(format="mp3"))))
        staff.post(song_url(river), song_form(river, audio_upload=upload("river.flac", audio_bytes(format="flac"))))
        river.refresh_from_db()
        assert sorted(AudioFile.objects.values_list("format", flat=True)) == ["flac", "mp3"]
        assert river.audio.format == "flac"  # lossless first

    @pytest.mark.parametrize(
        ("name", "data", "error"),
        [
            ("noise.mp3", bytes(range(256)) * 40, "not audio: the bytes are not MP3, FLAC, Ogg, MP4 or WAV"),
            ("really-flac.mp3", audio_bytes(format="flac"), "named .mp3 but the bytes are FLAC"),
            ("half.flac", audio_bytes(format="flac", seconds=2.0)[:20_000], "truncated or corrupt: "),
            ("cover.mp3", make_cover(), "not audio: "),
        ],
    )
    def test_a_file_that_is_not_playable_audio_is_a_form_error_naming_why_and_nothing_is_stored(
        self, staff, river, settings, name, data, error
    ):
        response = staff.post(song_url(river), song_form(river, audio_upload=upload(name, data)))
        assert response.status_code == HTTPStatus.OK
        (message,) = form_errors(response, "audio_upload")
        assert message.startswith(f"This is not an audio file the site can play: {error}")
        assert not AudioFile.objects.exists() and not Song.objects.get(pk=river.pk).is_playable
        assert stored_files(settings) == []

    @pytest.mark.parametrize("name", ["notes.txt", "river", "river.aiff"])
    def test_a_file_not_named_as_audio_is_refused_before_it_is_read(self, staff, river, settings, name):
        response = staff.post(song_url(river), song_form(river, audio_upload=upload(name, audio_bytes(format="wav"))))
        assert form_errors(response, "audio_upload") == [
            f"“{name}” is not named as an audio file the site plays: expected a name ending in "
            ".mp3, .flac, .ogg, .oga, .opus, .m4a, .mp4, .wav."
        ]
        assert not AudioFile.objects.exists() and stored_files(settings) == []

    def test_a_file_over_the_audio_limit_is_refused_with_its_size(self, staff, river, settings):
        settings.AUDIO_UPLOAD_MAX_BYTES = 10_000
        response = staff.post(song_url(river), song_form(river, audio_upload=upload("river.mp3", audio_bytes(format="mp3"))))
        assert form_errors(response, "audio_upload") == [
            "The file is 17.6 KB (17,598 bytes); the limit is 10 KB."
        ]
        assert not AudioFile.objects.exists() and stored_files(settings) == []

    def test_the_same_bytes_twice_are_refused_naming_the_song_that_has_them(self, staff, river, settings):
        data = audio_bytes(format="mp3")
        uploads.song_attach_upload(song=river, upload=upload("river.mp3", data))
        other = make_song("Other", album=river.album)
        response = staff.post(song_url(other), song_form(other, audio_upload=upload("copy.mp3", data)))
        assert form_errors(response, "audio_upload") == ["This file is already attached to the song “River”."]
        assert AudioFile.objects.count() == 1 and len(stored_files(settings)) == 1

    def test_a_form_error_elsewhere_attaches_nothing_and_leaves_nothing(self, staff, river, settings):
        form = song_form(river, title="", audio_upload=upload("river.mp3", audio_bytes(format="mp3")))
        response = staff.post(song_url(river), form)
        assert form_errors(response, "title") == ["This field is required."]
        del response
        gc.collect()  # the form held the checked upload (in reference cycles): its temporary file goes with it
        assert not AudioFile.objects.exists() and stored_files(settings) == []

    def test_the_add_page_has_no_upload_field(self, staff):
        assert "audio_upload" not in text(staff.get(reverse("admin:SyroMusic_song_add")))

    def test_deleting_an_uploaded_file_removes_its_bytes_and_the_song_plays_what_is_left(
        self, staff, river, settings, django_capture_on_commit_callbacks
    ):
        mp3 = uploads.song_attach_upload(song=river, upload=upload("river.mp3", audio_bytes(format="mp3")))
        flac = uploads.song_attach_upload(song=river, upload=upload("river.flac", audio_bytes(format="flac")))
        assert Song.objects.get(pk=river.pk).audio == flac
        with django_capture_on_commit_callbacks(execute=True):
            response = staff.post(reverse("admin:SyroMusic_audiofile_delete", args=[flac.pk]), {"post": "yes"})
        assert response.status_code == HTTPStatus.FOUND
        assert Song.objects.get(pk=river.pk).audio == mp3
        assert stored_files(settings) == [str(Path(mp3.path).relative_to(settings.MEDIA_ROOT))]


class TestCoverUploads:
    def test_an_uploaded_cover_is_stored_in_every_size_and_shown(self, staff, settings):
        album = make_album("Blue", cover_url="https://images.example/blue.jpg")
        data = make_cover((30, 60, 200), (700, 700), "JPEG")
        response = staff.post(album_url(album), album_form(album, cover_upload=upload("blue.jpg", data)))
        assert response.status_code == HTTPStatus.FOUND, form_errors(response, "cover_upload")
        content_hash = hashlib.sha256(data).hexdigest()
        album.refresh_from_db()
        assert (album.cover_hash, album.cover_url) == (content_hash, "https://images.example/blue.jpg")
        shard = f"covers/{content_hash[:2]}/{content_hash}"
        assert stored_files(settings) == [shard, f"{shard}-300.webp", f"{shard}-600.webp", f"{shard}-64.webp"]
        html = text(staff.get(album_url(album)))
        assert f'<img src="/media/{shard}-300.webp" width="150" height="150" alt="The current cover">' in html
        assert f'src="/media/{shard}-600.webp"' in text(staff.get(album.get_absolute_url()))

    @pytest.mark.parametrize(
        ("name", "data"), [("blue.jpg", b"not an image at all"), ("blue.png", make_cover(format="PNG")[:200])]
    )
    def test_bytes_that_are_not_a_whole_image_are_refused_and_nothing_is_stored(self, staff, settings, name, data):
        album = make_album("Blue")
        response = staff.post(album_url(album), album_form(album, cover_upload=upload(name, data)))
        (message,) = form_errors(response, "cover_upload")
        assert message.startswith("This is not an image the site can use: ")
        album.refresh_from_db()
        assert album.cover_hash == "" and stored_files(settings) == []

    def test_a_cover_over_the_limit_is_refused_with_its_size(self, staff, settings):
        settings.COVER_UPLOAD_MAX_BYTES = 1000
        album = make_album("Blue")
        response = staff.post(album_url(album), album_form(album, cover_upload=upload("blue.png", make_cover())))
        assert form_errors(response, "cover_upload") == [
            "The image is 1.6 KB (1,554 bytes); the limit is 1 KB."
        ]
        assert stored_files(settings) == []

    def test_album_set_cover_is_the_same_in_one_call(self, settings):
        album = make_album("Blue")
        content_hash = uploads.album_set_cover(album=album, upload=upload("blue.png", make_cover()))
        album.refresh_from_db()
        assert album.cover_hash == content_hash == hashlib.sha256(make_cover()).hexdigest()


class TestWhoMayUpload:
    @pytest.mark.parametrize("who", ["anonymous", "listener", "staff without the permission"])
    def test_only_staff_who_may_change_the_song_can_upload(self, river, settings, who):
        user = {"anonymous": None, "listener": make_user("bob"), "staff without the permission": make_user("eve", is_staff=True)}[who]
        client = logged_in(user)
        response = client.post(song_url(river), song_form(river, audio_upload=upload("river.mp3", audio_bytes(format="mp3"))))
        if user is None or not user.is_staff:
            assert response.status_code == HTTPStatus.FOUND and response["Location"].startswith("/admin/login/")
        else:
            assert response.status_code == HTTPStatus.FORBIDDEN
        assert not AudioFile.objects.exists() and stored_files(settings) == []


class TestBodyLimit:
    """MAX_REQUEST_BYTES (here 20,000) holds everywhere but on the two upload pages, for staff who may change
    what the page edits, up to the upload's own limit."""

    @pytest.fixture(autouse=True)
    def small_limit(self, settings):
        settings.MAX_REQUEST_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000

    @pytest.fixture
    def flac(self):
        return audio_bytes(format="flac", seconds=1.0)  # 34,816 bytes: over the general limit

    def test_staff_may_upload_audio_over_the_general_limit_to_a_song(self, staff, river, flac):
        response = staff.post(song_url(river), song_form(river, audio_upload=upload("river.flac", flac)))
        assert response.status_code == HTTPStatus.FOUND
        assert Song.objects.get(pk=river.pk).is_playable

    def test_staff_may_upload_a_cover_over_the_general_limit_to_an_album(self, staff, settings):
        album = make_album("Blue")
        big = make_cover((10, 120, 90), (1500, 1500), "JPEG")  # 41,649 bytes
        response = staff.post(album_url(album), album_form(album, cover_upload=upload("blue.jpg", big)))
        assert response.status_code == HTTPStatus.FOUND
        album.refresh_from_db()
        assert album.cover_hash == hashlib.sha256(big).hexdigest()

    @pytest.mark.parametrize("who", ["anonymous", "listener", "staff without the permission"])
    def test_anyone_else_sending_that_much_there_is_refused_before_it_is_read(self, river, flac, settings, who):
        user = {"anonymous": None, "listener": make_user("bob"), "staff without the permission": make_user("eve", is_staff=True)}[who]
        response = logged_in(user).post(song_url(river), song_form(river, audio_upload=upload("river.flac", flac)))
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        assert text(response).startswith("The request body is ") and text(response).endswith("; the limit is 20,000.")
        assert stored_files(settings) == []

    def test_staff_with_the_permission_only_are_let_through(self, river, flac):
        editor = make_user("editor", is_staff=True)
        editor.user_permissions.add(*Permission.objects.filter(codename__in=["view_song", "change_song"]))
        response = logged_in(editor).post(song_url(river), song_form(river, audio_upload=upload("river.flac", flac)))
        assert response.status_code == HTTPStatus.FOUND
        assert Song.objects.get(pk=river.pk).is_playable

    @pytest.mark.parametrize(
        "url",
        [
            lambda song: reverse("admin:SyroMusic_song_add"),
            lambda song: reverse("admin:SyroMusic_artist_change", args=[song.artist_id]),
            lambda song: reverse("admin:SyroMusic_song_delete", args=[song.pk]),
            lambda song: song.get_absolute_url(),
            lambda song: "/api/v1/playlists/import/",
        ],
    )
    def test_staff_sending_that_much_anywhere_else_are_refused(self, staff, river, flac, url):
        response = staff.post(url(river), song_form(river, audio_upload=upload("river.flac", flac)))
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        assert "the limit is 20,000." in text(response)

    def test_staff_are_held_to_the_general_limit_plus_the_uploads_own(self, staff, river, settings, flac):
        settings.AUDIO_UPLOAD_MAX_BYTES = 10_000
        response = staff.post(song_url(river), song_form(river, audio_upload=upload("river.flac", flac)))
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        assert "the limit is 30,000." in text(response)


class TestAudioFileAdmin:
    @pytest.fixture
    def files(self, river):
        other = make_song("Rivers of Babylon", album=river.album)
        files = give_audio(river, other, format="mp3", codec="mp3", bitrate=192_000)
        AudioFile.objects.filter(pk=files[1].pk).update(missing_since=timezone.now())
        return files

    def test_staff_find_missing_files_by_filter_and_search_by_path_or_title(self, staff, files):
        url = reverse("admin:SyroMusic_audiofile_changelist")
        songs = lambda query: re.findall(r'<th class="field-song nowrap"><a href="[^"]*">([^<]*)</a>', text(staff.get(url + query)))
        assert songs("?missing=yes") == ["Rivers of Babylon"]
        assert songs("?missing=no") == ["River"]
        assert songs(f"?q={files[0].path}") == ["River"]
        assert songs("?q=babylon") == ["Rivers of Babylon"]
        assert songs("?format__exact=flac") == []
        row = text(staff.get(url + "?missing=no"))
        assert '<td class="field-kbps">192 kbps</td>' in row and '<td class="field-duration">3:25</td>' in row

    def test_a_missing_file_says_since_when_instead_of_a_player(self, staff, files):
        html = text(staff.get(reverse("admin:SyroMusic_audiofile_change", args=[files[1].pk])))
        assert "Missing since " in html and "<audio" not in html

    @pytest.mark.parametrize("url", ["changelist", "song change page"])
    def test_its_pages_run_the_same_queries_for_2_or_40_files(self, staff, river, django_assert_num_queries, url):
        def address():
            if url == "changelist":
                return reverse("admin:SyroMusic_audiofile_changelist")
            return song_url(river)

        def add_files(count):
            for n in range(count):
                AudioFile.objects.create(
                    song=river, path=f"/music/river-{AudioFile.objects.count()}.mp3", format="mp3", codec="mp3",
                    bitrate=128_000 + n, sample_rate=44_100, channels=2, duration_ms=1000, size=1, mtime_ns=0,
                    content_hash=f"{n:064x}",
                )

        add_files(2)
        staff.get(address())  # the session is in the cache from now on
        with CaptureQueriesContext(connection) as few:
            staff.get(address())
        add_files(38)
        with django_assert_num_queries(len(few.captured_queries)):
            html = text(staff.get(address()))
        assert html.count('<td class="field-path">' if url == "changelist" else "<audio controls") == 40
