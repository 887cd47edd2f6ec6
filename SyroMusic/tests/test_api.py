import gzip
import json
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from SyroMusic.models import Artist, Like, Song

from .factories import logged_in, make_album, make_artist, make_genre, make_playlist, make_song, make_user, seed_catalogue

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def staff_with(django_user_model):
    def staff_with(*codenames):
        user = django_user_model.objects.create_user("editor", password="correct horse battery", is_staff=True)
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        return user

    return staff_with


def problem(response):
    assert response["Content-Type"] == PROBLEM, response.content
    body = response.json()
    assert body["status"] == response.status_code
    return body


class TestReading:
    def test_a_song_carries_its_album_artist_and_genre_and_both_urls(self, api):
        song = make_song(
            "Hyperballad", album=make_album("Post", artist=make_artist("Björk"), release_date="1995-06-13"),
            track_number=6, duration_ms=321_000, genre=make_genre("Electronic", slug="electronic"), popularity=70,
        )
        body = api.get(f"/api/v1/songs/{song.pk}/").json()
        base = "http://testserver"
        assert body == {
            "id": song.pk, "url": f"{base}/api/v1/songs/{song.pk}/", "web_url": f"{base}/music/songs/{song.pk}/",
            "title": "Hyperballad", "album": song.album_id, "album_title": "Post",
            "album_url": f"{base}/api/v1/albums/{song.album_id}/", "artist": song.artist_id, "artist_name": "Björk",
            "artist_url": f"{base}/api/v1/artists/{song.artist_id}/", "disc_number": 1, "track_number": 6,
            "duration_ms": 321_000, "explicit": False, "composer": "", "genre": "electronic", "release_year": 1995,
            "popularity": 70, "playable": False, "audio_url": None, "audio": None, "liked": False,
            "created_at": body["created_at"],
        }

    def test_nested_albums_of_an_artist_and_songs_of_an_album(self, api):
        artist = make_artist("Radiohead")
        old, new = make_album("Pablo Honey", artist=artist, release_date="1993-02-22"), make_album("Kid A", artist=artist, release_date="2000-10-02")
        make_album("Other", artist=make_artist("Someone else"))
        for track in (2, 1):
            make_song(f"Track {track}", album=new, track_number=track)
        albums = api.get(f"/api/v1/artists/{artist.pk}/albums/").json()
        assert [album["title"] for album in albums["results"]] == ["Kid A", "Pablo Honey"]
        songs = api.get(f"/api/v1/albums/{new.pk}/songs/").json()
        assert [song["title"] for song in songs["results"]] == ["Track 1", "Track 2"]
        assert old.pk != new.pk
        assert problem(api.get("/api/v1/artists/999999/albums/"))["status"] == 404

    @pytest.mark.parametrize("songs", [300, 3000])
    @pytest.mark.parametrize(
        ("url", "queries"),
        [
            ("/api/v1/songs/", 2),  # count, page (albums, artists and genres joined)
            ("/api/v1/songs/?cursor=", 1),
            ("/api/v1/albums/", 3),  # count, page, genres of the page
            ("/api/v1/artists/", 2),
            ("/api/v1/genres/", 2),
            ("/api/v1/playlists/", 2),
            ("/api/v1/artists/2/albums/", 4),  # the artist, count, page, genres
            ("/api/v1/albums/2/songs/", 3),  # the album, count, page
        ],
    )
    def test_every_list_runs_a_fixed_number_of_queries_whatever_the_page_size(
        self, api, django_assert_num_queries, songs, url, queries
    ):
        seed_catalogue(songs)
        for size in (10, 100):
            separator = "&" if "?" in url else "?"
            cache.clear()  # counts are remembered between requests: measure the cold cost
            with django_assert_num_queries(queries):
                response = api.get(f"{url}{separator}page_size={size}")
            assert response.status_code == HTTPStatus.OK

    @pytest.mark.parametrize(
        ("query", "titles"),
        [
            ("?genre=jazz", ["Blue in Green", "So What"]),
            ("?explicit=true", ["Creep"]),
            ("?year_min=1990", ["Creep"]),
            ("?year_max=1960&ordering=-duration_ms", ["So What", "Blue in Green"]),
            ("?type=single", ["Creep"]),
            ("?search=green", ["Blue in Green"]),
            ("?search=radiohead", ["Creep"]),
            ("?ordering=-popularity", ["Creep", "So What", "Blue in Green"]),
        ],
    )
    def test_songs_filter_search_and_order(self, api, query, titles):
        jazz = make_genre("Jazz", slug="jazz")
        kind = make_album("Kind of Blue", artist=make_artist("Miles Davis"), release_date="1959-08-17")
        make_song("So What", album=kind, genre=jazz, duration_ms=562_000, popularity=50)
        make_song("Blue in Green", album=kind, genre=jazz, duration_ms=337_000, popularity=10)
        creep = make_album("Creep", artist=make_artist("Radiohead"), release_date="1992-09-21", album_type="single")
        make_song("Creep", album=creep, explicit=True, popularity=90)
        results = api.get(f"/api/v1/songs/{query}").json()["results"]
        assert [song["title"] for song in results] == titles

    def test_ordering_by_title_ignores_case_and_ties_break_by_id_the_same_way(self, api):
        album = make_album()
        ids = [make_song(title, album=album, popularity=popularity).pk
               for title, popularity in [("banana", 5), ("Apple", 5), ("cherry", 9)]]
        titles = lambda query: [s["title"] for s in api.get(f"/api/v1/songs/{query}").json()["results"]]
        assert titles("") == titles("?ordering=title") == ["Apple", "banana", "cherry"]
        assert titles("?ordering=-title") == ["cherry", "banana", "Apple"]
        assert [s["id"] for s in api.get("/api/v1/songs/?ordering=-popularity").json()["results"]] == [ids[2], ids[1], ids[0]]

    def test_songs_filter_by_artist_and_album_ids(self, api):
        song = make_song()
        make_song()
        assert [s["id"] for s in api.get(f"/api/v1/songs/?artist={song.artist_id}").json()["results"]] == [song.pk]
        assert [s["id"] for s in api.get(f"/api/v1/songs/?album={song.album_id}").json()["results"]] == [song.pk]

    def test_albums_filter_by_genre_type_and_years(self, api):
        rock = make_genre("Rock", slug="rock")
        make_album("Nevermind", release_date="1991-09-24").genres.add(rock)
        make_album("Bleach", release_date="1989-06-15", album_type="ep").genres.add(rock)
        make_album("Kind of Blue", release_date="1959-08-17")
        titles = lambda query: [a["title"] for a in api.get(f"/api/v1/albums/{query}").json()["results"]]
        assert titles("?genre=rock&ordering=release_date") == ["Bleach", "Nevermind"]
        assert titles("?type=ep") == ["Bleach"]
        assert titles("?year_min=1950&year_max=1970") == ["Kind of Blue"]


