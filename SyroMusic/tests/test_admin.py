import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from SyroMusic.models import Playlist, PlaylistEntry, Song

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_genre, make_playlist, make_song, make_user, seed_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(django_user_model):
    return logged_in(django_user_model.objects.create_superuser("root", "root@example.com", "correct horse battery"))


MODELS = [
    "genre", "artist", "album", "song", "playlist", "playlistentry", "collaborator", "share", "profile", "follow",
    "searchhistory", "audiofile",
]
# Files come from a scan or the song page's upload field: no add page.
NOT_ADDED_HERE = {"audiofile"}


def make_collaboration():
    from SyroMusic.models import Collaborator, Follow, Profile, SearchHistory, Share

    owner, friend = make_user("owner"), make_user("friend")
    playlist = Playlist.objects.get(pk=2)
    Collaborator.objects.create(playlist=playlist, user=friend, level="edit")
    Share.objects.create(playlist=playlist, sender=owner, recipient=friend, message="hi")
    Profile.objects.create(user=owner, bio="bio")
    Follow.objects.create(follower=friend, followed=owner)
    SearchHistory.objects.create(user=friend, query="Beatles", key="beatles", kind="artist")
    give_audio(Song.objects.get(pk=1))


@pytest.mark.parametrize("model", MODELS)
def test_every_admin_page_renders(staff_client, model):
    seed_catalogue(200)
    make_collaboration()
    obj_id = {"playlist": 2, "playlistentry": 1}.get(model) or apps_model(model).objects.values_list("pk", flat=True).first()
    for url in (
        reverse(f"admin:SyroMusic_{model}_changelist"),
        reverse(f"admin:SyroMusic_{model}_changelist") + "?q=a",
        reverse(f"admin:SyroMusic_{model}_add"),
        reverse(f"admin:SyroMusic_{model}_change", args=[obj_id]),
    ):
        expected = HTTPStatus.FORBIDDEN if model in NOT_ADDED_HERE and url.endswith("/add/") else HTTPStatus.OK
        assert staff_client.get(url).status_code == expected, url


def apps_model(name):
    from django.apps import apps

    return apps.get_model("SyroMusic", name)


