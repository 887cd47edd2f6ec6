"""Hostile search input: every search parameter is bounded in length and words, web requests have a
statement timeout, 503 means an unreachable (or too slow) database and nothing else, and any Unicode
text through every search entry point is never a 5xx, on SQLite and on PostgreSQL."""

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.test import Client
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from Syro.settings import database_from_url
from SyroMusic import search as searching
from SyroMusic.models import SearchHistory

from .factories import logged_in, make_album, make_artist, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/songs/", "/api/v1/albums/", "/api/v1/artists/", "/api/v1/genres/", "/api/v1/playlists/"]
PROBLEM_JSON = "application/problem+json"
ELEVEN_WORDS = "one two three four five six seven eight nine ten eleven"


def postgresql():
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _no_throttling(settings):
    # These tests send hundreds of API requests; the rate limits are tested elsewhere.
    settings.API_THROTTLE_RATES = {"anonymous": 10**9, "user": 10**9}


@pytest.fixture
def catalogue():
    """Names whose folding (unaccent on PostgreSQL) gives apostrophes, backslashes and other tsquery syntax."""
    israel = make_artist("Israel Kamakawiwoʻole")
    album = make_album("Facing Future", israel)
    make_song("Hawaiʻi '78", album, composer="Mickey Ioane")
    make_song("ŉ Boer maak ŉ plan", album)
    make_artist("Dolores Oʼreilly")
    make_artist("Back\\slash & Roll: *not* (syntax)!")
    make_artist("Beyoncé")
    make_playlist(name="Mele ʻOhana", is_public=True)
    return israel


def names(response):
    return [row.get("name") or row.get("title") for row in response.json()["results"]]


def in_savepoint(request):
    """Make a request, then undo what it did to the test's transaction, even a statement that failed
    (PostgreSQL refuses every statement after one failed until the transaction rolls back)."""
    savepoint = transaction.savepoint()
    try:
        return request()
    finally:
        transaction.savepoint_rollback(savepoint)


# Any text, with more of what broke search before: letters that unaccent folds into an apostrophe,
# tsquery and LIKE syntax, characters that fold into several, and many short words.
TRICKY = "ʻʼŉ'’′＇\\＼&|!:*()<>\"%_ ½ﬀ…é\ufdfa\x00\t"
SEARCH_TEXT = st.one_of(
    st.text(max_size=searching.MAX_LENGTH + 20),
    st.text(st.one_of(st.characters(), st.sampled_from(TRICKY)), max_size=searching.MAX_LENGTH + 20),
    st.lists(st.sampled_from(["a", "ʻi", "oʼ", "ŉ", "x\\y", "o'", "é", "&", "Кино"]), max_size=3 * searching.MAX_WORDS).map(" ".join),
)


class TestBoundedSearches:
    @pytest.mark.parametrize("path", LISTS)
    def test_it_refuses_a_list_search_of_many_words_with_a_400_naming_the_parameter_and_the_limit(self, client, path):
        response = client.get(path, {"search": " ".join(["a"] * 1900)})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response["Content-Type"] == PROBLEM_JSON
        assert response.json()["errors"] == {
            "search": [f"A search can be at most {searching.MAX_LENGTH} characters long; this one has 3,799."]
        }
        response = client.get(path, {"search": ELEVEN_WORDS})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"search": [f"A search can have at most {searching.MAX_WORDS} words; this one has 11."]}

    def test_it_still_searches_lists_with_as_many_words_as_allowed(self, client):
        make_song("One Two Three Four Five Six Seven Eight Nine Ten")
        make_song("One Two")
        response = client.get("/api/v1/songs/", {"search": "one two three four five six seven eight nine ten"})
        assert response.status_code == HTTPStatus.OK
        assert names(response) == ["One Two Three Four Five Six Seven Eight Nine Ten"]
        # A quoted phrase is one term.
        response = client.get("/api/v1/songs/", {"search": '"one two three" four five six seven eight nine ten eleven'})
        assert response.status_code == HTTPStatus.OK and response.json()["count"] == 0

    def test_it_refuses_too_many_words_on_the_search_page_suggestions_and_the_api(self, client):
        message = f"A search can have at most {searching.MAX_WORDS} words; this one has 11."
        page = client.get("/music/search/", {"q": ELEVEN_WORDS})
        assert page.status_code == HTTPStatus.BAD_REQUEST
        assert f'<p class="message error" role="alert">{message}</p>' in text(page)
        suggest = client.get("/music/search/suggest/", {"q": ELEVEN_WORDS})
        assert suggest.status_code == HTTPStatus.OK
        assert suggest.json() == {"query": ELEVEN_WORDS, "suggestions": [], "message": message}
        api = client.get("/api/v1/search/", {"q": ELEVEN_WORDS, "type": "song"})
        assert api.status_code == HTTPStatus.BAD_REQUEST
        assert api.json()["errors"] == {"q": [message]}

    def test_it_counts_the_words_searched_for_not_the_spaces(self, client):
        # "don't" is two words to search for, "AC/DC" too: ten of those is twenty.
        response = client.get("/api/v1/search/", {"q": "don't " * 10})
        assert response.json()["errors"] == {"q": [f"A search can have at most {searching.MAX_WORDS} words; this one has 20."]}
        assert client.get("/api/v1/search/", {"q": "don't " * 5}).status_code == HTTPStatus.OK


