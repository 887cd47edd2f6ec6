"""Kept API answers given to anonymous clients before DRF runs (SyroMusic.api.kept.KeptAnswerMiddleware):
the same bytes and headers as DRF's own path, the same hourly limit, and only to whom DRF would give them."""

import gzip
import json
from http import HTTPStatus

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .factories import make_album, make_playlist, make_song, make_user

pytestmark = pytest.mark.django_db

# What a client may not compare between two answers: how many requests it has left.
PER_ANSWER = {"X-RateLimit-Remaining"}


def body(response):
    content = gzip.decompress(response.content) if response.get("Content-Encoding") == "gzip" else response.content
    return json.loads(content)


def headers(response):
    return {name: value for name, value in response.items() if name not in PER_ANSWER}


@pytest.fixture
def catalogue():
    album = make_album("Blue Train")
    songs = [make_song("Blue", album=album, track_number=1), make_song("Moment's Notice", album=album, track_number=2)]
    make_playlist(name="Blue mornings", is_public=True, songs=songs)
    make_playlist(name="Secret blue", is_public=False, songs=songs)
    return album, songs


def urls(album, songs):
    return [
        "/api/v1/songs/", f"/api/v1/songs/{songs[0].pk}/", "/api/v1/songs/?ordering=-popularity",
        f"/api/v1/albums/{album.pk}/songs/", "/api/v1/playlists/", "/api/v1/search/?q=blue",
        "/api/v1/search/?q=blue&type=playlist",
    ]


@pytest.mark.parametrize("encoding", ["gzip", ""])
def test_the_kept_answer_is_what_drf_gives(catalogue, encoding, django_assert_num_queries):
    client = APIClient()
    for url in urls(*catalogue):
        first = client.get(url, HTTP_ACCEPT_ENCODING=encoding)  # rendered and kept, through DRF
        with django_assert_num_queries(0):
            kept = client.get(url, HTTP_ACCEPT_ENCODING=encoding)
            # The same request, but with an Accept header only DRF reads: DRF's own path, from the cache.
            through_drf = client.get(url, HTTP_ACCEPT_ENCODING=encoding, HTTP_ACCEPT="application/json; q=1")
        assert not getattr(first, "syro_kept_answer", False) and not getattr(through_drf, "syro_kept_answer", False)
        assert kept.syro_kept_answer, url
        assert kept.status_code == through_drf.status_code == first.status_code == HTTPStatus.OK
        assert kept.content == through_drf.content, url
        assert headers(kept) == headers(through_drf) == headers(first), url
        assert body(kept) == body(first)
        assert kept["Vary"] == "Accept, Accept-Encoding, Cookie"
        assert kept["Content-Length"] == str(len(kept.content))
        assert ("Content-Encoding" in kept) == (encoding == "gzip")


def test_a_kept_answer_counts_against_the_clients_hourly_limit(catalogue, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anonymous": 3}
    client = APIClient()
    answers = [client.get("/api/v1/songs/", REMOTE_ADDR="203.0.113.9") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [getattr(answer, "syro_kept_answer", False) for answer in answers] == [False, True, True, False]
    assert [answer["X-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert answers[3]["Retry-After"] and answers[3]["X-RateLimit-Limit"] == "3"
    # Another client has its own count.
    other = client.get("/api/v1/songs/", REMOTE_ADDR="203.0.113.10")
    assert other.status_code == HTTPStatus.OK and other.syro_kept_answer and other["X-RateLimit-Remaining"] == "2"


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"HTTP_ACCEPT": "text/html"}, "a browser gets the browsable API"),
        ({"HTTP_ACCEPT": "application/json; indent=4"}, "indented JSON is other bytes"),
        ({"QUERY_STRING": "format=api"}, "the browsable API asked by name"),
        ({"HTTP_AUTHORIZATION": "Token nonsense"}, "a token, even a wrong one (401), is DRF's to judge"),
        ({"HTTP_COOKIE": "sessionid=whatever"}, "a session may be a listener's"),
    ],
)
def test_only_a_request_drf_would_answer_with_the_kept_json_gets_it(catalogue, extra, why):
    client = APIClient()
    client.get("/api/v1/songs/")
    assert client.get("/api/v1/songs/").syro_kept_answer
    answer = client.generic("GET", "/api/v1/songs/", **extra)
    assert not getattr(answer, "syro_kept_answer", False), why


def test_a_listener_with_a_token_gets_their_own_answer_not_the_kept_one(catalogue):
    _, songs = catalogue
    alice = make_user("alice")
    client = APIClient()
    client.get("/api/v1/playlists/")
    anonymous = client.get("/api/v1/playlists/")
    assert anonymous.syro_kept_answer and {p["name"] for p in body(anonymous)["results"]} == {"Blue mornings"}
    make_playlist(owner=alice, name="Alice's own", is_public=False, songs=songs)
    token = Token.objects.create(user=alice)
    theirs = client.get("/api/v1/playlists/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert not getattr(theirs, "syro_kept_answer", False)
    assert "Alice's own" in {p["name"] for p in body(theirs)["results"]}
    assert "Alice's own" not in {p["name"] for p in body(client.get("/api/v1/playlists/"))["results"]}


def test_a_private_playlist_is_not_found_either_way(catalogue):
    client = APIClient()
    secret = client.get("/api/v1/search/?q=secret&type=playlist")
    assert body(secret)["results"] == []
    from SyroMusic.models import Playlist

    hidden = Playlist.objects.get(name="Secret blue")
    for _ in range(2):
        assert client.get(f"/api/v1/playlists/{hidden.pk}/").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db(transaction=True)  # versions move when a write commits
def test_a_catalogue_change_shows_in_the_next_kept_answer():
    make_song("Blue")
    client = APIClient()
    client.get("/api/v1/songs/")
    assert [row["title"] for row in body(client.get("/api/v1/songs/"))["results"]] == ["Blue"]
    make_song("Azure")
    fresh = client.get("/api/v1/songs/")
    assert not getattr(fresh, "syro_kept_answer", False)  # the kept one is stale: DRF renders and keeps anew
    assert [row["title"] for row in body(fresh)["results"]] == ["Azure", "Blue"]
    again = client.get("/api/v1/songs/")
    assert again.syro_kept_answer and body(again) == body(fresh)


def test_a_revalidation_is_answered_304(catalogue):
    client = APIClient()
    first = client.get("/api/v1/songs/")
    again = client.get("/api/v1/songs/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == HTTPStatus.NOT_MODIFIED and again.content == b""
