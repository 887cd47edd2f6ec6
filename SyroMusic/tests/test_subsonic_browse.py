"""The Subsonic face's browsing methods (issue 17): what a listener's app sees of the catalogue, in XML and in
JSON, with the listener's likes and plays, and a fixed number of queries whatever the catalogue's size."""

import datetime
from itertools import count

import pytest
from django.utils import timezone

from SyroMusic.listening import record
from SyroMusic.models import Album, Like
from SyroMusic.subsonic.entries import when

from .audio_rows import give_audio
from .factories import make_album, make_artist, make_genre, make_song, make_user
from .subsonic_calls import NS, app_password, error_of, ok_json, ok_xml, rest, token

pytestmark = pytest.mark.django_db

_events = count(1)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def carol():
    return make_user("carol", email="carol@example.com")


@pytest.fixture
def auth(carol):
    return token(carol, app_password(carol))


def call(auth, method, **params):
    return ok_json(rest(method, auth, f="json", **params))


@pytest.fixture
def catalogue():
    """Three album artists (one filed under "#", one under B by its sort name) and a compilation-only one."""
    rock, pop = make_genre("Rock"), make_genre("Pop")
    beatles = make_artist("The Beatles", image_url="https://img.example/beatles.jpg")
    abba = make_artist("ABBA")
    pac = make_artist("2Pac")
    guest = make_artist("Guest Singer")
    start = timezone.now() - 10 * DAY
    abbey = make_album("Abbey Road", beatles, release_date=datetime.date(1969, 9, 26), cover_hash="ab" * 32,
                       label="Apple", created_at=start)
    let_it_be = make_album("Let It Be", beatles, release_date=datetime.date(1970, 5, 8), created_at=start + DAY,
                           album_type=Album.Type.ALBUM)
    arrival = make_album("Arrival", abba, release_date=datetime.date(1976, 10, 11), created_at=start + 2 * DAY)
    single = make_album("Changes", pac, release_date=datetime.date(1998, 10, 13), album_type=Album.Type.SINGLE,
                        created_at=start + 3 * DAY)
    abbey.genres.add(rock)
    let_it_be.genres.add(rock)
    arrival.genres.add(pop)
    songs = {
        "come": make_song("Come Together", abbey, duration_ms=259_000, genre=rock, composer="Lennon"),
        "something": make_song("Something", abbey, duration_ms=182_000, genre=rock, popularity=80),
        "guest": make_song("Guest Spot", abbey, artist=guest, duration_ms=60_000, genre=rock, explicit=True),
        "get_back": make_song("Get Back", let_it_be, duration_ms=189_000, genre=rock),
        "dancing": make_song("Dancing Queen", arrival, duration_ms=231_000, genre=pop, popularity=90),
        "changes": make_song("Changes", single, duration_ms=269_000),
    }
    give_audio(*songs.values(), format="mp3", codec="mp3", bitrate=320_000, duration_ms=200_400)
    for song in songs.values():
        song.refresh_from_db()
    return {
        "artists": {"beatles": beatles, "abba": abba, "pac": pac, "guest": guest},
        "albums": {"abbey": abbey, "let_it_be": let_it_be, "arrival": arrival, "single": single},
        "songs": songs, "genres": {"rock": rock, "pop": pop},
    }


def names(rows, key="name"):
    return [row[key] for row in rows]


def grow(catalogue, n=3):
    """More of everything: list answers must cost the same queries."""
    genre = catalogue["genres"]["rock"]
    for number in range(n):
        artist = make_artist(f"Zed {number}")
        album = make_album(f"Zed album {number}", artist, release_date=datetime.date(1980 + number, 1, 1))
        album.genres.add(genre)
        give_audio(*(make_song(f"Zed song {number}.{track}", album, genre=genre) for track in range(2)))


class TestSimpleMethods:
    def test_get_license_is_valid(self, auth):
        assert call(auth, "getLicense")["license"] == {"valid": True}
        assert ok_xml(rest("getLicense", auth)).find(f"{NS}license").attrib == {"valid": "true"}

    def test_get_music_folders_lists_one_folder(self, auth):
        assert call(auth, "getMusicFolders")["musicFolders"] == {"musicFolder": [{"id": 1, "name": "Music"}]}
        folders = ok_xml(rest("getMusicFolders", auth)).find(f"{NS}musicFolders")
        assert [node.attrib for node in folders] == [{"id": "1", "name": "Music"}]

    def test_get_open_subsonic_extensions_in_json(self, auth):
        assert call(auth, "getOpenSubsonicExtensions")["openSubsonicExtensions"] == [
            {"name": "apiKeyAuthentication", "versions": [1]}, {"name": "formPost", "versions": [1]},
            {"name": "songLyrics", "versions": [1]}, {"name": "transcodeOffset", "versions": [1]},
        ]