class TestStatementTimeout:
    def test_it_stops_a_web_requests_statement_after_five_seconds_by_default(self, monkeypatch):
        monkeypatch.delenv("DATABASE_STATEMENT_TIMEOUT_MS", raising=False)
        assert " -c statement_timeout=5000 " in database_from_url("postgres://db/syro")["OPTIONS"]["options"]
        monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "2500")
        assert " -c statement_timeout=2500 " in database_from_url("postgres://db/syro")["OPTIONS"]["options"]
        monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "-1")
        with pytest.raises(ImproperlyConfigured, match="DATABASE_STATEMENT_TIMEOUT_MS=-1: expected milliseconds, or 0 for no limit"):
            database_from_url("postgres://db/syro")

    def test_it_holds_on_the_connection_web_requests_use(self):
        if not postgresql():
            pytest.skip("SQLite has no statement timeout")
        expected = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS") or 5000)  # pytest.ini sets the suite's own
        with connection.cursor() as cursor:
            cursor.execute("SELECT EXTRACT(EPOCH FROM current_setting('statement_timeout')::interval) * 1000")
            assert int(cursor.fetchone()[0]) == expected

    def test_it_lets_management_commands_run_as_long_as_they_need(self):
        probe = (
            "from django.db import connection\n"
            "from Syro.settings import database_from_url\n"
            "print(database_from_url('postgres://db/syro')['OPTIONS']['options'])\n"
            "if connection.vendor == 'postgresql':\n"
            "    with connection.cursor() as cursor:\n"
            "        cursor.execute('SHOW statement_timeout')\n"
            "        print('server:', cursor.fetchone()[0])\n"
        )
        # Even when the environment asks for one: it is meant for web requests.
        env = {**os.environ, "DATABASE_STATEMENT_TIMEOUT_MS": "5000"}
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", probe],
            env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "-c statement_timeout=0 " in result.stdout
        if postgresql():
            assert "server: 0\n" in result.stdout

    def test_a_statement_stopped_for_taking_too_long_is_a_503_that_says_so(self, client, monkeypatch, tmp_path, request):
        if postgresql():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = 1")  # until the test's transaction ends

            def too_slow(*args, **kwargs):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(60)")  # stopped after 1 ms
        else:
            # SQLite's equivalent: a lock that is never released (its wait is the timeout).
            path = str(tmp_path / "locked.sqlite3")
            holder = sqlite3.connect(path, isolation_level=None)
            request.addfinalizer(holder.close)
            holder.execute("BEGIN EXCLUSIVE")

            def too_slow(*args, **kwargs):
                with connection.wrap_database_errors, closing(sqlite3.connect(path, timeout=0)) as waiting:
                    waiting.execute("SELECT * FROM sqlite_master")

        monkeypatch.setattr(searching, "best", too_slow)
        detail = (
            "The catalogue database took too long to answer, so the request was stopped. "
            "Please try again in a moment."
        )
        api = in_savepoint(lambda: client.get("/api/v1/search/", {"q": "beatles"}))
        assert api.status_code == HTTPStatus.SERVICE_UNAVAILABLE and api["Retry-After"] == "30"
        assert api["Content-Type"] == PROBLEM_JSON and api.json()["detail"] == detail
        page = in_savepoint(lambda: client.get("/music/search/", {"q": "beatles"}))
        assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE and detail in text(page)
        assert "unavailable. Please" not in text(page)

    def test_a_database_error_that_is_no_outage_is_a_500_not_a_503(self, monkeypatch):
        # SQLite said "Expression tree is too large" for a 1,900-word search, and the listener was told
        # the database was unavailable; PostgreSQL's limits are OperationalErrors too.
        statement = "SELECT repeat('x', 1073741824)" if postgresql() else "SELECT 1 WHERE " + " OR ".join(["1 = 1"] * 1200)

        def too_big(*args, **kwargs):
            with connection.cursor() as cursor:
                cursor.execute(statement)

        monkeypatch.setattr(searching, "best", too_big)
        client = Client(raise_request_exception=False)
        for path in ("/api/v1/search/", "/music/search/"):
            response = in_savepoint(lambda path=path: client.get(path, {"q": "beatles"}))
            assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR, path


