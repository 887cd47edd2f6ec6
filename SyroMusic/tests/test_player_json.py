"""The player's JSON (views/player.py): the tracks of a list (ids, album, artist, playlist, liked songs) and the
details of the song playing. Exact answers, fixed query counts, the playlist page's visibility rule, and a
400 that says what was wrong for every bad request (never a 500)."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from SyroMusic.models import Collaborator, PlayQueue
from SyroMusic.services import like_set

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_artist, make_playlist, make_song

pytestmark = pytest.mark.django_db

TRACKS = reverse("music:player-tracks")
COVER_HASH = "ab" * 32


def track_url(song_id):
    return reverse("music:player-track", args=[song_id])


def ids_of(response):
    assert response.status_code == HTTPStatus.OK, response.content
    return [track["id"] for track in response.json()["tracks"]]


def detail(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()["detail"]


@pytest.fixture
def blue():
    """An album of three tracks (given out of order), two of them playable, and a cover of its own."""
    joni = make_artist("Joni Mitchell")
    album = make_album("Blue", artist=joni, cover_hash=COVER_HASH)
    river = make_song("River", album=album, track_number=3, duration_ms=240_000, popularity=90)
    all_i_want = make_song("All I Want", album=album, track_number=1, duration_ms=214_000, popularity=50)
    my_old_man = make_song("My Old Man", album=album, track_number=2, duration_ms=215_000, popularity=70)
    give_audio(river, all_i_want)
    for song in (river, all_i_want, my_old_man):
        song.refresh_from_db()
    return album, river, all_i_want, my_old_man


class TestTrack:
    def test_a_track_says_everything_the_player_shows(self, client, blue):
        album, river, _, _ = blue
        response = client.get(f"{TRACKS}?ids={river.pk}")
        assert response.json() == {"tracks": [{
            "id": river.pk,
            "title": "River",
            "url": f"/music/songs/{river.pk}/",
            "artist": "Joni Mitchell",
            "artist_url": f"/music/artists/{album.artist.pk}/",
            "album": "Blue",
            "album_url": f"/music/albums/{album.pk}/",
            "cover": f"/media/covers/ab/{COVER_HASH}-64.webp",
            "artwork": f"/media/covers/ab/{COVER_HASH}-600.webp",
            "duration_ms": 240_000,
            "audio": river.audio.get_absolute_url(),
        }]}

    def test_a_song_without_audio_has_no_audio_url(self, client, blue):
        _, _, _, my_old_man = blue
        assert client.get(f"{TRACKS}?ids={my_old_man.pk}").json()["tracks"][0]["audio"] is None

    def test_an_album_without_its_own_cover_shows_the_one_it_links_to_or_none(self, client):
        linked = make_song(album=make_album(cover_url="https://images.example/blue.jpg"))
        bare = make_song()
        tracks = client.get(f"{TRACKS}?ids={linked.pk},{bare.pk}").json()["tracks"]
        assert [(t["cover"], t["artwork"]) for t in tracks] == [
            ("https://images.example/blue.jpg", "https://images.example/blue.jpg"), (None, None),
        ]

    def test_a_compilation_track_names_its_own_artist(self, client):
        album = make_album("Hits", artist=make_artist("Various Artists"), album_type="compilation")
        song = make_song("Roygbiv", album=album, artist=make_artist("Boards of Canada"))
        track = client.get(f"{TRACKS}?ids={song.pk}").json()["tracks"][0]
        assert (track["artist"], track["artist_url"], track["album"]) == (
            "Boards of Canada", f"/music/artists/{song.artist_id}/", "Hits",
        )


class TestIds:
    def test_order_and_repeats_are_kept_and_unknown_ids_dropped(self, client, blue):
        _, river, all_i_want, my_old_man = blue
        asked = [river.pk, 999_999, all_i_want.pk, river.pk, my_old_man.pk, 0]
        response = client.get(f"{TRACKS}?ids={','.join(map(str, asked))}")
        assert ids_of(response) == [river.pk, all_i_want.pk, river.pk, my_old_man.pk]

    def test_spaces_around_ids_are_forgiven(self, client, blue):
        _, river, all_i_want, _ = blue
        assert ids_of(client.get(f"{TRACKS}?ids= {river.pk} , {all_i_want.pk}")) == [river.pk, all_i_want.pk]

    def test_only_unknown_ids_give_no_tracks(self, client):
        assert ids_of(client.get(f"{TRACKS}?ids=123456789012345678")) == []

    def test_a_whole_queue_of_ids_is_answered(self, client, blue):
        _, river, _, _ = blue
        ids = ",".join([str(river.pk)] * PlayQueue.MAX_SONGS)
        assert ids_of(client.get(f"{TRACKS}?ids={ids}")) == [river.pk] * PlayQueue.MAX_SONGS


class TestLists:
    def test_an_album_plays_in_tracklist_order(self, client, blue):
        album, river, all_i_want, my_old_man = blue
        assert ids_of(client.get(f"{TRACKS}?album={album.pk}")) == [all_i_want.pk, my_old_man.pk, river.pk]

    def test_an_album_on_two_discs_plays_disc_one_first(self, client):
        album = make_album()
        second = make_song("B", album=album, disc_number=2, track_number=1)
        first = make_song("A", album=album, disc_number=1, track_number=5)
        assert ids_of(client.get(f"{TRACKS}?album={album.pk}")) == [first.pk, second.pk]

    def test_an_artist_plays_their_songs_most_popular_first(self, client, blue):
        album, river, all_i_want, my_old_man = blue
        featured = make_song("Guest", album=make_album(), artist=album.artist, popularity=80)
        response = client.get(f"{TRACKS}?artist={album.artist.pk}")
        assert ids_of(response) == [river.pk, featured.pk, my_old_man.pk, all_i_want.pk]

    @pytest.mark.parametrize("kind", ["artist", "playlist", "liked"])
    def test_a_long_list_gives_at_most_a_queue_of_songs(self, kind, alice, monkeypatch):
        monkeypatch.setattr(PlayQueue, "MAX_SONGS", 2)
        album = make_album()
        songs = [make_song(album=album, popularity=n) for n in range(3)]
        playlist = make_playlist(alice, songs=songs)
        for song in songs:
            like_set(user=alice, thing=song, liked=True)
        value = {"artist": album.artist.pk, "playlist": playlist.pk, "liked": 1}[kind]
        expected = {"artist": songs[:0:-1], "playlist": songs[:2], "liked": songs[:0:-1]}[kind]
        assert ids_of(logged_in(alice).get(f"{TRACKS}?{kind}={value}")) == [song.pk for song in expected]

    def test_an_empty_album_or_artist_has_no_tracks(self, client):
        album = make_album()
        assert ids_of(client.get(f"{TRACKS}?album={album.pk}")) == []
        assert ids_of(client.get(f"{TRACKS}?artist={album.artist.pk}")) == []

    @pytest.mark.parametrize("kind", ["album", "artist", "playlist"])
    def test_an_unknown_list_is_a_404(self, client, kind):
        assert detail(client.get(f"{TRACKS}?{kind}=999999"), HTTPStatus.NOT_FOUND).startswith("There is no ")

    def test_a_playlist_plays_in_its_order_with_its_repeats(self, client, blue, alice):
        _, river, all_i_want, my_old_man = blue
        playlist = make_playlist(alice, songs=[my_old_man, river, all_i_want, river], is_public=True)
        assert ids_of(client.get(f"{TRACKS}?playlist={playlist.pk}")) == [
            my_old_man.pk, river.pk, all_i_want.pk, river.pk,
        ]

    def test_liked_songs_play_the_latest_liked_first(self, blue, alice):
        _, river, all_i_want, my_old_man = blue
        for song in (all_i_want, river, my_old_man):
            like_set(user=alice, thing=song, liked=True)
        assert ids_of(logged_in(alice).get(f"{TRACKS}?liked=1")) == [my_old_man.pk, river.pk, all_i_want.pk]


class TestPrivacy:
    """Alice owns the playlists, Bob collaborates on the private one, Charlie is a stranger."""

    @pytest.fixture
    def private(self, alice, bob, blue):
        _, river, _, _ = blue
        playlist = make_playlist(alice, songs=[river], is_public=False)
        Collaborator.objects.create(playlist=playlist, user=bob, level=Collaborator.Level.VIEW)
        return playlist

    @pytest.mark.parametrize(("who", "status"), [
        ("alice", HTTPStatus.OK), ("bob", HTTPStatus.OK), ("charlie", HTTPStatus.NOT_FOUND), (None, HTTPStatus.NOT_FOUND),
    ])
    def test_a_private_playlist_answers_whoever_may_see_its_page(self, request, private, who, status):
        client = logged_in(request.getfixturevalue(who) if who else None)
        page = client.get(private.get_absolute_url())
        tracks = client.get(f"{TRACKS}?playlist={private.pk}")
        assert (page.status_code, tracks.status_code) == (status, status)
        assert tracks["Cache-Control"] == "private"

    def test_a_private_playlist_is_not_told_from_a_missing_one(self, client, private):
        assert detail(client.get(f"{TRACKS}?playlist={private.pk}"), 404) == (
            f"There is no playlist {private.pk} you may see."
        )

    def test_liked_songs_are_a_404_for_anonymous_visitors(self, client):
        assert detail(client.get(f"{TRACKS}?liked=1"), HTTPStatus.NOT_FOUND) == "Log in to play the songs you like."

    def test_each_listener_gets_their_own_liked_songs(self, alice, bob, blue):
        _, river, all_i_want, _ = blue
        like_set(user=alice, thing=river, liked=True)
        like_set(user=bob, thing=all_i_want, liked=True)
        assert ids_of(logged_in(alice).get(f"{TRACKS}?liked=1")) == [river.pk]
        response = logged_in(bob).get(f"{TRACKS}?liked=1")
        assert ids_of(response) == [all_i_want.pk]
        assert response["Cache-Control"] == "private"

    def test_a_logged_in_listeners_catalogue_answer_is_private(self, alice, blue):
        album, _, _, _ = blue
        assert logged_in(alice).get(f"{TRACKS}?album={album.pk}")["Cache-Control"] == "private"



# The catalogue's version moves when a write commits, so this test commits for real.
@pytest.mark.django_db(transaction=True)
class TestSharedAnswers:
    def test_anonymous_visitors_share_a_catalogue_answer_until_the_catalogue_changes(
        self, client, blue, django_assert_num_queries
    ):
        album, _, _, _ = blue
        url = f"{TRACKS}?album={album.pk}"
        first = client.get(url)
        with django_assert_num_queries(0):
            again = client.get(url)
        assert again.content == first.content
        make_song("Blue", album=album, track_number=4)
        assert len(ids_of(client.get(url))) == 4


class TestBadRequests:
    @pytest.mark.parametrize(("query", "message"), [
        ("", "Say which songs: one of ids, album, artist, playlist, liked (e.g. ?album=5)."),
        ("?shuffle=1", "Say which songs: one of ids, album, artist, playlist, liked (e.g. ?album=5)."),
        ("?album=1&ids=2", "Give one of ids, album, artist, playlist, liked, not several (this request gives ids, album)."),
        ("?liked=1&playlist=3", "Give one of ids, album, artist, playlist, liked, not several (this request gives playlist, liked)."),
        ("?album=1&album=2", "Give album once, not 2 times."),
        ("?ids=", "ids is empty: give song ids separated by commas, e.g. ids=3,1,3."),
        ("?ids=3,x", "Each of ids must be an id (a whole number of at most 18 digits), not 'x'."),
        ("?ids=3,,4", "Each of ids must be an id (a whole number of at most 18 digits), not ''."),
        ("?ids=3,", "Each of ids must be an id (a whole number of at most 18 digits), not ''."),
        ("?ids=-3", "Each of ids must be an id (a whole number of at most 18 digits), not '-3'."),
        ("?ids=1.5", "Each of ids must be an id (a whole number of at most 18 digits), not '1.5'."),
        ("?ids=1234567890123456789", "Each of ids must be an id (a whole number of at most 18 digits), not '1234567890123456789'."),
        ("?album=blue", "album must be an id (a whole number of at most 18 digits), not 'blue'."),
        ("?artist=", "artist must be an id (a whole number of at most 18 digits), not ''."),
        ("?playlist=%EF%BC%91", "playlist must be an id (a whole number of at most 18 digits), not '１'."),
        ("?liked=yes", "liked must be 1, not 'yes'."),
    ])
    def test_a_bad_request_says_what_was_wrong(self, client, query, message):
        assert detail(client.get(TRACKS + query), HTTPStatus.BAD_REQUEST) == message

    def test_more_ids_than_a_queue_holds_are_refused(self, client):
        ids = ",".join(["1"] * (PlayQueue.MAX_SONGS + 1))
        assert detail(client.get(f"{TRACKS}?ids={ids}"), HTTPStatus.BAD_REQUEST) == (
            "ids holds at most 1,000 song ids; this one has 1,001."
        )

    def test_a_long_bad_value_is_quoted_short(self, client):
        message = detail(client.get(f"{TRACKS}?album={'x' * 5000}"), HTTPStatus.BAD_REQUEST)
        assert message == f"album must be an id (a whole number of at most 18 digits), not {'x' * 40!r}."

    def test_the_largest_id_is_an_unknown_song_not_an_error(self, client, alice):
        big = "9" * 18
        for query in (f"ids={big}", f"album={big}", f"artist={big}", f"playlist={big}"):
            response = client.get(f"{TRACKS}?{query}")
            assert response.status_code in (HTTPStatus.OK, HTTPStatus.NOT_FOUND), query
        assert client.get(track_url(int(big))).status_code == HTTPStatus.NOT_FOUND

    def test_only_reads_are_allowed(self, client):
        assert client.post(f"{TRACKS}?ids=1").status_code == HTTPStatus.METHOD_NOT_ALLOWED


class TestQueries:
    @pytest.fixture(params=[2, 30])
    def catalogue(self, request, alice):
        artist = make_artist()
        albums = [make_album(artist=artist, cover_hash=COVER_HASH), make_album(artist=artist)]
        songs = [make_song(album=albums[n % 2], artist=artist, popularity=n) for n in range(request.param)]
        give_audio(*songs[::2])
        playlist = make_playlist(alice, songs=songs + songs[:1], is_public=True)
        for song in songs:
            like_set(user=alice, thing=song, liked=True)
        return artist, albums[0], playlist, songs

    def test_each_list_takes_the_same_queries_at_any_size(self, catalogue, alice, django_assert_num_queries):
        artist, album, playlist, songs = catalogue
        anonymous, listener = logged_in(None), logged_in(alice)
        ids = ",".join(str(song.pk) for song in songs + songs)
        # The songs with album, artists and file joined; a playlist first looks itself up (the visibility
        # rule). A listener's user costs one more (sessions live in the cache).
        cases = [
            (anonymous, f"ids={ids}", 1), (anonymous, f"album={album.pk}", 1), (anonymous, f"artist={artist.pk}", 1),
            (anonymous, f"playlist={playlist.pk}", 2), (listener, f"playlist={playlist.pk}", 3),
            (listener, "liked=1", 2), (listener, f"ids={ids}", 2),
        ]
        for client, query, queries in cases:
            with django_assert_num_queries(queries):
                response = client.get(f"{TRACKS}?{query}")
            assert response.status_code == HTTPStatus.OK, query
        assert len(response.json()["tracks"]) == 2 * len(songs)

    def test_the_details_take_one_query(self, catalogue, alice, django_assert_num_queries):
        _, _, _, songs = catalogue
        anonymous, listener = logged_in(None), logged_in(alice)
        with django_assert_num_queries(1):
            anonymous.get(track_url(songs[0].pk))
        with django_assert_num_queries(2):  # the user, then the song with its heart
            listener.get(track_url(songs[0].pk))


class TestDetails:
    @pytest.fixture
    def song(self):
        song = make_song(
            "River", lyrics="It's coming on Christmas\nThey're cutting down trees",
            synced_lyrics=[[0, "It's coming on Christmas"], [4_500, "They're cutting down trees"]],
        )
        give_audio(song, peaks=bytes([0, 17, 255, 128]))
        return song

    def test_they_give_the_lyrics_the_waveform_and_no_heart_to_anonymous_visitors(self, client, song):
        response = client.get(track_url(song.pk))
        assert response.json() == {
            "id": song.pk,
            "lyrics": "It's coming on Christmas\nThey're cutting down trees",
            "synced_lyrics": [[0, "It's coming on Christmas"], [4_500, "They're cutting down trees"]],
            "peaks": [0, 17, 255, 128],
            "liked": None,
        }
        assert response["Cache-Control"] == "private"

    def test_they_say_whether_the_listener_likes_the_song(self, song, alice, bob):
        like_set(user=alice, thing=song, liked=True)
        assert logged_in(alice).get(track_url(song.pk)).json()["liked"] is True
        assert logged_in(bob).get(track_url(song.pk)).json()["liked"] is False

    def test_a_song_without_audio_or_lyrics_has_empty_ones(self, client):
        song = make_song()
        assert client.get(track_url(song.pk)).json() == {
            "id": song.pk, "lyrics": "", "synced_lyrics": None, "peaks": [], "liked": None,
        }

    def test_an_unknown_song_is_a_404(self, client):
        assert detail(client.get(track_url(999_999)), HTTPStatus.NOT_FOUND) == "There is no song 999999."