class TestArtists:
    def test_get_artists_indexes_album_artists_by_sort_name_letter(self, auth, catalogue):
        artists = catalogue["artists"]
        index = call(auth, "getArtists")["artists"]
        assert index["ignoredArticles"] == "The El La Los Las Le Les Die Das Der"
        assert [(group["name"], names(group["artist"])) for group in index["index"]] == [
            ("#", ["2Pac"]), ("A", ["ABBA"]), ("B", ["The Beatles"]),
        ]
        assert index["index"][2]["artist"] == [{
            "id": f"ar-{artists['beatles'].pk}", "name": "The Beatles", "coverArt": f"ar-{artists['beatles'].pk}",
            "albumCount": 2, "artistImageUrl": "https://img.example/beatles.jpg", "sortName": "Beatles, The",
        }]
        # No album with a cover: no coverArt.
        assert "coverArt" not in index["index"][1]["artist"][0]

    def test_get_artists_in_xml(self, auth, catalogue):
        index = ok_xml(rest("getArtists", auth)).find(f"{NS}artists")
        assert [(group.get("name"), [a.get("name") for a in group]) for group in index] == [
            ("#", ["2Pac"]), ("A", ["ABBA"]), ("B", ["The Beatles"]),
        ]
        assert index[1][0].attrib == {
            "id": f"ar-{catalogue['artists']['abba'].pk}", "name": "ABBA", "albumCount": "1", "sortName": "ABBA",
        }

    def test_a_liked_artist_is_starred_with_the_time(self, carol, auth, catalogue):
        like = Like.objects.create(user=carol, artist=catalogue["artists"]["abba"])
        index = call(auth, "getArtists")["artists"]["index"]
        assert index[1]["artist"][0]["starred"] == when(like.liked_at)
        assert "starred" not in index[2]["artist"][0]

    def test_get_indexes_says_when_the_catalogue_changed_and_skips_an_unchanged_one(self, auth, catalogue):
        indexes = call(auth, "getIndexes")["indexes"]
        newest = max(album.created_at for album in catalogue["albums"].values())
        newest = max(newest, *(artist.created_at for artist in catalogue["artists"].values()))
        assert indexes["lastModified"] == int(newest.timestamp() * 1000)
        assert [group["name"] for group in indexes["index"]] == ["#", "A", "B"]
        unchanged = call(auth, "getIndexes", ifModifiedSince=indexes["lastModified"])["indexes"]
        assert unchanged == {**indexes, "index": []}
        xml_index = ok_xml(rest("getIndexes", auth)).find(f"{NS}indexes")
        assert [group.get("name") for group in xml_index] == ["#", "A", "B"]

    def test_get_artist_lists_albums_in_discography_order(self, auth, catalogue):
        beatles = catalogue["artists"]["beatles"]
        artist = call(auth, "getArtist", id=f"ar-{beatles.pk}")["artist"]
        assert (artist["name"], artist["albumCount"], names(artist["album"])) == (
            "The Beatles", 2, ["Let It Be", "Abbey Road"],
        )
        node = ok_xml(rest("getArtist", auth, id=f"ar-{beatles.pk}")).find(f"{NS}artist")
        assert [album.get("name") for album in node.findall(f"{NS}album")] == ["Let It Be", "Abbey Road"]

    @pytest.mark.parametrize(("params", "error"), [
        ({}, (10, "Required parameter is missing: id")),
        ({"id": "ar-999999"}, (70, "Artist not found: 999999")),
        ({"id": "al-1"}, (70, "Artist not found: 'al-1'")),
    ])
    def test_get_artist_errors(self, auth, catalogue, params, error):
        assert error_of(rest("getArtist", auth, **params)) == error
        assert error_of(rest("getArtist", auth, f="json", **params)) == error