class TestPagination:
    def test_pages_of_fifty_by_default_up_to_a_hundred(self, api):
        seed_catalogue(300)
        body = api.get("/api/v1/songs/").json()
        assert (body["count"], body["page"], body["pages"], len(body["results"])) == (300, 1, 6, 50)
        assert body["next"] == "http://testserver/api/v1/songs/?page=2"
        assert len(api.get("/api/v1/songs/?page_size=100").json()["results"]) == 100

    @pytest.mark.parametrize(
        ("query", "status", "message"),
        [
            ("page=abc", 400, {"page": ["'abc' is not a whole number."]}),
            ("page=0", 400, {"page": ["Pages start at 1; got 0."]}),
            ("page_size=101", 400, {"page_size": ["Must be between 1 and 100; got 101."]}),
            ("page_size=x", 400, {"page_size": ["'x' is not a whole number."]}),
            ("ordering=bogus", 400, None),
            ("page=99", 404, "Page 99 does not exist: the last page is 6."),
            ("cursor=bz1hYmM%3D", 400, {"cursor": [
                "Not a cursor of this list: follow the next and previous links, or give cursor= empty to start."
            ]}),
        ],
    )
    def test_bad_paging_is_a_4xx_that_says_what_was_wrong(self, api, query, status, message):
        seed_catalogue(300)
        body = problem(api.get(f"/api/v1/songs/?{query}"))
        assert body["status"] == status
        if isinstance(message, dict):
            assert body["errors"] == message
        elif message:
            assert body["detail"] == message
        else:
            assert body["errors"]["ordering"][0].startswith("Unknown field(s) bogus. Use: artist, created_at,")

    def test_a_cursor_walks_every_song_once_in_id_order_whatever_the_ordering(self, api, django_assert_num_queries):
        seed_catalogue(300)
        seen, url = [], "/api/v1/songs/?cursor=&page_size=100&ordering=title"
        while url:
            with django_assert_num_queries(1):
                body = api.get(url).json()
            seen += [song["id"] for song in body["results"]]
            url = body["next"]
        assert seen == sorted(Song.objects.values_list("id", flat=True))


