"""The Subsonic methods of the listener's own things (SyroMusic.subsonic.listener): playlists under the site's
access rules, stars (likes), scrobbles (listens), lyrics, the play queue and what plays now; in XML and JSON,
with fixed query counts, and never a 500 whatever the parameters."""

import datetime
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from SyroMusic.models import Collaborator, Like, Listen, Playlist, PlayQueue, Profile
from SyroMusic.services import like_set, queue_replace

from .factories import logged_in, make_album, make_artist, make_playlist, make_song, make_user, text
from .subsonic_calls import NS, app_password, error_of, ok_json, ok_xml, rest, token

pytestmark = pytest.mark.django_db

MARCH = datetime.datetime(2026, 3, 14, 21, 5, 30, tzinfo=datetime.UTC)
MARCH_MS = int(MARCH.timestamp() * 1000)
SYNCED = [[0, "Первая строка"], [1500, "夜明けの二行目"], [3250, "Troisième ligne, déjà"]]


class Apps:
    """Each listener's app, signed in with an app password of theirs (token auth, as py-sonic and most apps)."""

    def __init__(self):
        self.credentials = {}

    def of(self, user):
        if user is None:
            return {}
        if user.pk not in self.credentials:
            self.credentials[user.pk] = token(user, app_password(user))
        return self.credentials[user.pk]

    def call(self, user, method, *, post=False, **params):
        return rest(method, self.of(user), post=post, **params)

    def json(self, user, method, **params):
        return ok_json(self.call(user, method, f="json", **params))

    def xml(self, user, method, **params):
        return ok_xml(self.call(user, method, **params))

    def error(self, user, method, **params):
        return error_of(self.call(user, method, f="json", **params))


@pytest.fixture
def apps():
    return Apps()


@pytest.fixture
def blue():
    """An album of three songs with lengths, the first with synced lyrics, the second with plain ones."""
    album = make_album("Blue", artist=make_artist("Joni Mitchell"), release_date=datetime.date(1971, 6, 22))
    return [
        make_song("All I Want", album=album, duration_ms=212_000, lyrics="\n".join(words for _, words in SYNCED),
                  synced_lyrics=SYNCED),
        make_song("My Old Man", album=album, duration_ms=214_000, lyrics="We don't need no piece of paper\nFrom the city hall"),
        make_song("Little Green", album=album, duration_ms=205_000),
    ]


def song_ids(entries):
    return [entry["id"] for entry in entries]


class TestGetPlaylists:
    def test_the_listeners_own_come_first_then_the_others_they_may_play_by_name(self, apps, alice, bob, charlie, blue):
        mine = make_playlist(owner=alice, name="road trip", songs=blue[:2])
        make_playlist(owner=alice, name="Autumn", is_public=True)
        shared = make_playlist(owner=bob, name="Bob's private mix")
        shared.set_collaborator(alice, Collaborator.Level.VIEW)
        make_playlist(owner=charlie, name="Charlie's public", is_public=True)
        make_playlist(owner=charlie, name="Charlie's secret")
        answer = apps.json(alice, "getPlaylists")
        assert [(p["name"], p["owner"], p["readonly"]) for p in answer["playlists"]["playlist"]] == [
            ("Autumn", "alice", False), ("road trip", "alice", False),
            ("Bob's private mix", "bob", True), ("Charlie's public", "charlie", True),
        ]
        road_trip = answer["playlists"]["playlist"][1]
        mine.refresh_from_db()
        assert road_trip == {
            "id": str(mine.pk), "name": "road trip", "owner": "alice", "public": False, "songCount": 2,
            "duration": 426, "created": mine.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "changed": mine.updated_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "readonly": False,
        }

    def test_a_playlist_shows_its_first_album_cover_and_its_comment(self, apps, alice, blue):
        blue[0].album.cover_hash = "ab" * 32
        blue[0].album.save()
        playlist = make_playlist(owner=alice, name="Blue", songs=[blue[1]], description="Side one")
        listed = apps.json(alice, "getPlaylists")["playlists"]["playlist"][0]
        assert (listed["id"], listed["coverArt"], listed["comment"]) == (str(playlist.pk), f"al-{blue[0].album.pk}", "Side one")

    def test_in_xml(self, apps, alice):
        playlist = make_playlist(owner=alice, name="Nuit & jour", is_public=True)
        root = apps.xml(alice, "getPlaylists")
        (listed,) = root.find(f"{NS}playlists").findall(f"{NS}playlist")
        assert {key: listed.get(key) for key in ("id", "name", "owner", "public", "songCount", "duration", "readonly")} == {
            "id": str(playlist.pk), "name": "Nuit & jour", "owner": "alice", "public": "true", "songCount": "0",
            "duration": "0", "readonly": "false",
        }

    def test_none_is_an_empty_list(self, apps, alice):
        assert apps.json(alice, "getPlaylists")["playlists"] == {"playlist": []}
        assert apps.xml(alice, "getPlaylists").find(f"{NS}playlists") is not None

    def test_another_listeners_are_those_their_profile_shows(self, apps, alice, bob):
        make_playlist(owner=bob, name="Bob's public", is_public=True)
        make_playlist(owner=bob, name="Bob's private")
        listed = apps.json(alice, "getPlaylists", username="bob")["playlists"]["playlist"]
        assert [p["name"] for p in listed] == ["Bob's public"]
        Profile.objects.create(user=bob, is_public=False)
        assert apps.json(alice, "getPlaylists", username="bob")["playlists"] == {"playlist": []}
        assert apps.error(alice, "getPlaylists", username="nobody") == (70, "User not found: 'nobody'")

    @pytest.mark.parametrize("count", [2, 12])
    def test_a_fixed_number_of_queries(self, apps, alice, bob, blue, count, django_assert_num_queries):
        for number in range(count):
            playlist = make_playlist(owner=bob if number % 2 else alice, name=f"List {number}", is_public=True, songs=blue)
            playlist.set_collaborator(make_user(), Collaborator.Level.EDIT)
        apps.json(alice, "ping")
        with django_assert_num_queries(2):  # the listener with their app passwords; the playlists
            apps.json(alice, "getPlaylists")