class TestFolders:
    def test_an_artists_folder_holds_their_albums_and_an_albums_its_songs(self, auth, catalogue):
        beatles, abbey = catalogue["artists"]["beatles"], catalogue["albums"]["abbey"]
        folder = call(auth, "getMusicDirectory", id=f"ar-{beatles.pk}")["directory"]
        assert (folder["id"], folder["name"], names(folder["child"], "title")) == (
            f"ar-{beatles.pk}", "The Beatles", ["Let It Be", "Abbey Road"],
        )
        assert folder["child"][1] == {
            "id": f"al-{abbey.pk}", "parent": f"ar-{beatles.pk}", "isDir": True, "title": "Abbey Road",
            "album": "Abbey Road", "artist": "The Beatles", "year": 1969, "genre": "Rock",
            "coverArt": f"al-{abbey.pk}", "created": when(abbey.created_at), "albumId": f"al-{abbey.pk}",
            "artistId": f"ar-{beatles.pk}", "mediaType": "album",
        }
        node = ok_xml(rest("getMusicDirectory", auth, id=f"al-{abbey.pk}")).find(f"{NS}directory")
        assert (node.get("name"), node.get("parent")) == ("Abbey Road", f"ar-{beatles.pk}")
        assert [child.get("title") for child in node] == ["Come Together", "Something", "Guest Spot"]

    def test_a_song_is_no_folder(self, auth, catalogue):
        song = catalogue["songs"]["come"]
        assert error_of(rest("getMusicDirectory", auth, id=str(song.pk))) == (70, f"Directory not found: '{song.pk}'")
        assert error_of(rest("getMusicDirectory", auth, id="ar-0")) == (70, "Artist not found: 0")


class TestAlbumsAndSongs:
    def test_get_album_has_its_songs_in_tracklist_order_and_every_field(self, carol, auth, catalogue):
        abbey, songs = catalogue["albums"]["abbey"], catalogue["songs"]
        beatles, guest = catalogue["artists"]["beatles"], catalogue["artists"]["guest"]
        liked = Like.objects.create(user=carol, song=songs["guest"])
        album = call(auth, "getAlbum", id=f"al-{abbey.pk}")["album"]
        tracks = album.pop("song")
        assert album == {
            "id": f"al-{abbey.pk}", "parent": f"ar-{beatles.pk}", "name": "Abbey Road", "title": "Abbey Road",
            "artist": "The Beatles", "artistId": f"ar-{beatles.pk}", "coverArt": f"al-{abbey.pk}",
            "songCount": 3, "duration": 501, "created": when(abbey.created_at), "year": 1969, "genre": "Rock",
            "isDir": True, "genres": [{"name": "Rock"}],
            "artists": [{"id": f"ar-{beatles.pk}", "name": "The Beatles"}], "displayArtist": "The Beatles",
            "releaseTypes": ["Album"], "isCompilation": False, "recordLabels": [{"name": "Apple"}],
            "releaseDate": {"year": 1969, "month": 9, "day": 26},
        }
        assert names(tracks, "title") == ["Come Together", "Something", "Guest Spot"]
        guest_song = songs["guest"]
        assert tracks[2] == {
            "id": str(guest_song.pk), "parent": f"al-{abbey.pk}", "isDir": False, "title": "Guest Spot",
            "album": "Abbey Road", "artist": "Guest Singer", "track": 3, "discNumber": 1, "year": 1969,
            "genre": "Rock", "coverArt": f"al-{abbey.pk}", "size": 36_000_000, "contentType": "audio/mpeg",
            "suffix": "mp3", "duration": 200, "bitRate": 320, "samplingRate": 44_100, "channelCount": 2,
            "path": "The Beatles/Abbey Road/03 - Guest Spot.mp3", "albumId": f"al-{abbey.pk}",
            "artistId": f"ar-{guest.pk}", "type": "music", "mediaType": "song", "isVideo": False,
            "created": when(guest_song.created_at), "starred": when(liked.liked_at), "genres": [{"name": "Rock"}],
            "artists": [{"id": f"ar-{guest.pk}", "name": "Guest Singer"}], "displayArtist": "Guest Singer",
            "albumArtists": [{"id": f"ar-{beatles.pk}", "name": "The Beatles"}],
            "displayAlbumArtist": "The Beatles", "explicitStatus": "explicit",
        }
        assert tracks[0]["displayComposer"] == "Lennon"
        assert "starred" not in tracks[0]

    def test_get_album_in_xml_has_song_children(self, auth, catalogue):
        abbey = catalogue["albums"]["abbey"]
        node = ok_xml(rest("getAlbum", auth, id=f"al-{abbey.pk}")).find(f"{NS}album")
        assert (node.get("name"), node.get("songCount"), node.get("isCompilation")) == ("Abbey Road", "3", "false")
        assert [song.get("title") for song in node.findall(f"{NS}song")] == ["Come Together", "Something", "Guest Spot"]
        assert [genre.attrib for genre in node.findall(f"{NS}genres")] == [{"name": "Rock"}]
        assert node.find(f"{NS}releaseDate").attrib == {"year": "1969", "month": "9", "day": "26"}

    def test_a_song_without_a_file_has_no_file_facts(self, auth, catalogue):
        bare = make_song("Unreleased", catalogue["albums"]["single"], duration_ms=61_500)
        song = call(auth, "getSong", id=str(bare.pk))["song"]
        assert {key: song.get(key) for key in ("size", "suffix", "contentType", "bitRate", "duration", "coverArt")} == {
            "size": None, "suffix": None, "contentType": None, "bitRate": None, "duration": 62, "coverArt": None,
        }
        assert song["path"] == "2Pac/Changes/02 - Unreleased.mp3"

    def test_get_song_in_xml(self, auth, catalogue):
        something = catalogue["songs"]["something"]
        node = ok_xml(rest("getSong", auth, id=str(something.pk))).find(f"{NS}song")
        assert {key: node.get(key) for key in ("id", "title", "isDir", "track", "suffix", "starred")} == {
            "id": str(something.pk), "title": "Something", "isDir": "false", "track": "2", "suffix": "mp3",
            "starred": None,
        }

    @pytest.mark.parametrize(("method", "params", "error"), [
        ("getAlbum", {}, (10, "Required parameter is missing: id")),
        ("getAlbum", {"id": "al-0"}, (70, "Album not found: 0")),
        ("getAlbum", {"id": "ar-1"}, (70, "Album not found: 'ar-1'")),
        ("getSong", {}, (10, "Required parameter is missing: id")),
        ("getSong", {"id": "999999999"}, (70, "Song not found: 999999999")),
        ("getSong", {"id": "99999999999999999999"}, (70, "Song not found: '99999999999999999999'")),
    ])
    def test_album_and_song_errors(self, auth, catalogue, method, params, error):
        assert error_of(rest(method, auth, **params)) == error
        assert error_of(rest(method, auth, f="json", **params)) == error


