"""What the API promises a client: 4xx for every bad request (never a 500), one rule per question
whichever face asks it, and a schema from which a generated client works."""

import importlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from SyroMusic.models import Genre, Playlist, PlaylistQuerySet

from .factories import logged_in, make_album, make_artist, make_genre, make_playlist, make_song, make_user

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def problem(response):
    assert response["Content-Type"] == PROBLEM, response.content
    body = response.json()
    assert body["status"] == response.status_code
    return body


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def alice():
    return make_user("alice")


def first_name_check_misses(monkeypatch):
    """As when another request creates the same name between our checks and our insert: the checks
    before saving say the name is free, a later one sees the row."""
    real, calls = PlaylistQuerySet.name_taken, []

    def name_taken(self, *args, **kwargs):
        calls.append(args)
        return False if len(calls) == 1 else real(self, *args, **kwargs)

    monkeypatch.setattr(PlaylistQuerySet, "name_taken", name_taken)
    monkeypatch.setattr(Playlist, "validate_constraints", lambda self, exclude=None: None)


class TestNoServerErrors:
    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/songs/?cursor=cD1hYmM=",  # p=abc
            "/api/v1/songs/?cursor=cD0xLjU=",  # p=1.5
            "/api/v1/playlists/?cursor=cD14",  # p=x
            "/api/v1/songs/?cursor=cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ==",  # p=99999999999999999999999: past a bigint
            "/api/v1/songs/?cursor=bz1hYmM%3D",  # o=abc
            "/api/v1/songs/?cursor=not-base64!",
        ],
    )
    def test_it_answers_a_malformed_cursor_with_400_naming_it(self, api, url):
        make_song()
        make_playlist(is_public=True)
        body = problem(api.get(url))
        assert body["status"] == 400
        assert body["errors"] == {
            "cursor": ["Not a cursor of this list: follow the next and previous links, or give cursor= empty to start."]
        }

    def test_it_still_walks_with_the_cursors_it_gave(self, api):
        songs = [make_song() for _ in range(3)]
        first = api.get("/api/v1/songs/?cursor=&page_size=2").json()
        second = api.get(first["next"]).json()
        assert [song["id"] for song in first["results"] + second["results"]] == [song.pk for song in songs]

    @pytest.mark.parametrize(
        ("method", "url"),
        [
            ("get", "/music/users/%00/"),
            ("get", "/api/v1/users/a%00b/"),
            ("post", "/api/v1/users/a%00b/"),
            ("delete", "/api/v1/users/a%00b/"),
            ("post", "/music/users/a%00b/follow/"),
            ("post", "/music/users/a%00b/unfollow/"),
        ],
    )
    def test_a_nul_in_the_path_is_404_before_any_query(self, method, url, django_assert_num_queries):
        # PostgreSQL cannot compare text holding NUL: the lookup itself would be a 500. (A page's
        # visitor is anonymous here, so that the 404 page itself needs no query.)
        client = logged_in(make_user("alice"), api=True) if url.startswith("/api/") else logged_in(None)
        with django_assert_num_queries(0):
            response = getattr(client, method)(url)
        assert response.status_code == 404
        if url.startswith("/api/"):
            assert problem(response)["detail"] == "There is no API endpoint at this address."

    def test_deeply_nested_json_is_a_400_not_a_crash(self, alice):
        body = problem(
            logged_in(alice, api=True).post("/api/v1/playlists/", "[" * 100_000, content_type="application/json")
        )
        assert body["status"] == 400
        assert body["detail"] == "JSON parse error - nested too deeply."
        assert not Playlist.objects.exists()

    @pytest.mark.parametrize("description", ["100%00 pure", "a \\u0000 in a code sample", "%2500"])
    def test_text_that_only_looks_like_a_nul_is_accepted(self, alice, description):
        response = logged_in(alice, api=True).post(
            "/api/v1/playlists/", {"name": "Mix", "description": description}, format="json"
        )
        assert response.status_code == 201, response.content
        assert Playlist.objects.get().description == description

    @pytest.mark.parametrize(
        ("content_type", "body"),
        [
            ("application/json", '{"name": "a\\u0000b"}'),
            ("application/json", '{"name": "Mix", "description": ["x", {"y": "\\u0000"}]}'),
            ("application/json", '{"na\\u0000me": "Mix"}'),
            ("application/x-www-form-urlencoded", "name=a%00b"),
        ],
    )
    def test_a_real_nul_in_a_body_is_still_refused(self, alice, content_type, body):
        response = logged_in(alice, api=True).post("/api/v1/playlists/", body, content_type=content_type)
        assert problem(response)["detail"] == "NUL characters are not allowed in the query string or body."
        assert response.status_code == 400

    def test_a_name_taken_meanwhile_is_the_same_400_in_the_api(self, alice, monkeypatch):
        make_playlist(owner=alice, name="Road trip")
        first_name_check_misses(monkeypatch)
        body = problem(logged_in(alice, api=True).post("/api/v1/playlists/", {"name": "Road trip"}, format="json"))
        assert (body["status"], body["errors"]) == (400, {"name": [Playlist.NAME_TAKEN]})
        assert Playlist.objects.count() == 1

    def test_a_rename_to_a_name_taken_meanwhile_is_400_in_the_api(self, alice, monkeypatch):
        make_playlist(owner=alice, name="Road trip")
        other = make_playlist(owner=alice, name="Gym")
        first_name_check_misses(monkeypatch)
        response = logged_in(alice, api=True).patch(f"/api/v1/playlists/{other.pk}/", {"name": "Road trip"}, format="json")
        assert problem(response)["errors"] == {"name": [Playlist.NAME_TAKEN]}
        assert Playlist.objects.get(pk=other.pk).name == "Gym"

    def test_a_name_taken_meanwhile_is_the_form_error_on_the_page(self, alice, monkeypatch):
        make_playlist(owner=alice, name="Road trip")
        first_name_check_misses(monkeypatch)
        response = logged_in(alice).post("/music/playlists/new/", {"name": "Road trip", "description": ""})
        assert response.status_code == 200
        assert response.context["form"].errors == {"name": [Playlist.NAME_TAKEN]}
        assert Playlist.objects.count() == 1

    def test_a_rename_to_a_name_taken_meanwhile_is_the_form_error_on_the_page(self, alice, monkeypatch):
        make_playlist(owner=alice, name="Road trip")
        other = make_playlist(owner=alice, name="Gym")
        first_name_check_misses(monkeypatch)
        response = logged_in(alice).post(f"/music/playlists/{other.pk}/edit/", {"name": "Road trip", "description": ""})
        assert response.status_code == 200
        assert response.context["form"].errors == {"name": [Playlist.NAME_TAKEN]}

    @pytest.mark.django_db(transaction=True)  # as in production: no test transaction for the refusal to break
    def test_any_other_unique_race_in_the_api_is_a_409_problem(self, monkeypatch):
        editor = make_user("editor", is_staff=True)
        editor.user_permissions.add(Permission.objects.get(codename="add_genre"))
        make_genre("Jazz", slug="jazz")
        # Both checks passed before the other request's insert committed.
        monkeypatch.setattr("rest_framework.validators.UniqueValidator.__call__", lambda self, value, field: None)
        response = logged_in(editor, api=True).post("/api/v1/genres/", {"name": "Jazz", "slug": "jazz"}, format="json")
        body = problem(response)
        assert body["status"] == 409
        assert body["detail"] == "This conflicts with a change made at the same moment. Read it again, then retry."
        assert Genre.objects.count() == 1

    @pytest.mark.django_db(transaction=True)
    def test_any_other_unique_race_on_a_page_is_a_409_page(self, monkeypatch):
        make_genre("Jazz", slug="jazz")
        monkeypatch.setattr("django.forms.models.BaseModelForm.validate_unique", lambda form: None)
        admin = logged_in(make_user("root", is_staff=True, is_superuser=True))
        response = admin.post("/admin/SyroMusic/genre/add/", {"name": "Jazz", "slug": "jazz"})
        assert response.status_code == 409
        assert "This conflicts with a change made at the same moment." in response.content.decode()
        assert Genre.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_creates_of_one_name_at_once_make_one_playlist_and_one_400():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent inserts need PostgreSQL (make test-services)")
    alice = make_user("alice")
    barrier, statuses = threading.Barrier(2), []

    def create():
        try:
            client = logged_in(alice, api=True)
            barrier.wait(timeout=60)
            statuses.append(client.post("/api/v1/playlists/", {"name": "Same"}, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [201, 400]
    assert Playlist.objects.filter(name="Same").count() == 1


class TestUnknownFields:
    def test_it_refuses_unknown_fields_naming_them_and_creates_nothing(self, alice):
        response = logged_in(alice, api=True).post("/api/v1/playlists/", {"name": "x", "is_publik": True}, format="json")
        body = problem(response)
        assert body["errors"] == {
            "is_publik": ["Unknown field. This endpoint accepts: description, is_public, name."]
        }
        assert not Playlist.objects.exists()

    def test_it_refuses_them_in_a_partial_update_and_on_actions_too(self, alice):
        playlist = make_playlist(owner=alice, songs=[make_song()])
        client = logged_in(alice, api=True)
        body = problem(client.patch(f"/api/v1/playlists/{playlist.pk}/", {"titel": "x"}, format="json"))
        assert list(body["errors"]) == ["titel"]
        body = problem(client.post(f"/api/v1/playlists/{playlist.pk}/entries/", {"song": 1, "positon": 1}, format="json"))
        assert body["errors"] == {"positon": ["Unknown field. This endpoint accepts: position, song."]}
        body = problem(client.patch("/api/v1/me/", {"bio": "hi", "public": False}, format="json"))
        assert body["errors"] == {"public": ["Unknown field. This endpoint accepts: bio, is_public, stats_public, time_zone."]}

    def test_fields_the_api_sends_may_be_sent_back(self, alice):
        client = logged_in(alice, api=True)
        playlist = client.post("/api/v1/playlists/", {"name": "Mix"}, format="json").json()
        playlist["description"] = "Edited"
        response = client.put(f"/api/v1/playlists/{playlist['id']}/", playlist, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["description"] == "Edited"

    def test_a_token_request_with_a_misspelt_field_is_refused(self, api):
        make_user("alice")
        body = problem(api.post("/api/v1/auth/token/", {"username": "alice", "pasword": "x"}, format="json"))
        assert body["status"] == 400
        assert body["errors"]["pasword"] == ["Unknown field. This endpoint accepts: password, username."]


class TestEntryPositions:
    @pytest.mark.parametrize(("position", "status"), [(1, 201), (3, 201), (4, 400), (0, 400)])
    def test_adding_accepts_1_to_one_past_the_end_like_moving_accepts_1_to_the_end(self, alice, position, status):
        playlist = make_playlist(owner=alice, songs=[make_song(), make_song()])
        response = logged_in(alice, api=True).post(
            f"/api/v1/playlists/{playlist.pk}/entries/", {"song": make_song().pk, "position": position}, format="json"
        )
        assert response.status_code == status
        if status == 400 and position:
            assert problem(response)["errors"] == {"position": ["position must be between 1 and 3"]}
        assert playlist.entries.count() == (3 if status == 201 else 2)

    def test_the_rule_is_the_playlists_own(self, alice):
        playlist = make_playlist(owner=alice, songs=[make_song()])
        with pytest.raises(ValueError, match="position must be between 1 and 2"):
            playlist.add_song(make_song(), by=alice, position=5)
        with pytest.raises(ValueError, match="position must be between 1 and 1"):
            playlist.move_entry(playlist.entries.get(), to=2)


class TestFilters:
    @pytest.fixture
    def catalogue(self):
        rock = make_genre("Rock", slug="rock")
        album = make_album("Nevermind", artist=make_artist("Nirvana", country="US"), release_date="1991-09-24")
        make_song("Lithium", album=album, genre=rock, explicit=False)
        make_song("Polly", album=album, genre=rock, explicit=True)
        return album

    @pytest.mark.parametrize(
        ("url", "parameter", "message"),
        [
            ("/api/v1/songs/?explicit=maybe", "explicit", "'maybe' is not one of: true, false."),
            ("/api/v1/songs/?artist=abc", "artist", "'abc' is not the id of an artist."),
            ("/api/v1/songs/?artist=999999", "artist", "'999999' is not the id of an artist."),
            ("/api/v1/albums/?artist=1.5", "artist", "'1.5' is not the id of an artist."),
            ("/api/v1/songs/?album=x", "album", "'x' is not the id of an album."),
            ("/api/v1/songs/?genre=nope", "genre", "'nope' is not the slug of a genre (see /api/v1/genres/)."),
            ("/api/v1/albums/?genre=nope", "genre", "'nope' is not the slug of a genre (see /api/v1/genres/)."),
            ("/api/v1/songs/?type=lp", "type", "'lp' is not one of: album, single, ep, compilation."),
            ("/api/v1/albums/?type=lp", "type", "'lp' is not one of: album, single, ep, compilation."),
            ("/api/v1/songs/?year_min=abc", "year_min", "'abc' is not a year from 1 to 9999."),
            ("/api/v1/albums/?year_max=0", "year_max", "'0' is not a year from 1 to 9999."),
            ("/api/v1/albums/?year_max=1990.5", "year_max", "'1990.5' is not a year from 1 to 9999."),
            ("/api/v1/artists/?country=USA", "country", "'USA' is not a two-letter country code (ISO 3166-1), such as GB."),
        ],
    )
    def test_every_bad_filter_value_is_a_400_naming_the_parameter_and_what_it_accepts(
        self, api, catalogue, url, parameter, message
    ):
        body = problem(api.get(url))
        assert (body["status"], body["errors"]) == (400, {parameter: [message]})

    @pytest.mark.parametrize(
        ("query", "titles"),
        [
            ("explicit=true", ["Polly"]),
            ("explicit=false", ["Lithium"]),
            ("explicit=", ["Lithium", "Polly"]),
            ("genre=rock", ["Lithium", "Polly"]),
            ("type=album&year_min=1991&year_max=1991", ["Lithium", "Polly"]),
        ],
    )
    def test_good_values_still_filter(self, api, catalogue, query, titles):
        response = api.get(f"/api/v1/songs/?{query}")
        assert [song["title"] for song in response.json()["results"]] == titles
        response = api.get(f"/api/v1/songs/?artist={catalogue.artist_id}&album={catalogue.pk}")
        assert len(response.json()["results"]) == 2
        assert [a["name"] for a in api.get("/api/v1/artists/?country=US").json()["results"]] == ["Nirvana"]


class TestOrdering:
    def test_songs_order_by_release_year_and_by_artist_under_their_public_names(self, api):
        old = make_album("Old", artist=make_artist("The Zombies"), release_date="1968-04-19")
        new = make_album("New", artist=make_artist("Air"), release_date="1998-01-16")
        make_song("Later", album=new)
        make_song("Earlier", album=old)
        titles = lambda ordering: [s["title"] for s in api.get(f"/api/v1/songs/?ordering={ordering}").json()["results"]]
        assert titles("release_year") == ["Earlier", "Later"]
        assert titles("-release_year") == ["Later", "Earlier"]
        assert titles("artist") == ["Later", "Earlier"]  # Air before Zombies, The
        assert titles("-artist,title") == ["Earlier", "Later"]

    def test_an_unknown_ordering_lists_the_public_names(self, api):
        body = problem(api.get("/api/v1/songs/?ordering=artist__sort_name"))
        assert body["errors"] == {
            "ordering": [
                "Unknown field(s) artist__sort_name. Use: artist, created_at, duration_ms, id, popularity, "
                "release_year, title, track_number (- before a name for descending; several, comma-separated)."
            ]
        }


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    with django_db_blocker.unblock():
        call_command("spectacular", "--format", "openapi-json", "--file", str(path))
    return json.loads(path.read_text())


class TestSchema:
    def parameter(self, schema, path, name):
        return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)

    def test_it_lists_the_allowed_orderings(self, schema):
        ordering = self.parameter(schema, "/api/v1/songs/", "ordering")
        assert "release_year" in ordering["description"] and "artist__sort_name" not in ordering["description"]
        assert ordering["schema"]["pattern"].startswith("^-?(artist|created_at|duration_ms|id|popularity|release_year|")

    def test_it_states_the_page_size_range(self, schema):
        for path in ("/api/v1/songs/", "/api/v1/albums/{id}/songs/"):
            assert self.parameter(schema, path, "page_size")["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}

    def test_request_bodies_are_json_except_the_playlist_import(self, schema):
        types = {
            (path, method): list(operation["requestBody"]["content"])
            for path, operations in schema["paths"].items()
            for method, operation in operations.items()
            if "requestBody" in operation
        }
        assert types.pop(("/api/v1/playlists/import/", "post")) == ["multipart/form-data"]
        assert types and set(map(tuple, types.values())) == {("application/json",)}

    def test_a_list_is_a_numbered_page_or_a_cursor_page(self, schema):
        content = schema["paths"]["/api/v1/songs/"]["get"]["responses"]["200"]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/SongList"}
        components = schema["components"]["schemas"]
        assert components["SongList"]["anyOf"] == [
            {"$ref": "#/components/schemas/SongPage"}, {"$ref": "#/components/schemas/SongCursorPage"}
        ]
        assert "count" in components["SongPage"]["required"]
        assert "count" not in components["SongCursorPage"]["properties"]

    def test_the_search_answer_is_typed(self, schema):
        content = schema["paths"]["/api/v1/search/"]["get"]["responses"]["200"]["content"]["application/json"]
        answer = schema["components"]["schemas"][content["schema"]["$ref"].rsplit("/", 1)[1]]
        assert [ref["$ref"].rsplit("/", 1)[1] for ref in answer["anyOf"]] == [
            "SearchOverview", "ArtistSearchPage", "AlbumSearchPage", "SongSearchPage", "PlaylistSearchPage"
        ]


class TestTrailingSlash:
    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_a_write_without_the_trailing_slash_is_a_404_naming_the_address(self, alice, settings, method):
        settings.DEBUG = True  # Django would raise instead of redirecting the body away
        playlist = make_playlist(owner=alice)
        client = logged_in(alice, api=True)
        response = getattr(client, method)(f"/api/v1/playlists/{playlist.pk}?x=1", {"name": "x"}, format="json")
        body = problem(response)
        assert body["status"] == 404
        assert body["detail"] == (
            f"There is no API endpoint at this address. Did you mean /api/v1/playlists/{playlist.pk}/?x=1 "
            "(API addresses end with a slash)?"
        )
        assert Playlist.objects.get().name == playlist.name

    def test_a_read_without_it_is_still_redirected(self, api):
        response = api.get("/api/v1/songs?page=1")
        assert (response.status_code, response["Location"]) == (301, "/api/v1/songs/?page=1")


@pytest.mark.django_db(transaction=True)
def test_a_client_generated_from_the_schema_reads_logs_in_and_edits_playlists(live_server, tmp_path, settings):
    """openapi-python-client, the most used Python generator, builds a client that imports and works."""
    settings.API_THROTTLE_RATES = {"anonymous": 10**6, "user": 10**6}
    alice = make_user("alice")
    album = make_album("Blue", artist=make_artist("Joni Mitchell"), release_date="1971-06-22")
    songs = [make_song(title, album=album) for title in ("All I Want", "My Old Man", "Little Green")]
    schema = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(schema))
    bin_dir = Path(sys.executable).parent
    generation = subprocess.run(  # it formats its code with ruff, from the same virtualenv
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(schema), "--output-path",
         str(tmp_path / "syro_api_client"), "--meta", "none", "--fail-on-warning"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
    )
    assert generation.returncode == 0, generation.stdout + generation.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        package = "syro_api_client"
        for module in sorted((tmp_path / package / "api").rglob("*.py")):  # every operation imports
            importlib.import_module(".".join(module.relative_to(tmp_path).with_suffix("").parts))
        generated = importlib.import_module(package)

        def api(name):
            return importlib.import_module(f"{package}.api.{name}")

        models = importlib.import_module(f"{package}.models")
        anonymous = generated.Client(base_url=live_server.url)

        page = api("songs.songs_list").sync(client=anonymous, page_size=2)
        assert isinstance(page, models.SongPage)
        assert (page.count, [song.title for song in page.results]) == (3, ["All I Want", "Little Green"])
        walked = api("songs.songs_list").sync(client=anonymous, cursor="", page_size=2)
        assert isinstance(walked, models.SongCursorPage)
        assert [song.id for song in walked.results] == [songs[0].pk, songs[1].pk] and walked.next_
        song = api("songs.songs_retrieve").sync(client=anonymous, id=songs[2].pk)
        assert (song.title, song.album_title, song.release_year) == ("Little Green", "Blue", 1971)

        found = api("search.search_retrieve").sync(client=anonymous, q="little green")
        assert isinstance(found, models.SearchOverview)
        assert [s.title for s in found.results.songs.results] == ["Little Green"]
        found = api("search.search_retrieve").sync(client=anonymous, q="little green", type_=models.SearchRetrieveType.SONG)
        assert isinstance(found, models.SongSearchPage) and found.results[0].id == songs[2].pk

        issued = api("auth.auth_token_create").sync(
            client=anonymous, body=models.AuthTokenRequest(username="alice", password="correct horse battery")
        )
        client = generated.AuthenticatedClient(base_url=live_server.url, token=issued.token, prefix="Token")
        playlist = api("playlists.playlists_create").sync(client=client, body=models.PlaylistRequest(name="Blue, again"))
        assert (playlist.name, playlist.owner) == ("Blue, again", "alice")
        for song in songs:
            entry = api("playlists.playlists_entries_create").sync(
                client=client, id=playlist.id, body=models.AddEntryRequest(song=song.pk)
            )
            assert isinstance(entry, models.PlaylistEntry)
        moved = api("playlists.playlists_entries_create").sync(
            client=client, id=playlist.id, body=models.AddEntryRequest(song=songs[2].pk, position=1)
        )
        assert moved.position == 1
        entries = api("playlists.playlists_entries_list").sync(client=client, id=playlist.id)
        assert [entry.song.title for entry in entries.results] == ["Little Green", "All I Want", "My Old Man", "Little Green"]
        refused = api("playlists.playlists_create").sync(client=client, body=models.PlaylistRequest(name="Blue, again"))
        assert isinstance(refused, models.Problem) and refused.status == 400
        assert Playlist.objects.get(owner=alice).entries.count() == 4
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == "syro_api_client"]:
            del sys.modules[name]