class TestGetPlaylist:
    def test_its_songs_in_order_repeats_included(self, apps, alice, blue):
        playlist = make_playlist(owner=alice, name="Blue again", songs=[blue[2], blue[0], blue[2]])
        make_playlist(owner=alice, name="Elsewhere", songs=blue)  # the same songs in another playlist change nothing
        answer = apps.json(alice, "getPlaylist", id=playlist.pk)["playlist"]
        assert (answer["name"], answer["songCount"], answer["duration"]) == ("Blue again", 3, 622)
        assert song_ids(answer["entry"]) == [str(blue[2].pk), str(blue[0].pk), str(blue[2].pk)]
        first = answer["entry"][0]
        assert {key: first[key] for key in ("title", "album", "artist", "albumId", "isDir", "duration")} == {
            "title": "Little Green", "album": "Blue", "artist": "Joni Mitchell", "albumId": f"al-{blue[2].album.pk}",
            "isDir": False, "duration": 205,
        }

    def test_liked_songs_are_starred(self, apps, alice, blue):
        playlist = make_playlist(owner=alice, songs=blue[:2])
        like_set(user=alice, thing=blue[1], liked=True)
        entries = apps.json(alice, "getPlaylist", id=playlist.pk)["playlist"]["entry"]
        assert ["starred" in entry for entry in entries] == [False, True]

    def test_in_xml(self, apps, alice, blue):
        playlist = make_playlist(owner=alice, name="Blue", songs=blue[:2])
        listed = apps.xml(alice, "getPlaylist", id=playlist.pk).find(f"{NS}playlist")
        assert (listed.get("name"), [entry.get("title") for entry in listed.findall(f"{NS}entry")]) == (
            "Blue", ["All I Want", "My Old Man"]
        )

    @pytest.mark.parametrize("raw", ["999999", "abc", "-1", "al-1", "1" * 40, ""])
    def test_an_unknown_or_malformed_id_is_70_or_10(self, apps, alice, raw):
        code, _ = apps.error(alice, "getPlaylist", id=raw)
        assert code == (10 if raw == "" else 70)

    @pytest.mark.parametrize("songs", [2, 20])
    def test_a_fixed_number_of_queries(self, apps, alice, songs, django_assert_num_queries):
        album = make_album()
        playlist = make_playlist(owner=alice, songs=[make_song(album=album) for _ in range(songs)])
        apps.json(alice, "ping")
        with django_assert_num_queries(3):  # the listener with their app passwords; the playlist; its songs
            apps.json(alice, "getPlaylist", id=playlist.pk)