class TestWriting:
    def test_anonymous_writes_are_401_and_listeners_403(self, api, alice):
        album = make_album()
        payload = {"title": "New", "album": album.pk, "artist": album.artist_id, "track_number": 1}
        assert problem(api.post("/api/v1/songs/", payload, format="json"))["status"] == 401
        assert problem(logged_in(alice, api=True).post("/api/v1/songs/", payload, format="json"))["status"] == 403

    def test_staff_need_the_model_permission(self, staff_with):
        album = make_album()
        payload = {"title": "New", "album": album.pk, "artist": album.artist_id, "track_number": 1}
        assert logged_in(staff_with("change_song"), api=True).post("/api/v1/songs/", payload, format="json").status_code == 403

    def test_staff_with_permission_create_update_and_delete(self, staff_with):
        editor = logged_in(staff_with("add_song", "change_song", "delete_song"), api=True)
        album = make_album()
        created = editor.post(
            "/api/v1/songs/", {"title": "New", "album": album.pk, "artist": album.artist_id, "track_number": 1}, format="json"
        )
        assert created.status_code == 201
        song_url = f"/api/v1/songs/{created.json()['id']}/"
        assert editor.patch(song_url, {"duration_ms": 1000}, format="json").json()["duration_ms"] == 1000
        assert editor.delete(song_url).status_code == 204
        assert not Song.objects.exists()

    @pytest.mark.parametrize(
        ("change", "errors"),
        [
            ({"track_number": 0}, {"non_field_errors": ["Track numbers start at 1."]}),
            ({"duration_ms": -5}, {"non_field_errors": ["A duration cannot be negative."]}),
            ({"popularity": 101}, {"non_field_errors": ["Popularity runs from 0 to 100."]}),
            ({"track_number": 1, "title": "Dup"}, None),
            ({"album": 999999}, {"album": ['Invalid pk "999999" - object does not exist.']}),
            ({"duration_ms": "long"}, {"duration_ms": ["A valid integer is required."]}),
        ],
    )
    def test_bad_values_are_400_naming_the_rule_and_store_nothing(self, staff_with, change, errors):
        editor = logged_in(staff_with("add_song"), api=True)
        album = make_album()
        make_song("Existing", album=album, track_number=1)
        payload = {"title": "New", "album": album.pk, "artist": album.artist_id, "track_number": 2, **change}
        body = problem(editor.post("/api/v1/songs/", payload, format="json"))
        assert body["status"] == 400
        if errors:
            assert body["errors"] == errors
        else:
            assert "unique" in json.dumps(body["errors"]) or "already exists" in json.dumps(body["errors"])
        assert Song.objects.count() == 1

    def test_malformed_json_wrong_media_type_and_wrong_method(self, staff_with, api):
        editor = logged_in(staff_with("add_song"), api=True)
        body = problem(editor.post("/api/v1/songs/", "{bad json", content_type="application/json"))
        assert body["status"] == 400 and body["detail"].startswith("JSON parse error")
        assert problem(editor.post("/api/v1/songs/", "title=x", content_type="text/csv"))["status"] == 415
        assert problem(logged_in(make_user("carol"), api=True).put("/api/v1/me/"))["status"] == 405

    @pytest.mark.parametrize(
        ("method", "url", "body"),
        [("get", "/api/v1/songs/?search=a%00b", None), ("get", "/api/v1/albums/?genre=%00", None),
         ("post", "/api/v1/albums/", {"title": "x\u0000y"})],
    )
    def test_nul_characters_are_refused_with_400(self, staff_with, method, url, body):
        client = logged_in(staff_with("add_album"), api=True)
        response = getattr(client, method)(url, body, format="json")
        assert problem(response)["detail"] == "NUL characters are not allowed in the query string or body."

    def test_a_crash_is_a_problem_500_that_reveals_nothing(self, api, monkeypatch):
        def broken(*args, **kwargs):
            raise RuntimeError("secret internals")

        monkeypatch.setattr("SyroMusic.api.catalogue.GenreViewSet.list", broken)
        api.raise_request_exception = False
        body = problem(api.get("/api/v1/genres/"))
        assert body["status"] == 500 and "secret" not in json.dumps(body)

    def test_an_unknown_endpoint_and_object_are_problem_404s(self, api):
        assert problem(api.get("/api/v1/nothing-here/"))["detail"] == "There is no API endpoint at this address."
        assert problem(api.get("/api/v1/songs/123456/"))["detail"] == "No Song matches the given query."