def album_list(auth, **params):
    return names(call(auth, "getAlbumList2", **params)["albumList2"].get("album", []))


def play(user, song, started_at):
    record.record(user, [record.Event(f"e{next(_events)}", song.pk, started_at, 200_000)])


class TestAlbumLists:
    @pytest.mark.parametrize(("params", "expected"), [
        ({"type": "newest"}, ["Changes", "Arrival", "Let It Be", "Abbey Road"]),
        ({"type": "alphabeticalByName"}, ["Abbey Road", "Arrival", "Changes", "Let It Be"]),
        ({"type": "alphabeticalByArtist"}, ["Changes", "Arrival", "Abbey Road", "Let It Be"]),
        ({"type": "byYear", "fromYear": "1969", "toYear": "1976"}, ["Abbey Road", "Let It Be", "Arrival"]),
        ({"type": "byYear", "fromYear": "1976", "toYear": "1969"}, ["Arrival", "Let It Be", "Abbey Road"]),
        ({"type": "byGenre", "genre": "Rock"}, ["Abbey Road", "Let It Be"]),
        ({"type": "byGenre", "genre": "Jazz"}, []),
        ({"type": "newest", "size": "2", "offset": "1"}, ["Arrival", "Let It Be"]),
        ({"type": "newest", "size": "0"}, []),
        ({"type": "newest", "offset": "10"}, []),
        ({"type": "alphabeticalByName", "fromYear": "1970"}, ["Arrival", "Changes", "Let It Be"]),
        ({"type": "alphabeticalByName", "genre": "Pop"}, ["Arrival"]),
    ])
    def test_each_list_type_orders_and_filters_as_subsonic_says(self, auth, catalogue, params, expected):
        assert album_list(auth, **params) == expected

    def test_random_lists_every_album_once_up_to_size(self, auth, catalogue):
        assert sorted(album_list(auth, type="random")) == ["Abbey Road", "Arrival", "Changes", "Let It Be"]
        assert len(album_list(auth, type="random", size="2")) == 2

    def test_a_size_above_500_gets_500(self, auth, catalogue):
        assert len(album_list(auth, type="newest", size="100000")) == 4

    def test_starred_lists_liked_albums_latest_liked_first(self, carol, auth, catalogue):
        albums = catalogue["albums"]
        now = timezone.now()
        Like.objects.create(user=carol, album=albums["arrival"], liked_at=now - DAY)
        Like.objects.create(user=carol, album=albums["abbey"], liked_at=now)
        Like.objects.create(user=make_user(), album=albums["single"])
        assert album_list(auth, type="starred") == ["Abbey Road", "Arrival"]

    def test_frequent_and_recent_follow_the_listeners_own_plays(self, carol, auth, catalogue):
        songs, now = catalogue["songs"], timezone.now()
        play(carol, songs["dancing"], now - 3 * DAY)
        play(carol, songs["dancing"], now - 2 * DAY)
        play(carol, songs["come"], now - DAY)
        play(make_user(), songs["get_back"], now)
        assert album_list(auth, type="frequent") == ["Arrival", "Abbey Road"]
        assert album_list(auth, type="recent") == ["Abbey Road", "Arrival"]

    def test_frequent_counts_listens_the_api_deferred(self, carol, auth, catalogue):
        events = [record.Event(f"d{n}", catalogue["songs"]["changes"].pk, timezone.now(), 260_000) for n in range(2)]
        record.record(carol, events, defer=True)
        assert album_list(auth, type="frequent") == ["Changes"]

    def test_get_album_list_gives_the_same_lists_as_folders(self, auth, catalogue):
        albums = call(auth, "getAlbumList", type="alphabeticalByName", size="2")["albumList"]["album"]
        assert [(album["title"], album["isDir"]) for album in albums] == [("Abbey Road", True), ("Arrival", True)]
        node = ok_xml(rest("getAlbumList", auth, type="byGenre", genre="Pop")).find(f"{NS}albumList")
        assert [album.get("title") for album in node] == ["Arrival"]

    def test_album_lists_in_xml(self, auth, catalogue):
        node = ok_xml(rest("getAlbumList2", auth, type="alphabeticalByName", size="2")).find(f"{NS}albumList2")
        assert [album.get("name") for album in node] == ["Abbey Road", "Arrival"]
        empty = ok_xml(rest("getAlbumList2", auth, type="byGenre", genre="Jazz")).find(f"{NS}albumList2")
        assert list(empty) == []

    @pytest.mark.parametrize(("params", "error"), [
        ({}, (10, "Required parameter is missing: type")),
        ({"type": "highest"}, (0, "Unknown album list type: 'highest'")),
        ({"type": "byYear", "fromYear": "1970"}, (10, "Required parameter is missing: toYear")),
        ({"type": "byYear", "toYear": "1970"}, (10, "Required parameter is missing: fromYear")),
        ({"type": "byYear", "fromYear": "1970", "toYear": "99999"}, (0, "Parameter toYear must be at most 9999")),
        ({"type": "byGenre"}, (10, "Required parameter is missing: genre")),
        ({"type": "newest", "size": "-1"}, (0, "Parameter size must be at least 0")),
        ({"type": "newest", "offset": "x"}, (0, "Parameter offset must be a whole number, not 'x'")),
    ])
    def test_album_list_errors(self, auth, catalogue, params, error):
        assert error_of(rest("getAlbumList2", auth, **params)) == error
        assert error_of(rest("getAlbumList2", auth, f="json", **params)) == error


