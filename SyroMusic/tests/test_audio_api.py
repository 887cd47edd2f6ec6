"""What the API tells a client of the audio: where to stream a song and what its file is, album covers
in their sizes, lyrics and waveforms; in a fixed number of queries, cached until the catalogue changes."""

import json
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from SyroMusic.library.uploads import song_attach_upload
from SyroMusic.models import Song

from .audio_files import SYNCED_LYRICS, audio_bytes
from .audio_rows import give_audio
from .factories import make_album, make_artist, make_song, seed_catalogue

pytestmark = pytest.mark.django_db

BASE = "http://testserver"
COVER = "c0" * 32


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def river():
    album = make_album("Blue", artist=make_artist("Joni Mitchell"), release_date="1971-06-22")
    return make_song("River", album=album, track_number=4, duration_ms=244_000)


def problem(response):
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()


def upload(**options):
    return SimpleUploadedFile("river.flac", audio_bytes(format="flac", **options), content_type="audio/flac")


class TestSongs:
    def test_a_playable_song_says_so_where_to_stream_it_and_what_its_file_is(self, api, river):
        (audio,) = give_audio(river)
        body = api.get(f"/api/v1/songs/{river.pk}/").json()
        assert body["playable"] is True
        assert body["audio_url"] == f"{BASE}/audio/{audio.pk}/{river.pk:04x}5e5e5e5e5e5e.flac"
        assert body["audio"] == {
            "format": "flac", "codec": "flac", "bitrate": 1_411_200, "sample_rate": 44_100, "channels": 2,
            "duration_ms": 205_000, "size": 36_000_000,
        }

    def test_a_song_without_audio_says_so_with_nulls(self, api, river):
        body = api.get(f"/api/v1/songs/{river.pk}/").json()
        assert (body["playable"], body["audio_url"], body["audio"]) == (False, None, None)

    def test_every_song_list_carries_the_audio_fields(self, api, river):
        silent = make_song("Rivers of Babylon", album=river.album)
        give_audio(river)
        for url in ("/api/v1/songs/", f"/api/v1/albums/{river.album_id}/songs/", "/api/v1/search/?q=river&type=song"):
            rows = {song["title"]: song for song in api.get(url).json()["results"]}
            assert (rows["River"]["playable"], rows[silent.title]["playable"]) == (True, False), url
            assert rows["River"]["audio"]["format"] == "flac" and rows[silent.title]["audio_url"] is None, url

    @pytest.mark.django_db(transaction=True)  # the cache is marked stale when the attaching commits
    def test_an_attached_file_shows_at_once_in_cached_answers(self, api, river, django_assert_num_queries):
        url = f"/api/v1/songs/{river.pk}/"
        assert api.get(url).json()["playable"] is False
        with django_assert_num_queries(0):
            assert api.get(url).json()["playable"] is False  # from the cache
        audio = song_attach_upload(song=river, upload=upload())
        body = api.get(url).json()
        assert body["playable"] is True
        assert body["audio_url"] == f"{BASE}/audio/{audio.pk}/{audio.content_hash[:16]}.flac"
        assert body["audio"]["format"] == "flac" and body["audio"]["duration_ms"] == audio.duration_ms


class TestAlbumCovers:
    def test_an_album_with_its_own_cover_gives_each_size_and_keeps_its_cover_url(self, api):
        album = make_album("Blue", cover_hash=COVER, cover_url="https://images.example/blue.jpg")
        body = api.get(f"/api/v1/albums/{album.pk}/").json()
        base = f"{BASE}/media/covers/c0/{COVER}"
        assert body["cover"] == {"64": f"{base}-64.webp", "300": f"{base}-300.webp", "600": f"{base}-600.webp"}
        assert body["cover_url"] == "https://images.example/blue.jpg"

    def test_an_album_without_one_has_a_null_cover(self, api):
        album = make_album("Blue", cover_url="https://images.example/blue.jpg")
        body = api.get(f"/api/v1/albums/{album.pk}/").json()
        assert (body["cover"], body["cover_url"]) == (None, "https://images.example/blue.jpg")