class TestCreatePlaylist:
    def test_a_new_private_playlist_of_the_songs_in_order(self, apps, alice, blue):
        ids = [blue[2].pk, blue[0].pk, blue[2].pk]
        answer = apps.json(alice, "createPlaylist", post=True, name=" Sunday ", songId=ids)["playlist"]
        playlist = Playlist.objects.get()
        assert (playlist.name, playlist.owner, playlist.is_public) == ("Sunday", alice, False)
        assert list(playlist.entries.values_list("song_id", "position", "added_by")) == [
            (blue[2].pk, 1, alice.pk), (blue[0].pk, 2, alice.pk), (blue[2].pk, 3, alice.pk)
        ]
        assert (answer["id"], answer["name"], song_ids(answer["entry"])) == (str(playlist.pk), "Sunday", list(map(str, ids)))

    def test_an_empty_one(self, apps, alice):
        root = apps.xml(alice, "createPlaylist", name="Later")
        assert root.find(f"{NS}playlist").get("songCount") == "0"
        assert Playlist.objects.get().name == "Later"

    def test_with_playlist_id_its_songs_are_replaced(self, apps, alice, bob, blue):
        playlist = make_playlist(owner=alice, name="Mix", songs=blue)
        playlist.set_collaborator(bob, Collaborator.Level.EDIT)
        answer = apps.json(bob, "createPlaylist", playlistId=playlist.pk, songId=[blue[1].pk])["playlist"]
        assert song_ids(answer["entry"]) == [str(blue[1].pk)]
        assert list(playlist.entries.values_list("song_id", "position")) == [(blue[1].pk, 1)]
        assert (Playlist.objects.get().name, Playlist.objects.get().owner) == ("Mix", alice)

    @pytest.mark.parametrize(
        ("params", "error"),
        [
            ({}, (10, "Required parameter is missing: name (or playlistId)")),
            ({"name": "Taken"}, (0, "You already have a playlist with this name.")),
            ({"name": "   "}, (0, "This field cannot be blank.")),
            ({"name": "Two\nlines"}, (0, "Names and titles cannot contain control characters such as line breaks or tabs (found U+000A).")),
            ({"name": "x" * 201}, (0, "Ensure this value has at most 200 characters (it has 201).")),
            ({"name": "New", "songId": ["999999"]}, (70, "Song not found: 999999")),
            ({"name": "New", "songId": ["al-1"]}, (70, "Song not found: 'al-1'")),
            ({"playlistId": "999999"}, (70, "Playlist not found: '999999'")),
        ],
    )
    def test_refusals_change_nothing(self, apps, alice, params, error):
        make_playlist(owner=alice, name="Taken")
        assert apps.error(alice, "createPlaylist", **params) == error
        assert list(Playlist.objects.values_list("name", flat=True)) == ["Taken"]

    @pytest.mark.parametrize("songs", [2, 12])
    def test_a_fixed_number_of_queries(self, apps, alice, songs, django_assert_num_queries):
        album = make_album()
        ids = [make_song(album=album).pk for _ in range(songs)]
        apps.json(alice, "ping")
        # The listener; the songs; the new playlist (a savepoint around it); its lock, count, entries and time
        # (a savepoint around them, in the transaction's own); the playlist and its songs for the answer.
        with django_assert_num_queries(15):
            apps.json(alice, "createPlaylist", post=True, name="Counted", songId=ids)

    def test_too_many_songs_make_no_playlist(self, apps, alice, blue, settings, monkeypatch):
        monkeypatch.setattr(Playlist, "MAX_ENTRIES", 2)
        code, message = apps.error(alice, "createPlaylist", post=True, name="Big", songId=[blue[0].pk] * 3)
        assert (code, message) == (0, "At most 2 songs at once; got 3.")
        assert not Playlist.objects.exists()


class TestUpdatePlaylist:
    def test_renaming_describing_and_publishing(self, apps, alice):
        playlist = make_playlist(owner=alice, name="Old")
        apps.json(alice, "updatePlaylist", playlistId=playlist.pk, name="New", comment="For the road", public="true")
        playlist.refresh_from_db()
        assert (playlist.name, playlist.description, playlist.is_public) == ("New", "For the road", True)

    def test_removing_at_indexes_of_the_playlist_as_it_was_then_adding(self, apps, alice, blue):
        playlist = make_playlist(owner=alice, songs=[blue[0], blue[1], blue[2], blue[0]])
        apps.json(alice, "updatePlaylist", post=True, playlistId=playlist.pk, songIndexToRemove=["3", "1", "1"],
                  songIdToAdd=[blue[1].pk, blue[2].pk])
        assert list(playlist.entries.order_by("position").values_list("song_id", "position")) == [
            (blue[0].pk, 1), (blue[2].pk, 2), (blue[1].pk, 3), (blue[2].pk, 4)
        ]

    @pytest.mark.parametrize(
        ("params", "error"),
        [
            ({"songIndexToRemove": "3"}, (0, "No song at index 3: the playlist has 3.")),
            ({"songIndexToRemove": "-1"}, (0, "songIndexToRemove must be a position in the playlist (0 = first), not '-1'")),
            ({"songIndexToRemove": "x"}, (0, "songIndexToRemove must be a position in the playlist (0 = first), not 'x'")),
            ({"songIdToAdd": "424242"}, (70, "Song not found: 424242")),
            ({"public": "maybe"}, (0, "Parameter public must be true or false, not 'maybe'")),
            ({"name": "Taken"}, (0, "You already have a playlist with this name.")),
            ({"name": "", "songIndexToRemove": "0"}, (0, "This field cannot be blank.")),
        ],
    )
    def test_refusals_change_nothing(self, apps, alice, blue, params, error):
        make_playlist(owner=alice, name="Taken")
        playlist = make_playlist(owner=alice, name="Mine", songs=blue)
        assert apps.error(alice, "updatePlaylist", playlistId=playlist.pk, **params) == error
        playlist.refresh_from_db()
        assert playlist.name == "Mine"
        assert list(playlist.entries.order_by("position").values_list("song_id", flat=True)) == [s.pk for s in blue]

    def test_the_playlist_id_is_required(self, apps, alice):
        assert apps.error(alice, "updatePlaylist", name="x") == (10, "Required parameter is missing: playlistId")