class TestSongLists:
    def test_random_songs_filter_by_genre_and_years(self, auth, catalogue):
        def titles(**params):
            return sorted(names(call(auth, "getRandomSongs", **params)["randomSongs"].get("song", []), "title"))

        assert len(titles()) == 6
        assert len(titles(size="2")) == 2
        assert titles(genre="Pop") == ["Dancing Queen"]
        assert titles(fromYear="1970", toYear="1976") == ["Dancing Queen", "Get Back"]
        assert titles(fromYear="1990") == ["Changes"]
        node = ok_xml(rest("getRandomSongs", auth, genre="Pop")).find(f"{NS}randomSongs")
        assert [song.get("title") for song in node] == ["Dancing Queen"]

    def test_get_genres_counts_songs_and_albums(self, auth, catalogue):
        make_genre("Jazz")
        assert call(auth, "getGenres")["genres"] == {"genre": [
            {"value": "Jazz", "songCount": 0, "albumCount": 0},
            {"value": "Pop", "songCount": 1, "albumCount": 1},
            {"value": "Rock", "songCount": 4, "albumCount": 2},
        ]}
        node = ok_xml(rest("getGenres", auth)).find(f"{NS}genres")
        assert [(genre.text, genre.attrib) for genre in node] == [
            ("Jazz", {"songCount": "0", "albumCount": "0"}), ("Pop", {"songCount": "1", "albumCount": "1"}),
            ("Rock", {"songCount": "4", "albumCount": "2"}),
        ]

    def test_songs_by_genre_most_popular_first_with_count_and_offset(self, auth, catalogue):
        def titles(**params):
            return names(call(auth, "getSongsByGenre", **params)["songsByGenre"].get("song", []), "title")

        assert titles(genre="Rock") == ["Something", "Come Together", "Guest Spot", "Get Back"]
        assert titles(genre="Rock", count="2", offset="1") == ["Come Together", "Guest Spot"]
        assert titles(genre="None such") == []
        assert error_of(rest("getSongsByGenre", auth)) == (10, "Required parameter is missing: genre")
        node = ok_xml(rest("getSongsByGenre", auth, genre="Pop")).find(f"{NS}songsByGenre")
        assert [song.get("title") for song in node] == ["Dancing Queen"]