class TestPlaylists:
    @pytest.fixture
    def playlists(self, alice):
        songs = [make_song(f"Song {n}") for n in range(1, 4)]
        return {
            "public": make_playlist(owner=alice, name="Public", is_public=True, songs=songs),
            "private": make_playlist(owner=alice, name="Private", is_public=False, songs=songs),
            "songs": songs,
        }

    @pytest.mark.parametrize("viewer", ["anonymous", "bob", "alice"])
    def test_a_private_playlist_is_404_to_all_but_its_owner_on_every_endpoint(self, api, alice, playlists, viewer):
        client = {"anonymous": api, "bob": logged_in(make_user("bob"), api=True), "alice": logged_in(alice, api=True)}[viewer]
        private = playlists["private"]
        entry = private.entries.first()
        calls = [
            ("get", f"/api/v1/playlists/{private.pk}/", None),
            ("get", f"/api/v1/playlists/{private.pk}/entries/", None),
            ("patch", f"/api/v1/playlists/{private.pk}/", {"name": "Mine now"}),
            ("post", f"/api/v1/playlists/{private.pk}/entries/", {"song": playlists["songs"][0].pk}),
            ("patch", f"/api/v1/playlists/{private.pk}/entries/{entry.pk}/", {"position": 2}),
            ("delete", f"/api/v1/playlists/{private.pk}/entries/{entry.pk}/", None),
            ("delete", f"/api/v1/playlists/{private.pk}/", None),
        ]
        for method, url, data in calls:
            response = getattr(client, method)(url, data, format="json")
            if viewer == "alice":
                assert response.status_code < 300, (method, url, response.content)
            elif viewer == "anonymous" and method != "get":
                assert response.status_code == 401, (method, url)
            else:
                assert response.status_code == 404, (method, url)
        listed = {p["name"] for p in client.get("/api/v1/playlists/").json()["results"]}
        assert listed == ({"Public"} if viewer != "alice" else {"Public"})  # alice deleted hers last

    def test_others_may_read_a_public_playlist_but_not_change_it(self, alice, playlists):
        bob = logged_in(make_user("bob"), api=True)
        public = playlists["public"]
        assert bob.get(f"/api/v1/playlists/{public.pk}/").status_code == 200
        assert problem(bob.patch(f"/api/v1/playlists/{public.pk}/", {"name": "x"}, format="json"))["status"] == 403
        assert problem(bob.post(f"/api/v1/playlists/{public.pk}/entries/", {"song": playlists["songs"][0].pk}, format="json"))["status"] == 403

    def test_the_owner_creates_adds_moves_and_removes_keeping_positions_1_to_n(self, alice):
        client = logged_in(alice, api=True)
        songs = [make_song(f"S{n}") for n in range(1, 5)]
        created = client.post("/api/v1/playlists/", {"name": "Road trip", "is_public": False}, format="json")
        assert created.status_code == 201 and created.json()["owner"] == "alice"
        entries_url = f"/api/v1/playlists/{created.json()['id']}/entries/"
        for song in songs:
            assert client.post(entries_url, {"song": song.pk}, format="json").status_code == 201
        again = client.post(entries_url, {"song": songs[0].pk, "position": 2}, format="json").json()
        assert again["position"] == 2 and again["added_by"] == "alice" and again["song"]["title"] == "S1"
        order = lambda: [(e["position"], e["song"]["title"]) for e in client.get(entries_url).json()["results"]]
        assert order() == [(1, "S1"), (2, "S1"), (3, "S2"), (4, "S3"), (5, "S4")]
        last = client.get(entries_url).json()["results"][-1]["id"]
        assert client.patch(f"{entries_url}{last}/", {"position": 1}, format="json").json()["position"] == 1
        assert order() == [(1, "S4"), (2, "S1"), (3, "S1"), (4, "S2"), (5, "S3")]
        first_s1 = client.get(entries_url).json()["results"][1]["id"]
        assert client.delete(f"{entries_url}{first_s1}/").status_code == 204
        assert order() == [(1, "S4"), (2, "S1"), (3, "S2"), (4, "S3")]
        body = problem(client.patch(f"{entries_url}{last}/", {"position": 9}, format="json"))
        assert body["errors"] == {"position": ["position must be between 1 and 4"]}
        assert problem(client.patch(f"{entries_url}{last}/", {"position": 0}, format="json"))["status"] == 400
        assert problem(client.post(entries_url, {"song": 999999}, format="json"))["status"] == 400

    def test_a_duplicate_name_is_400(self, alice, playlists):
        body = problem(logged_in(alice, api=True).post("/api/v1/playlists/", {"name": "Public"}, format="json"))
        assert body["errors"] == {"name": ["You already have a playlist with this name."]}

    def test_me_and_my_playlists(self, api, alice, playlists):
        make_playlist(owner=make_user("bob"), name="Bob's", is_public=True)
        client = logged_in(alice, api=True)
        assert client.get("/api/v1/me/").json() == {
            "id": alice.pk, "username": "alice", "is_staff": False, "bio": "", "is_public": True,
            "time_zone": "UTC", "stats_public": False, "playlists_url": "http://testserver/api/v1/me/playlists/",
        }
        changed = client.patch("/api/v1/me/", {"bio": "Jazz fan", "is_public": False}, format="json").json()
        assert (changed["bio"], changed["is_public"]) == ("Jazz fan", False)
        assert problem(client.patch("/api/v1/me/", {"bio": "x" * 2001}, format="json"))["status"] == 400
        assert {p["name"] for p in client.get("/api/v1/me/playlists/").json()["results"]} == {"Public", "Private"}
        assert problem(api.get("/api/v1/me/"))["status"] == 401