class TestLyrics:
    def test_a_song_gives_its_plain_lyrics_and_its_timed_lines(self, api, river):
        river.lyrics = "It's coming on Christmas\nThey're cutting down trees"
        river.synced_lyrics = [[12_500, "It's coming on Christmas"], [75_250, "They're cutting down trees"]]
        river.save()
        assert api.get(f"/api/v1/songs/{river.pk}/lyrics/").json() == {
            "lyrics": "It's coming on Christmas\nThey're cutting down trees",
            "synced": [
                {"time_ms": 12_500, "text": "It's coming on Christmas"},
                {"time_ms": 75_250, "text": "They're cutting down trees"},
            ],
        }

    def test_plain_lyrics_alone_have_null_synced_lines(self, api, river):
        river.lyrics = "Oh, I wish I had a river"
        river.save()
        assert api.get(f"/api/v1/songs/{river.pk}/lyrics/").json() == {"lyrics": "Oh, I wish I had a river", "synced": None}

    def test_a_song_without_lyrics_answers_empty_lyrics_not_404(self, api, river):
        response = api.get(f"/api/v1/songs/{river.pk}/lyrics/")
        assert (response.status_code, response.json()) == (HTTPStatus.OK, {"lyrics": "", "synced": None})

    def test_lyrics_of_a_song_that_does_not_exist_are_a_404_problem(self, api):
        body = problem(api.get("/api/v1/songs/999999/lyrics/"))
        assert (body["status"], body["detail"]) == (404, "No Song matches the given query.")

    def test_lyrics_read_from_an_uploaded_file_are_served(self, api, river, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            song_attach_upload(song=river, upload=upload(lyrics="Première ligne", synced_lyrics=SYNCED_LYRICS))
        body = api.get(f"/api/v1/songs/{river.pk}/lyrics/").json()
        assert body["synced"] == [{"time_ms": ms, "text": line} for ms, line in SYNCED_LYRICS]


class TestWaveform:
    def test_a_playable_song_gives_its_files_peaks_and_length(self, api, river):
        audio = song_attach_upload(song=river, upload=upload(seconds=2.0))
        body = api.get(f"/api/v1/songs/{river.pk}/waveform/").json()
        assert body == {"peaks": list(audio.peaks), "duration_ms": audio.duration_ms}
        assert 100 <= len(body["peaks"]) <= 1000 and max(body["peaks"]) > 100  # a 2 s piece, at -3 dBFS
        assert 1990 <= body["duration_ms"] <= 2010

    def test_a_song_that_is_not_playable_has_no_waveform(self, api, river):
        body = problem(api.get(f"/api/v1/songs/{river.pk}/waveform/"))
        assert (body["status"], body["detail"]) == (404, "This song has no audio file, so no waveform.")

    def test_a_song_that_does_not_exist_has_none_either(self, api):
        assert problem(api.get("/api/v1/songs/999999/waveform/"))["status"] == 404


@pytest.mark.parametrize("songs", [300, 3000])
def test_every_list_and_audio_read_runs_a_fixed_number_of_queries_whatever_the_size(
    api, django_assert_num_queries, songs
):
    seed_catalogue(songs)
    give_audio(*Song.objects.all(), peaks=bytes(range(256)) * 4)
    Song.objects.filter(pk=1).update(lyrics="La la", synced_lyrics=[[0, "La la"]])
    reads = [
        ("/api/v1/songs/?page_size=100", 2),  # count, page (album, artists, genre and file joined)
        ("/api/v1/songs/?cursor=&page_size=100", 1),
        ("/api/v1/albums/2/songs/?page_size=100", 3),  # the album, count, page
        ("/api/v1/albums/?page_size=100", 3),  # count, page, genres of the page
        ("/api/v1/search/?q=the&type=song", 2),  # count, page of ranked matches (joined as lists are)
        ("/api/v1/songs/1/", 1),
        ("/api/v1/songs/1/lyrics/", 1),
        ("/api/v1/songs/1/waveform/", 1),
    ]
    for url, queries in reads:
        cache.clear()  # counts are remembered between requests: measure the cold cost
        with django_assert_num_queries(queries, info=url):
            response = api.get(url)
        assert response.status_code == HTTPStatus.OK, url
        if "songs/?" in url or "search" in url:
            assert all(song["playable"] for song in response.json()["results"]), url
    assert len(response.json()["peaks"]) == 1024


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    with django_db_blocker.unblock():
        call_command("spectacular", "--format", "openapi-json", "--file", str(path))
    return json.loads(path.read_text())


class TestSchema:
    def test_it_documents_the_song_audio_fields(self, schema):
        components = schema["components"]["schemas"]
        song = components["Song"]["properties"]
        assert song["playable"] == {"type": "boolean", "readOnly": True, "description": "The song has an audio file."}
        assert (song["audio_url"]["type"], song["audio_url"]["format"], song["audio_url"]["nullable"]) == ("string", "uri", True)
        assert song["audio"]["allOf"] == [{"$ref": "#/components/schemas/AudioFacts"}] and song["audio"]["nullable"]
        assert list(components["AudioFacts"]["properties"]) == [
            "format", "codec", "bitrate", "sample_rate", "channels", "duration_ms", "size"
        ]
        assert components["AudioFormatEnum"]["enum"] == ["mp3", "flac", "ogg", "opus", "m4a", "wav"]

    def test_it_documents_album_covers_by_size(self, schema):
        components = schema["components"]["schemas"]
        cover = components["Album"]["properties"]["cover"]
        assert cover["allOf"] == [{"$ref": "#/components/schemas/AlbumCover"}] and cover["nullable"]
        assert sorted(components["AlbumCover"]["properties"], key=int) == ["64", "300", "600"]

    @pytest.mark.parametrize(("path", "component"), [("lyrics", "Lyrics"), ("waveform", "Waveform")])
    def test_it_documents_the_lyrics_and_waveform_endpoints_and_their_404(self, schema, path, component):
        operation = schema["paths"][f"/api/v1/songs/{{id}}/{path}/"]["get"]
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{component}"}
        assert operation["responses"]["404"]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
        assert [parameter["name"] for parameter in operation.get("parameters", [])] == ["id"]