class TestDeletePlaylist:
    def test_the_owner_deletes_it(self, apps, alice, blue):
        playlist = make_playlist(owner=alice, songs=blue)
        assert apps.xml(alice, "deletePlaylist", id=playlist.pk).get("status") == "ok"
        assert not Playlist.objects.exists()

    def test_the_id_is_required(self, apps, alice):
        assert apps.error(alice, "deletePlaylist") == (10, "Required parameter is missing: id")


# Who may do what, as on the site. Alice owns; Dana, Bob and Erin collaborate at admin, edit and view; Charlie
# is a stranger; None is an app without credentials. "ok", or the error code.
WHO = ["owner", "admin", "editor", "viewer", "stranger", "anonymous"]
ALLOWED = {
    "read": {"owner", "admin", "editor", "viewer"},
    "write": {"owner", "admin", "editor"},
    "manage": {"owner", "admin"},
    "delete": {"owner"},
}
ACTIONS = {
    "read": ("getPlaylist", lambda playlist, song: {"id": playlist.pk}),
    "write": ("updatePlaylist", lambda playlist, song: {"playlistId": playlist.pk, "songIdToAdd": song.pk}),
    "replace": ("createPlaylist", lambda playlist, song: {"playlistId": playlist.pk, "songId": song.pk}),
    "manage": ("updatePlaylist", lambda playlist, song: {"playlistId": playlist.pk, "comment": "Mine now"}),
    "delete": ("deletePlaylist", lambda playlist, song: {"id": playlist.pk}),
}
# The same question asked of the site's pages: (method, path); allowed is 200 or a redirect, 403, 404.
PAGES = {
    "read": ("get", "/music/playlists/{pk}/"),
    "write": ("post", "/music/playlists/{pk}/add/"),
    "replace": ("post", "/music/playlists/{pk}/add/"),
    "manage": ("get", "/music/playlists/{pk}/edit/"),
    "delete": ("get", "/music/playlists/{pk}/delete/"),
}


def expected(who, action, is_public):
    if who == "anonymous":
        return 10
    if who in ALLOWED["write" if action == "replace" else action] or (action == "read" and is_public):
        return "ok"
    if who == "stranger" and not is_public:
        return 70  # a private playlist of another is not found, never "not authorized"
    return 50


@pytest.fixture
def cast(alice, bob, charlie):
    dana, erin = make_user("dana"), make_user("erin")
    return {"owner": alice, "admin": dana, "editor": bob, "viewer": erin, "stranger": charlie, "anonymous": None}


class TestAccessMatrix:
    @pytest.mark.parametrize("action", list(ACTIONS))
    @pytest.mark.parametrize("is_public", [True, False], ids=["public", "private"])
    @pytest.mark.parametrize("who", WHO)
    def test_subsonic_answers_as_the_site_does(self, apps, cast, blue, who, is_public, action):
        playlist = make_playlist(owner=cast["owner"], name="Shared", songs=blue[:1], is_public=is_public)
        for role, level in (("admin", "admin"), ("editor", "edit"), ("viewer", "view")):
            playlist.set_collaborator(cast[role], level)
        before = list(playlist.entries.values_list("song_id", flat=True))
        method, params = ACTIONS[action]
        response = apps.call(cast[who], method, f="json", **params(playlist, blue[2]))
        want = expected(who, action, is_public)
        if want == "ok":
            ok_json(response)
        else:
            assert error_of(response)[0] == want
            assert Playlist.objects.filter(pk=playlist.pk, description="").exists()
            assert list(playlist.entries.values_list("song_id", flat=True)) == before
        if who != "anonymous":
            page_method, path = PAGES[action]
            if Playlist.objects.filter(pk=playlist.pk).exists():
                page = getattr(logged_in(cast[who]), page_method)(path.format(pk=playlist.pk), {"song": blue[2].pk})
                site = {HTTPStatus.OK: "ok", HTTPStatus.FOUND: "ok", HTTPStatus.FORBIDDEN: 50, HTTPStatus.NOT_FOUND: 70}
                assert site[page.status_code] == want