def test_admin_pages_need_a_staff_login(client):
    response = client.get(reverse("admin:SyroMusic_song_changelist"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


# User, count, full count, page of songs, genres for the filter (the session comes from the cache).
SONG_CHANGELIST_QUERIES = 5


@pytest.mark.parametrize("songs", [100, 10_000])
def test_the_song_changelist_runs_the_same_queries_at_100_and_10000_songs(staff_client, django_assert_num_queries, songs):
    seed_catalogue(songs)
    assert Song.objects.count() == songs
    with django_assert_num_queries(SONG_CHANGELIST_QUERIES):
        response = staff_client.get(reverse("admin:SyroMusic_song_changelist"))
    assert response.status_code == HTTPStatus.OK
    assert f"{songs} songs" in response.content.decode()


@pytest.mark.parametrize("model", ["artist", "album", "playlist", "playlistentry"])
def test_other_changelists_do_not_grow_with_the_catalogue(staff_client, django_assert_num_queries, model):
    url = reverse(f"admin:SyroMusic_{model}_changelist")
    seed_catalogue(300)
    with CaptureQueriesContext(connection) as small:
        staff_client.get(url)
    seed_catalogue(5000, flush=True)
    with django_assert_num_queries(len(small.captured_queries)):
        staff_client.get(url)


def test_the_album_page_lists_its_songs_in_tracklist_order_in_constant_queries(staff_client, django_assert_num_queries):
    genre = make_genre("Jazz")
    small, big = make_album(), make_album()
    for album, count in ((small, 2), (big, 60)):
        for track in range(count, 0, -1):
            make_song(f"Track {track}", album=album, track_number=track, genre=genre)
    with CaptureQueriesContext(connection) as baseline:
        staff_client.get(reverse("admin:SyroMusic_album_change", args=[small.pk]))
    with django_assert_num_queries(len(baseline.captured_queries)):
        response = staff_client.get(reverse("admin:SyroMusic_album_change", args=[big.pk]))
    titles = re.findall(r'name="songs-\d+-title" value="([^"]*)"', response.content.decode())
    assert titles == [f"Track {n}" for n in range(1, 61)]


def test_the_playlist_page_lists_entries_by_position_in_constant_queries(staff_client, django_assert_num_queries):
    songs = [make_song(f"Song {n}") for n in range(1, 41)]
    small = make_playlist(songs=songs[:2])
    big = make_playlist(songs=list(reversed(songs)))
    with CaptureQueriesContext(connection) as baseline:
        staff_client.get(reverse("admin:SyroMusic_playlist_change", args=[small.pk]))
    with django_assert_num_queries(len(baseline.captured_queries)):
        response = staff_client.get(reverse("admin:SyroMusic_playlist_change", args=[big.pk]))
    songs_shown = re.findall(r'<td class="field-song_title">\s*<p>([^<]*)</p>', response.content.decode())
    assert songs_shown == [f"Song {n}" for n in range(40, 20, -1)]  # the first ENTRIES_SHOWN (20)


def test_songs_added_inline_on_an_album_belong_to_its_artist(staff_client):
    album = make_album("Blue")
    url = reverse("admin:SyroMusic_album_change", args=[album.pk])
    form = {
        "title": "Blue", "slug": album.slug, "artist": album.artist_id, "album_type": "album", "label": "",
        "cover_url": "", "release_date": "",
        "songs-TOTAL_FORMS": "1", "songs-INITIAL_FORMS": "0", "songs-MIN_NUM_FORMS": "0", "songs-MAX_NUM_FORMS": "1000",
        "songs-0-disc_number": "1", "songs-0-track_number": "1", "songs-0-title": "River", "songs-0-duration_ms": "4:00",
    }
    response = staff_client.post(url, form)
    assert response.status_code == HTTPStatus.FOUND, response.context["errors"] if response.context else response
    song = album.songs.get()
    assert (song.title, song.artist_id) == ("River", album.artist_id)


def test_entries_added_in_the_admin_record_who_added_them(staff_client):
    playlist = make_playlist(owner=make_user("alice"), songs=[make_song()])
    song = make_song("New one")
    form = {
        "owner": playlist.owner_id, "name": playlist.name, "description": "",
        "entries-TOTAL_FORMS": "1", "entries-INITIAL_FORMS": "1", "entries-MIN_NUM_FORMS": "0", "entries-MAX_NUM_FORMS": "1000",
        "entries-0-id": playlist.entries.get().pk, "entries-0-playlist": playlist.pk, "entries-0-position": "1",
        "entries-2-TOTAL_FORMS": "1", "entries-2-INITIAL_FORMS": "0", "entries-2-MIN_NUM_FORMS": "0", "entries-2-MAX_NUM_FORMS": "1000",
        "entries-2-0-position": "2", "entries-2-0-song": song.pk,
    }
    response = staff_client.post(reverse("admin:SyroMusic_playlist_change", args=[playlist.pk]), form)
    assert response.status_code == HTTPStatus.FOUND
    entry = PlaylistEntry.objects.get(song=song)
    assert (entry.position, entry.added_by.username) == (2, "root")


def test_a_duplicate_track_is_reported_in_the_admin_not_a_500(staff_client):
    song = make_song(track_number=1)
    response = staff_client.post(
        reverse("admin:SyroMusic_song_add"),
        {"title": "Again", "album": song.album_id, "artist": song.artist_id, "disc_number": 1, "track_number": 1,
         "popularity": 0},
    )
    assert response.status_code == HTTPStatus.OK
    assert "Song with this Album, Disc number and Track number already exists." in response.content.decode()
    assert Song.objects.count() == 1


def test_the_search_finds_songs_by_artist_and_album(staff_client):
    make_song("River", album=make_album("Blue"))
    make_song("Other")
    response = staff_client.get(reverse("admin:SyroMusic_song_changelist") + "?q=Blue")
    assert "1 result" in response.content.decode()
