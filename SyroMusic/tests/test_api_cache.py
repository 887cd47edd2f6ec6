"""Anonymous API answers kept in the cache (SyroMusic.web.page_cache.api_read): the search and the
playlists too, compressed once, and never anything of a logged-in listener's."""

import gzip
import json
from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from .factories import make_playlist, make_song, make_user

pytestmark = pytest.mark.django_db


def body(response):
    content = gzip.decompress(response.content) if response.get("Content-Encoding") == "gzip" else response.content
    return json.loads(content)


@pytest.mark.parametrize("url", ["/api/v1/search/?q=blue", "/api/v1/search/?q=blue&type=song", "/api/v1/playlists/",
                                 "/api/v1/songs/"])
def test_a_repeat_anonymous_read_runs_no_queries_and_answers_the_same(url, django_assert_num_queries):
    make_playlist(name="Blue mornings", is_public=True, songs=[make_song("Blue")])
    first = APIClient().get(url)
    assert first.status_code == HTTPStatus.OK
    with django_assert_num_queries(0):
        again = APIClient().get(url)
    assert again.status_code == HTTPStatus.OK and body(again) == body(first)


def test_a_kept_answer_is_sent_compressed_once_and_plain_to_who_asks(django_assert_num_queries):
    make_song("Blue")
    plain = APIClient().get("/api/v1/search/?q=blue")
    compressed = APIClient().get("/api/v1/search/?q=blue", HTTP_ACCEPT_ENCODING="gzip")
    again = APIClient().get("/api/v1/search/?q=blue", HTTP_ACCEPT_ENCODING="gzip")
    assert compressed["Content-Encoding"] == "gzip" and "Accept-Encoding" in compressed["Vary"]
    assert compressed.content == again.content  # the same bytes: no per-answer padding, nothing secret in them
    assert json.loads(gzip.decompress(compressed.content)) == json.loads(plain.content)
    assert compressed["Content-Type"] == plain["Content-Type"] == "application/json"


def test_a_private_playlist_never_reaches_a_kept_answer_nor_leaves_one(alice):
    make_playlist(owner=alice, name="Secret blue", is_public=False)
    make_playlist(name="Public blue", is_public=True)
    listener = APIClient()
    listener.force_authenticate(alice)
    for _ in range(2):
        theirs = {p["name"] for p in body(listener.get("/api/v1/playlists/"))["results"]}
        anonymous = {p["name"] for p in body(APIClient().get("/api/v1/playlists/"))["results"]}
        found = {p["name"] for p in body(listener.get("/api/v1/search/?q=blue"))["results"]["playlists"]["results"]}
        found_anonymously = body(APIClient().get("/api/v1/search/?q=blue"))["results"]["playlists"]["results"]
        assert theirs == found == {"Secret blue", "Public blue"}
        assert anonymous == {p["name"] for p in found_anonymously} == {"Public blue"}


@pytest.mark.django_db(transaction=True)  # versions are bumped when a write commits
def test_a_new_public_playlist_shows_in_the_next_anonymous_answer():
    make_playlist(name="First blue", is_public=True)
    assert len(body(APIClient().get("/api/v1/search/?q=blue"))["results"]["playlists"]["results"]) == 1
    make_playlist(name="Second blue", is_public=True)
    assert len(body(APIClient().get("/api/v1/search/?q=blue"))["results"]["playlists"]["results"]) == 2


@pytest.mark.parametrize("url", ["/api/v1/search/?q=blue", "/api/v1/search/?q=blue&type=album"])
def test_album_results_list_their_genres_in_one_query_however_many(url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .factories import make_album, make_genre

    jazz = make_genre("Jazz")

    def queries_with(albums):
        for number in range(albums):
            make_album(f"Blue {number}").genres.add(jazz)
        listener = APIClient()
        listener.force_authenticate(make_user())  # answered afresh, not from the cache
        with CaptureQueriesContext(connection) as captured:
            found = body(listener.get(url))
        results = found["results"] if "type=" in url else found["results"]["albums"]["results"]
        assert all(album["genres"] == ["jazz"] for album in results) and results
        return len(captured)

    APIClient().get(url.replace("blue", "warm"))  # SQLite reads its typo vocabulary once: not counted
    assert queries_with(1) == queries_with(4)