class TestAuthentication:
    def test_a_token_is_issued_for_a_password_used_and_revoked(self, api, alice):
        issued = api.post("/api/v1/auth/token/", {"username": "alice", "password": "correct horse battery"}, format="json")
        token = issued.json()["token"]
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert api.get("/api/v1/me/").json()["username"] == "alice"
        assert api.delete("/api/v1/auth/token/").status_code == 204
        assert problem(api.get("/api/v1/me/"))["status"] == 401

    def test_a_wrong_password_gets_no_token(self, api, alice):
        body = problem(api.post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json"))
        assert body["status"] == 400 and "Unable to log in" in json.dumps(body["errors"])

    def test_session_writes_need_the_csrf_token(self, alice, settings):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(alice)
        assert problem(client.post("/api/v1/playlists/", {"name": "x"}, format="json"))["status"] == 403


class TestThrottling:
    @pytest.fixture
    def limits(self, settings):
        settings.API_THROTTLE_RATES = {"anonymous": 3, "user": 5}

    def test_an_anonymous_client_gets_its_limit_then_429_with_retry_after(self, api, limits):
        responses = [api.get("/api/v1/genres/") for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert [r["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
        assert {r["X-RateLimit-Limit"] for r in responses} == {"3"}
        refused = responses[-1]
        body = problem(refused)
        assert 0 < int(refused["Retry-After"]) <= 3600
        assert body["retry_after_seconds"] == int(refused["Retry-After"])
        assert body["detail"].startswith("Request was throttled.")
        assert int(refused["X-RateLimit-Reset"]) % 3600 == 0

    def test_a_user_has_their_own_larger_budget(self, alice, limits):
        client = logged_in(alice, api=True)
        assert [client.get("/api/v1/genres/").status_code for _ in range(6)] == [200] * 5 + [429]

    def test_a_fake_forwarded_for_header_does_not_reset_the_limit(self, api, limits):
        codes = [api.get("/api/v1/genres/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(4)]
        assert codes == [200, 200, 200, 429]

    def test_behind_one_trusted_proxy_the_client_is_the_address_it_appended(self, api, limits, settings):
        settings.TRUSTED_PROXIES = 1
        # The client may send anything; the proxy appends the address it saw.
        codes = [api.get("/api/v1/genres/", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.7").status_code for n in range(4)]
        assert codes == [200, 200, 200, 429]
        assert api.get("/api/v1/genres/", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200

    def test_when_the_cache_is_unreachable_the_api_answers_without_limits(self, api, limits, settings):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead_port = probe.getsockname()[1]
        dead = {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{dead_port}/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
        settings.CACHES = {**settings.CACHES, "default": dead, "limits": dead}
        responses = [api.get("/api/v1/genres/") for _ in range(5)]
        assert [r.status_code for r in responses] == [200] * 5
        assert "X-RateLimit-Limit" not in responses[0]


class TestSchemaAndDocs:
    def test_the_schema_validates_without_warnings(self, tmp_path):
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
        schema = (tmp_path / "schema.yml").read_text()
        for path in ("/api/v1/songs/", "/api/v1/playlists/{id}/entries/{entry_id}/", "/api/v1/auth/token/", "/api/v1/me/"):
            assert f"  {path}:" in schema

    def test_the_docs_page_loads_its_assets_from_our_own_static_files(self, api):
        response = api.get("/api/v1/docs/")
        html = response.content.decode()
        assert response.status_code == 200
        assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
        assert "cdn" not in html.lower()

    def test_json_responses_are_gzipped(self, api):
        seed_catalogue(300)
        response = api.get("/api/v1/songs/?page_size=100", HTTP_ACCEPT_ENCODING="gzip")
        assert response["Content-Encoding"] == "gzip"
        assert len(json.loads(gzip.decompress(response.content))["results"]) == 100


class TestCachedReads:
    """Catalogue reads are the same for everyone: the second one comes from the cache, until a write."""

    @pytest.mark.django_db(transaction=True)
    def test_a_repeated_list_or_detail_runs_no_query_until_the_catalogue_changes(self, api, django_assert_num_queries):
        seed_catalogue(100)
        song = Song.objects.order_by("id").first()
        for url in ("/api/v1/songs/?ordering=-popularity", f"/api/v1/songs/{song.pk}/", f"/api/v1/albums/{song.album_id}/songs/"):
            first = api.get(url)
            with django_assert_num_queries(0):
                again = api.get(url)
            assert again.status_code == HTTPStatus.OK and again.content == first.content
            assert again["Content-Type"] == "application/json"
        song.title = "Renamed After Caching"
        song.save()
        assert api.get(f"/api/v1/songs/{song.pk}/").json()["title"] == "Renamed After Caching"

    def test_listeners_share_the_kept_answer_with_their_own_likes_put_in(self, api, alice, django_assert_num_queries):
        """A listener's rows say what they like (`liked`): the kept answer, plus one query for their likes."""
        seed_catalogue(100)
        anonymous = api.get("/api/v1/artists/").content
        client = APIClient()
        client.force_authenticate(alice)
        with django_assert_num_queries(1):  # her likes among the kept rows
            assert client.get("/api/v1/artists/").content == anonymous  # she likes nothing yet
        second = json.loads(anonymous)["results"][1]
        assert client.put(f"/api/v1/me/likes/artists/{second['id']}/").status_code in (HTTPStatus.OK, HTTPStatus.CREATED, HTTPStatus.NO_CONTENT)
        with django_assert_num_queries(1):
            rows = json.loads(client.get("/api/v1/artists/").content)["results"]
        assert [row["id"] for row in rows if row["liked"]] == [second["id"]]
        assert {key: value for key, value in rows[1].items() if key != "liked"} == {
            key: value for key, value in second.items() if key != "liked"
        }
        with django_assert_num_queries(0):
            assert api.get("/api/v1/artists/").content == anonymous  # nobody else sees her like

    def test_a_listeners_first_answer_leaves_the_anonymous_one(self, api, alice, django_assert_num_queries):
        seed_catalogue(100)
        Like.objects.create(user=alice, artist=Artist.objects.order_by("sort_name", "id").first())
        client = APIClient()
        client.force_authenticate(alice)
        first = json.loads(client.get("/api/v1/artists/").content)["results"]
        assert [row["liked"] for row in first[:2]] == [True, False]
        with django_assert_num_queries(0):
            rows = json.loads(api.get("/api/v1/artists/").content)["results"]
        assert not any(row["liked"] for row in rows)
        assert [row["id"] for row in rows] == [row["id"] for row in first]

    def test_the_browsable_api_is_never_cached(self, api):
        seed_catalogue(100)
        api.get("/api/v1/genres/")
        page = api.get("/api/v1/genres/", HTTP_ACCEPT="text/html")
        assert page["Content-Type"].startswith("text/html")

    def test_errors_are_not_cached(self, api):
        assert api.get("/api/v1/songs/999999/").status_code == HTTPStatus.NOT_FOUND
        make_song(album=make_album())  # whatever id it gets, 999999 stays missing
        assert api.get("/api/v1/songs/?page=0").status_code == HTTPStatus.BAD_REQUEST
        assert api.get("/api/v1/songs/?page=0").status_code == HTTPStatus.BAD_REQUEST