class TestStars:
    def test_starring_songs_albums_and_artists_likes_them(self, apps, alice, blue):
        album, artist = blue[0].album, blue[0].album.artist
        apps.json(alice, "star", post=True, id=[blue[0].pk, f"al-{album.pk}", blue[0].pk], artistId=f"ar-{artist.pk}")
        assert {(like.kind, like.thing) for like in Like.objects.for_user(alice)} == {
            ("song", blue[0]), ("album", album), ("artist", artist)
        }
        # The site's hearts are the same likes.
        assert "All I Want" in text(logged_in(alice).get("/music/liked/"))

    def test_starring_again_keeps_the_first_like(self, apps, alice, blue):
        like_set(user=alice, thing=blue[0], liked=True)
        first = Like.objects.get().liked_at
        apps.json(alice, "star", id=blue[0].pk)
        assert Like.objects.get().liked_at == first

    def test_unstarring_forgets_them(self, apps, alice, blue):
        for thing in (blue[0], blue[1], blue[0].album):
            like_set(user=alice, thing=thing, liked=True)
        apps.xml(alice, "unstar", id=blue[0].pk, albumId=f"al-{blue[0].album.pk}")
        assert [like.thing for like in Like.objects.for_user(alice)] == [blue[1]]

    @pytest.mark.parametrize(
        ("params", "error"),
        [
            ({}, (10, "Required parameter is missing: id, albumId or artistId")),
            ({"id": ["first", "999999"]}, (70, "Song not found: 999999")),
            ({"albumId": "999999"}, (70, "Album not found: '999999'")),
            ({"artistId": "ar-999999"}, (70, "Artist not found: 999999")),
            ({"id": "ar-"}, (70, "Artist not found: 'ar-'")),
        ],
    )
    def test_refusals_like_nothing(self, apps, alice, blue, params, error):
        params = {name: [blue[0].pk if value == "first" else value for value in values] if isinstance(values, list) else values
                  for name, values in params.items()}
        assert apps.error(alice, "star", **params) == error
        assert not Like.objects.exists()

    def test_get_starred2_lists_the_likes_the_latest_first(self, apps, alice, bob, blue):
        album, artist = blue[0].album, blue[0].album.artist
        for thing in (blue[1], blue[0], album, artist):
            like_set(user=alice, thing=thing, liked=True)
        like_set(user=bob, thing=blue[2], liked=True)
        starred = apps.json(alice, "getStarred2")["starred2"]
        assert song_ids(starred["song"]) == [str(blue[0].pk), str(blue[1].pk)]
        assert [a["id"] for a in starred["album"]] == [f"al-{album.pk}"]
        assert [a["id"] for a in starred["artist"]] == [f"ar-{artist.pk}"]
        liked_at = Like.objects.get(user=alice, song=blue[0]).liked_at
        assert starred["song"][0]["starred"] == liked_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        root = apps.xml(alice, "getStarred2").find(f"{NS}starred2")
        assert [song.get("title") for song in root.findall(f"{NS}song")] == ["All I Want", "My Old Man"]
        assert root.find(f"{NS}album").get("name") == "Blue" and root.find(f"{NS}artist").get("name") == "Joni Mitchell"

    def test_nothing_starred_is_an_empty_answer(self, apps, alice):
        assert apps.json(alice, "getStarred2")["starred2"] == {"artist": [], "album": [], "song": []}

    @pytest.mark.parametrize("count", [1, 6])
    def test_get_starred2_runs_a_fixed_number_of_queries(self, apps, alice, count, django_assert_num_queries):
        for _ in range(count):
            song = make_song()
            for thing in (song, song.album, song.album.artist):
                like_set(user=alice, thing=thing, liked=True)
        apps.json(alice, "ping")
        with django_assert_num_queries(5):  # the listener with their app passwords; songs; albums, their genres; artists
            apps.json(alice, "getStarred2")