class TestSearch:
    def test_search3_finds_artists_albums_and_songs(self, auth, catalogue):
        found = call(auth, "search3", query="beatles")["searchResult3"]
        assert (names(found["artist"]), found["album"], found["song"]) == (["The Beatles"], [], [])
        found = call(auth, "search3", query="changes")["searchResult3"]
        assert (found["artist"], names(found["album"]), names(found["song"], "title")) == ([], ["Changes"], ["Changes"])

    def test_search3_ranks_the_exact_name_first_and_pages_each_type(self, auth, catalogue):
        make_song("Something Else", catalogue["albums"]["arrival"])
        found = call(auth, "search3", query="something", songCount="1", albumCount="0", artistCount="0")
        assert names(found["searchResult3"]["song"], "title") == ["Something"]
        found = call(auth, "search3", query="something", songCount="5", songOffset="1")
        assert names(found["searchResult3"]["song"], "title") == ["Something Else"]

    def test_search3_shows_what_the_listener_likes(self, carol, auth, catalogue):
        like = Like.objects.create(user=carol, song=catalogue["songs"]["dancing"])
        found = call(auth, "search3", query="dancing queen")["searchResult3"]
        assert [song["starred"] for song in found["song"]] == [when(like.liked_at)]

    @pytest.mark.parametrize("empty", ["", '""'])
    def test_an_empty_search3_lists_everything_in_name_order_for_syncing_apps(self, auth, catalogue, empty):
        found = call(auth, "search3", query=empty, songCount="3", songOffset="1", albumCount="2")["searchResult3"]
        assert names(found["artist"]) == ["2Pac", "ABBA", "The Beatles", "Guest Singer"]
        assert names(found["album"]) == ["Abbey Road", "Arrival"]
        assert names(found["song"], "title") == ["Come Together", "Dancing Queen", "Get Back"]

    def test_search3_in_xml(self, auth, catalogue):
        node = ok_xml(rest("search3", auth, query="arrival")).find(f"{NS}searchResult3")
        assert [(child.tag.removeprefix(NS), child.get("name")) for child in node] == [("album", "Arrival")]

    def test_a_search_of_punctuation_only_is_error_0_with_the_reason(self, auth, catalogue):
        assert error_of(rest("search3", auth, query="!!")) == (
            0, "Search for letters or digits: this search has only punctuation or symbols.",
        )
        assert error_of(rest("search3", auth, query="x" * 101))[0] == 0