class TestUnicode:
    @pytest.mark.parametrize(
        "query, kind, found",
        [
            ("Hawaiʻi", "song", "Hawaiʻi '78"),
            ("hawaiʻi 78", "song", "Hawaiʻi '78"),
            ("Kamakawiwoʻole", "artist", "Israel Kamakawiwoʻole"),
            ("kamakawiwo'ole", "artist", "Israel Kamakawiwoʻole"),
            ("oʼreilly", "artist", "Dolores Oʼreilly"),
            ("ŉ boer", "song", "ŉ Boer maak ŉ plan"),
            ("mele ʻoha", "playlist", "Mele ʻOhana"),
        ],
    )
    def test_it_finds_names_with_an_okina_or_a_modifier_apostrophe_everywhere(self, client, catalogue, query, kind, found):
        api = client.get("/api/v1/search/", {"q": query, "type": kind})
        assert api.status_code == HTTPStatus.OK
        assert names(api) == [found]
        page = client.get("/music/search/", {"q": query})
        assert page.status_code == HTTPStatus.OK and found in text(page).replace("&#x27;", "'")
        suggest = client.get("/music/search/suggest/", {"q": query})
        assert suggest.status_code == HTTPStatus.OK
        if kind != "playlist":  # suggestions are catalogue names only
            assert found in [item["label"] for item in suggest.json()["suggestions"]]

    def test_it_remembers_a_search_that_folds_into_more_than_its_history_column_holds(self):
        listener = make_user()
        query = "\ufdfa" * searching.MAX_LENGTH  # each folds into 18 characters
        response = logged_in(listener).get("/music/search/", {"q": query})
        assert response.status_code == HTTPStatus.OK
        (remembered,) = SearchHistory.objects.filter(user=listener)
        assert remembered.query == query and len(remembered.key) == 200

    def test_it_never_answers_a_5xx_to_any_text_on_any_search_entry_point(self, catalogue):
        listener = make_user("alice")
        make_playlist(owner=listener, name="Alice's ʻprivateʼ mix")
        clients = {"anonymous": Client(raise_request_exception=False), "listener": logged_in(listener)}
        clients["listener"].raise_request_exception = False  # a crash is an answer to look at here

        @given(
            query=SEARCH_TEXT, kind=st.sampled_from(["", *searching.KINDS, "podcast"]),
            who=st.sampled_from(list(clients)), listing=st.sampled_from(LISTS),
        )
        @example(query="Hawaiʻi", kind="", who="anonymous", listing="/api/v1/songs/")
        @example(query="Kamakawiwoʻole", kind="artist", who="listener", listing="/api/v1/artists/")
        @example(query="oʼreilly", kind="song", who="anonymous", listing="/api/v1/albums/")
        @example(query="ŉ", kind="", who="listener", listing="/api/v1/playlists/")
        @example(query="ʻʼ ŉŉ", kind="playlist", who="listener", listing="/api/v1/genres/")
        @example(query="\\' & | ! :* ( )", kind="", who="anonymous", listing="/api/v1/songs/")
        @example(query=" ".join(["a"] * 1900), kind="song", who="anonymous", listing="/api/v1/songs/")
        @example(query="\ufdfa" * searching.MAX_LENGTH, kind="", who="listener", listing="/api/v1/artists/")  # folds into 1,800 characters
        @hypothesis_settings(
            max_examples=30, deadline=None, derandomize=True, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        def check(query, kind, who, listing):
            client, answers = clients[who], []
            for path, params in [
                ("/music/search/", {"q": query, "type": kind}),
                ("/music/search/suggest/", {"q": query}),
                ("/api/v1/search/", {"q": query, "type": kind}),
                (listing, {"search": query}),
            ]:
                response = in_savepoint(lambda path=path, params=params: client.get(path, params))
                answers.append((path, response.status_code))
            assert [answer for answer in answers if answer[1] >= 500] == [], who

        check()