class TestScrobble:
    def test_a_submission_is_a_listen_of_the_whole_song_at_its_time(self, apps, alice, blue):
        apps.json(alice, "scrobble", post=True, id=blue[1].pk, time=MARCH_MS, submission="true", c="Symfonium")
        listen = Listen.objects.get()
        assert (listen.user, listen.song, listen.started_at, listen.heard_ms, listen.counted, listen.client, listen.source) == (
            alice, blue[1], MARCH, 214_000, True, "Symfonium", Listen.Source.API
        )
        history = text(logged_in(alice).get("/music/history/"))
        assert "My Old Man" in history

    def test_an_apps_retry_is_recorded_once(self, apps, alice, blue):
        for _ in range(2):
            apps.json(alice, "scrobble", id=blue[0].pk, time=MARCH_MS)
        assert Listen.objects.count() == 1

    def test_several_at_once_each_at_its_time(self, apps, alice, blue):
        apps.json(alice, "scrobble", id=[blue[0].pk, blue[2].pk], time=[MARCH_MS, MARCH_MS + 212_000])
        assert list(Listen.objects.order_by("started_at").values_list("song_id", "started_at")) == [
            (blue[0].pk, MARCH), (blue[2].pk, MARCH + datetime.timedelta(seconds=212))
        ]

    def test_without_a_time_it_was_now_and_a_time_ahead_of_ours_is_now(self, apps, alice, blue):
        before = timezone.now()
        apps.json(alice, "scrobble", id=blue[0].pk)
        apps.json(alice, "scrobble", id=blue[1].pk, time=int((before.timestamp() + 86_400) * 1000))
        for listen in Listen.objects.all():
            assert before <= listen.started_at <= timezone.now()

    def test_now_playing_records_nothing_and_shows_only_to_the_listener(self, apps, alice, bob, blue):
        apps.json(alice, "scrobble", id=blue[2].pk, submission="false", c="DSub")
        assert not Listen.objects.exists()
        (playing,) = apps.json(alice, "getNowPlaying")["nowPlaying"]["entry"]
        assert {key: playing[key] for key in ("id", "title", "username", "minutesAgo", "playerName")} == {
            "id": str(blue[2].pk), "title": "Little Green", "username": "alice", "minutesAgo": 0, "playerName": "DSub",
        }
        assert apps.json(bob, "getNowPlaying")["nowPlaying"] == {"entry": []}
        entry = apps.xml(alice, "getNowPlaying").find(f"{NS}nowPlaying/{NS}entry")
        assert (entry.get("title"), entry.get("username")) == ("Little Green", "alice")

    def test_a_song_heard_is_no_longer_playing(self, apps, alice, blue):
        apps.json(alice, "scrobble", id=blue[2].pk, submission="false")
        apps.json(alice, "scrobble", id=blue[2].pk, submission="true")
        assert apps.json(alice, "getNowPlaying")["nowPlaying"] == {"entry": []}

    def test_nothing_playing(self, apps, alice):
        cache.clear()
        assert apps.json(alice, "getNowPlaying")["nowPlaying"] == {"entry": []}

    @pytest.mark.parametrize(
        ("params", "error"),
        [
            ({}, (10, "Required parameter is missing: id")),
            ({"id": "999999"}, (70, "Song not found: 999999")),
            ({"id": "al-1"}, (70, "Song not found: 'al-1'")),
            ({"time": "946684799999"}, (0, "time must not be before 2000-01-01.")),
            ({"time": "soon"}, (0, "time must be milliseconds since 1970, not 'soon'")),
            ({"time": "9" * 30}, (0, f"time must be milliseconds since 1970, not '{'9' * 30}'")),
            ({"time": ["1", "2"]}, (0, "Give one time per id, or none.")),
            ({"submission": "perhaps"}, (0, "Parameter submission must be true or false, not 'perhaps'")),
        ],
    )
    def test_refusals_record_nothing(self, apps, alice, blue, params, error):
        params = {"id": blue[0].pk, **params} if "id" not in params and params else params
        assert apps.error(alice, "scrobble", **params) == error
        assert not Listen.objects.exists()