class TestUsers:
    def test_get_user_describes_the_listener_with_their_email(self, auth):
        assert call(auth, "getUser", username="carol")["user"] == {
            "username": "carol", "email": "carol@example.com", "scrobblingEnabled": True, "adminRole": False,
            "settingsRole": True, "downloadRole": True, "uploadRole": False, "playlistRole": True,
            "coverArtRole": True, "commentRole": False, "podcastRole": False, "streamRole": True,
            "jukeboxRole": False, "shareRole": False, "videoConversionRole": False, "folder": [1],
        }
        node = ok_xml(rest("getUser", auth, username="carol")).find(f"{NS}user")
        assert (node.get("username"), node.get("adminRole"), [f.text for f in node.findall(f"{NS}folder")]) == (
            "carol", "false", ["1"],
        )

    def test_another_listener_is_not_authorized(self, auth):
        make_user("dave")
        assert error_of(rest("getUser", auth, username="dave")) == (50, "You may only look up your own account.")

    def test_staff_may_look_up_others_but_not_their_email(self):
        admin = make_user("root", is_staff=True)
        staff = token(admin, app_password(admin))
        make_user("dave", email="dave@example.com")
        user = call(staff, "getUser", username="dave")["user"]
        assert (user["username"], "email" in user, user["adminRole"]) == ("dave", False, False)
        assert error_of(rest("getUser", staff, username="nobody")) == (70, "User not found.")

    def test_get_user_needs_a_username(self, auth):
        assert error_of(rest("getUser", auth)) == (10, "Required parameter is missing: username")


QUERY_COUNTS = [
    # auth (1) + what the method reads
    ("ping", {}, 1),
    ("getLicense", {}, 1),
    ("getMusicFolders", {}, 1),
    ("getIndexes", {}, 4),  # the two newest creation times, then the artists
    ("getArtists", {}, 2),
    ("getArtist", {"id": "beatles"}, 4),  # the artist, the albums, their genres
    ("getAlbum", {"id": "abbey"}, 4),  # the album, its genres, the songs
    ("getSong", {"id": "come"}, 2),
    ("getMusicDirectory", {"id": "beatles"}, 4),  # the artist, the albums, their genres
    ("getMusicDirectory", {"id": "abbey"}, 4),  # the album, its genres, the songs
    ("getAlbumList2", {"type": "newest"}, 3),
    ("getAlbumList", {"type": "newest"}, 3),
    ("getAlbumList2", {"type": "alphabeticalByArtist"}, 3),
    ("getAlbumList2", {"type": "byGenre", "genre": "Rock"}, 3),
    ("getAlbumList2", {"type": "starred"}, 3),
    ("getAlbumList2", {"type": "recent"}, 3),
    # The listener's profile first, locked in a transaction (a savepoint here): pending listens join the tallies.
    ("getAlbumList2", {"type": "frequent"}, 6),
    ("getAlbumList2", {"type": "byYear", "fromYear": "2000", "toYear": "1900"}, 3),
    ("getAlbumList2", {"type": "random", "size": "50"}, 3),
    ("getRandomSongs", {"size": "50"}, 2),
    ("getGenres", {}, 2),
    ("getSongsByGenre", {"genre": "Rock"}, 2),
    # Per type: the count, the rows, the page reloaded (albums: their genres); "zed" is too short to correct.
    ("search3", {"query": "zed"}, 11),
    ("search3", {"query": ""}, 5),  # artists, albums and their genres, songs
    ("getUser", {"username": "carol"}, 1),
]


@pytest.mark.parametrize(("method", "params", "queries"), QUERY_COUNTS)
def test_each_method_costs_the_same_queries_whatever_the_catalogue_size(
    auth, catalogue, carol, django_assert_num_queries, method, params, queries
):
    names = {**catalogue["artists"], **catalogue["albums"], **catalogue["songs"]}
    params = dict(params)
    if "id" in params:
        thing = names[params["id"]]
        prefix = {"Artist": "ar-", "Album": "al-", "Song": ""}[type(thing).__name__]
        params["id"] = f"{prefix}{thing.pk}"
    Like.objects.create(user=carol, album=catalogue["albums"]["abbey"])
    play(carol, catalogue["songs"]["dancing"], timezone.now())
    for size in (1, 4):
        grow(catalogue, size)
        with django_assert_num_queries(queries):
            ok_json(rest(method, auth, f="json", **params))