class TestLyrics:
    def test_synced_lyrics_give_each_line_its_start(self, apps, alice, blue):
        lyrics = apps.json(alice, "getLyricsBySongId", id=blue[0].pk)["lyricsList"]
        assert lyrics == {
            "structuredLyrics": [{
                "displayArtist": "Joni Mitchell", "displayTitle": "All I Want", "lang": "und", "offset": 0, "synced": True,
                "line": [{"start": ms, "value": words} for ms, words in SYNCED],
            }]
        }

    def test_in_xml_each_line_is_an_element_with_its_text(self, apps, alice, blue):
        structured = apps.xml(alice, "getLyricsBySongId", id=blue[0].pk).find(f"{NS}lyricsList/{NS}structuredLyrics")
        assert (structured.get("synced"), structured.get("lang")) == ("true", "und")
        assert [(line.get("start"), line.text) for line in structured.findall(f"{NS}line")] == [
            (str(ms), words) for ms, words in SYNCED
        ]

    def test_plain_lyrics_are_lines_without_times(self, apps, alice, blue):
        (structured,) = apps.json(alice, "getLyricsBySongId", id=blue[1].pk)["lyricsList"]["structuredLyrics"]
        assert (structured["synced"], structured["line"]) == (
            False, [{"value": "We don't need no piece of paper"}, {"value": "From the city hall"}]
        )

    def test_a_song_without_lyrics_has_none(self, apps, alice, blue):
        assert apps.json(alice, "getLyricsBySongId", id=blue[2].pk)["lyricsList"] == {"structuredLyrics": []}

    def test_an_unknown_song_is_70(self, apps, alice):
        assert apps.error(alice, "getLyricsBySongId", id="999999") == (70, "Song not found: 999999")
        assert apps.error(alice, "getLyricsBySongId") == (10, "Required parameter is missing: id")

    def test_the_older_call_finds_lyrics_by_artist_and_title(self, apps, alice, blue):
        lyrics = apps.json(alice, "getLyrics", artist="joni mitchell", title="MY OLD MAN")["lyrics"]
        assert lyrics == {"artist": "Joni Mitchell", "title": "My Old Man", "value": blue[1].lyrics}
        assert apps.json(alice, "getLyrics", artist="Nobody")["lyrics"] == {"artist": "Nobody"}
        assert apps.xml(alice, "getLyrics", title="My Old Man").find(f"{NS}lyrics").text == blue[1].lyrics


class TestPlayQueue:
    def test_a_saved_queue_comes_back(self, apps, alice, blue):
        apps.json(alice, "savePlayQueue", post=True, id=[blue[2].pk, blue[0].pk, blue[2].pk], current=blue[0].pk,
                  position=61_000)
        queue = apps.json(alice, "getPlayQueue")["playQueue"]
        assert {key: queue[key] for key in ("current", "position", "username")} == {
            "current": str(blue[0].pk), "position": 61_000, "username": "alice"
        }
        assert song_ids(queue["entry"]) == [str(blue[2].pk), str(blue[0].pk), str(blue[2].pk)]
        stored = PlayQueue.objects.get(user=alice)
        assert (stored.song_ids, stored.current_index, stored.position_ms) == ([blue[2].pk, blue[0].pk, blue[2].pk], 1, 61_000)

    def test_it_is_the_web_players_queue(self, apps, alice, blue):
        queue_replace(user=alice, song_ids=[blue[1].pk, blue[2].pk], current=1, position_ms=5_000)
        root = apps.xml(alice, "getPlayQueue").find(f"{NS}playQueue")
        assert (root.get("current"), root.get("position"), [e.get("id") for e in root.findall(f"{NS}entry")]) == (
            str(blue[2].pk), "5000", [str(blue[1].pk), str(blue[2].pk)]
        )
        apps.json(alice, "savePlayQueue", id=blue[0].pk)
        answer = logged_in(alice, api=True).get("/api/v1/me/queue/").json()
        assert (answer["songs"], answer["current"]) == ([blue[0].pk], None)

    def test_no_queue_yet_is_an_answer_without_one(self, apps, alice):
        assert "playQueue" not in apps.json(alice, "getPlayQueue")

    def test_saving_no_songs_empties_it(self, apps, alice, blue):
        queue_replace(user=alice, song_ids=[blue[1].pk], current=0)
        apps.json(alice, "savePlayQueue")
        queue = apps.json(alice, "getPlayQueue")["playQueue"]
        assert (queue["entry"], "current" in queue) == ([], False)

    @pytest.mark.parametrize(
        ("params", "error"),
        [
            ({"id": "999999"}, (70, "No song has the id 999999.")),
            ({"current": "999999"}, (0, "current (999999) is not one of the queue's songs.")),
            ({"position": "-5"}, (0, "Parameter position must be at least 0")),
            ({"id": "x"}, (70, "Song not found: 'x'")),
        ],
    )
    def test_refusals_keep_the_queue(self, apps, alice, blue, params, error):
        queue_replace(user=alice, song_ids=[blue[1].pk], current=0)
        params = {"id": blue[0].pk, **params} if "id" not in params else params
        assert apps.error(alice, "savePlayQueue", **params) == error
        assert PlayQueue.objects.get(user=alice).song_ids == [blue[1].pk]

    def test_a_queue_holds_at_most_its_limit(self, apps, alice, blue, monkeypatch):
        monkeypatch.setattr(PlayQueue, "MAX_SONGS", 2)
        code, message = apps.error(alice, "savePlayQueue", post=True, id=[blue[0].pk] * 3)
        assert (code, message) == (0, "A queue holds at most 2 songs; got 3.")

    @pytest.mark.parametrize("count", [1, 15])
    def test_get_play_queue_runs_a_fixed_number_of_queries(self, apps, alice, count, django_assert_num_queries):
        album = make_album()
        queue_replace(user=alice, song_ids=[make_song(album=album).pk for _ in range(count)], current=0)
        apps.json(alice, "ping")
        with django_assert_num_queries(3):  # the listener with their app passwords; the queue; its songs
            apps.json(alice, "getPlayQueue")


class TestEveryMethodInBothFormats:
    @pytest.mark.parametrize(
        ("method", "element"),
        [
            ("getPlaylists", "playlists"), ("getPlaylist", "playlist"), ("createPlaylist", "playlist"),
            ("updatePlaylist", None), ("deletePlaylist", None), ("star", None), ("unstar", None),
            ("getStarred2", "starred2"), ("scrobble", None), ("getNowPlaying", "nowPlaying"),
            ("getLyricsBySongId", "lyricsList"), ("getLyrics", "lyrics"), ("savePlayQueue", None),
            ("getPlayQueue", "playQueue"),
        ],
    )
    def test_xml_and_json_carry_the_same_answer(self, apps, alice, blue, method, element):
        def params():
            playlist = make_playlist(owner=alice, songs=blue)
            queue_replace(user=alice, song_ids=[blue[0].pk], current=0)
            return {
                "getPlaylist": {"id": playlist.pk}, "createPlaylist": {"name": f"New {Playlist.objects.count()}"},
                "updatePlaylist": {"playlistId": playlist.pk, "comment": "hi"}, "deletePlaylist": {"id": playlist.pk},
                "star": {"id": blue[0].pk}, "unstar": {"id": blue[0].pk}, "scrobble": {"id": blue[0].pk},
                "getLyricsBySongId": {"id": blue[0].pk}, "getLyrics": {"title": "All I Want"},
                "savePlayQueue": {"id": blue[0].pk},
            }.get(method, {})

        as_json = apps.json(alice, method, **params())
        root = apps.xml(alice, method, **params())
        if element is None:
            assert set(as_json) == {"status", "version", "type", "serverVersion", "openSubsonic"}
            assert list(root) == []
        else:
            assert element in as_json
            assert [child.tag for child in root] == [f"{NS}{element}"]


@pytest.mark.parametrize("method", [
    "getPlaylists", "getPlaylist", "createPlaylist", "updatePlaylist", "deletePlaylist", "star", "unstar",
    "getStarred2", "scrobble", "getNowPlaying", "getLyricsBySongId", "getLyrics", "savePlayQueue", "getPlayQueue",
])
def test_every_method_needs_credentials(method):
    assert error_of(rest(method, f="json"))[0] == 10
    assert error_of(rest(method, {"u": "alice", "p": "guess"}, f="json"))[0] == 40


NAMES = ["id", "playlistId", "name", "comment", "public", "songId", "songIdToAdd", "songIndexToRemove", "albumId",
         "artistId", "time", "submission", "current", "position", "username", "artist", "title", "c"]
VALUES = st.one_of(
    st.text(max_size=30), st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["1", "0", "al-1", "ar-1", "true", "false", "", " ", "1e3", "٣", "9" * 25, "enc:zz", "\x00"]),
)


@pytest.fixture
def alice_app(alice):
    """Alice's app's credentials, and a playlist of hers (made once for all the examples Hypothesis tries)."""
    make_playlist(owner=alice, songs=[make_song()])
    return token(alice, app_password(alice))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    method=st.sampled_from(["getPlaylists", "getPlaylist", "createPlaylist", "updatePlaylist", "deletePlaylist", "star",
                            "unstar", "getStarred2", "scrobble", "getNowPlaying", "getLyricsBySongId", "getLyrics",
                            "savePlayQueue", "getPlayQueue"]),
    params=st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=6),
    post=st.booleans(),
)
def test_random_parameters_never_make_a_500(alice_app, method, params, post):
    data = {}
    for name, value in params:
        data.setdefault(name, []).append(value.replace("\x00", ""))
    client = Client(raise_request_exception=False)
    response = rest(method, alice_app, client=client, post=post, f="json", **data)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["subsonic-response"]["status"] in ("ok", "failed")
    if response.json()["subsonic-response"]["status"] == "failed":
        assert response.json()["subsonic-response"]["error"]["message"] != "The server failed to answer; it has been logged."
