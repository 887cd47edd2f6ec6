"""Anonymous API answers kept in the cache (SyroMusic.web.page_cache.api_read): the search and the
playlists too, compressed once, and never anything of a logged-in listener's."""

import gzip
import json
from http import HTTPStatus

import pytest
from django.core.cache import cache
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
        listener.force_authenticate(make_user())
        cache.clear()  # answered afresh, not from the cache
        with CaptureQueriesContext(connection) as captured:
            found = body(listener.get(url))
        results = found["results"] if "type=" in url else found["results"]["albums"]["results"]
        assert all(album["genres"] == ["jazz"] for album in results) and results
        return len(captured)

    APIClient().get(url.replace("blue", "warm"))  # SQLite reads its typo vocabulary once: not counted
    assert queries_with(1) == queries_with(4)



def test_a_listeners_search_is_the_kept_answer_with_their_playlists_likes_and_history_put_in(django_assert_num_queries):
    from django.db import connection

    from SyroMusic.models import Like, SearchHistory

    from .factories import make_album

    song = make_song("Blue moon", album=make_album("Blue album"))
    make_song("Blue train")
    owner, other = make_user("blue-owner"), make_user("blue-other")
    make_playlist(owner=owner, name="Blue secret", is_public=False)
    make_playlist(name="Blue public", is_public=True)
    Like.objects.create(user=owner, song=song)
    Like.objects.create(user=owner, album=song.album)
    anonymous = body(APIClient().get("/api/v1/search/?q=blue"))  # kept for everybody from now on
    theirs, someone_else = APIClient(), APIClient()
    theirs.force_authenticate(owner)
    someone_else.force_authenticate(other)
    typos = 1 if connection.vendor == "postgresql" else 0
    # The kept answer from the cache; whether they own a private playlist (they do), their playlists
    # searched again (and on PostgreSQL the typos among them), their likes among the kept rows, their
    # history's newest entry, and its new row (update or savepoint, insert, release; the oldest beyond
    # 20 deleted).
    with django_assert_num_queries(9 + typos):
        found = body(theirs.get("/api/v1/search/?q=blue"))
    # The same search again: whether they see a private playlist is kept until the playlists change; the
    # search is already the newest in their history (read here: inside this test's transaction, what
    # remember_search keeps is kept only once it commits, see the next test).
    with django_assert_num_queries(3 + typos):
        assert body(theirs.get("/api/v1/search/?q=blue")) == found
    body(someone_else.get("/api/v1/search/?q=blue"))
    # One who may see no private playlist gets the kept group as it is: two lookups said so (kept since), no search.
    with django_assert_num_queries(2):
        assert body(someone_else.get("/api/v1/search/?q=blue")) == anonymous
    expected = json.loads(json.dumps(anonymous))
    for row in expected["results"]["songs"]["results"] + expected["results"]["albums"]["results"]:
        row["liked"] = row["id"] in (song.pk, song.album.pk) and row.get("title") in ("Blue moon", "Blue album")
    assert {p["name"] for p in found["results"].pop("playlists")["results"]} == {"Blue secret", "Blue public"}
    expected["results"].pop("playlists")
    assert found == expected
    assert [s["liked"] for s in found["results"]["songs"]["results"]].count(True) == 1
    assert [a["liked"] for a in found["results"]["albums"]["results"]] == [True]
    assert body(someone_else.get("/api/v1/search/?q=blue")) == anonymous  # likes nothing, owns no blue playlist
    assert body(APIClient().get("/api/v1/search/?q=blue")) == anonymous
    assert list(SearchHistory.objects.filter(user=owner).values_list("query", "kind")) == [("blue", "")]
    songs = body(theirs.get("/api/v1/search/?q=blue&type=song"))
    assert {s["title"]: s["liked"] for s in songs["results"]} == {"Blue moon": True, "Blue train": False}
    assert body(APIClient().get("/api/v1/search/?q=blue&type=song"))["results"] == [dict(s, liked=False) for s in songs["results"]]
    mine = {p["name"] for p in body(theirs.get("/api/v1/search/?q=blue&type=playlist"))["results"]}
    assert mine == {"Blue secret", "Blue public"}
    assert {p["name"] for p in body(APIClient().get("/api/v1/search/?q=blue&type=playlist"))["results"]} == {"Blue public"}
    history = list(SearchHistory.objects.filter(user=owner).values_list("query", "kind"))
    assert history == [("blue", "playlist"), ("blue", "song"), ("blue", "")]


@pytest.mark.django_db(transaction=True)  # versions are bumped, and searches remembered, when a write commits
def test_a_search_repeated_within_a_minute_touches_no_history_row_and_one_made_private_shows_at_once(
    django_assert_num_queries,
):
    from SyroMusic.models import SearchHistory

    listener = make_user("repeat-listener")
    make_song("Blue moon")
    client = APIClient()
    client.force_authenticate(listener)
    body(APIClient().get("/api/v1/search/?q=blue"))  # the kept answer
    body(client.get("/api/v1/search/?q=blue"))
    first = SearchHistory.objects.get(user=listener)
    # Again: the kept answer, whether they see a private playlist (kept), their likes among its rows; nothing
    # of their history is read or written.
    with django_assert_num_queries(1):
        body(client.get("/api/v1/search/?q=blue"))
    assert list(SearchHistory.objects.filter(user=listener).values_list("pk", "searched_at")) == [
        (first.pk, first.searched_at)
    ]
    # Another search, then the first again: written again, at the top.
    body(client.get("/api/v1/search/?q=moon"))
    body(client.get("/api/v1/search/?q=blue"))
    assert list(SearchHistory.objects.filter(user=listener).values_list("query", flat=True)) == ["blue", "moon"]
    # Cleared: the same search within the minute is written again, not taken for already there.
    assert client.delete("/api/v1/search/history/").status_code == 204
    body(client.get("/api/v1/search/?q=blue"))
    assert list(SearchHistory.objects.filter(user=listener).values_list("query", flat=True)) == ["blue"]
    # One entry removed: the same.
    entry = SearchHistory.objects.get(user=listener)
    assert client.delete(f"/api/v1/search/history/{entry.pk}/").status_code == 204
    body(client.get("/api/v1/search/?q=blue"))
    assert list(SearchHistory.objects.filter(user=listener).values_list("query", flat=True)) == ["blue"]
    # A private playlist of theirs made now is in their next answer: what was kept of them goes with the version.
    assert [p["name"] for p in body(client.get("/api/v1/search/?q=blue"))["results"]["playlists"]["results"]] == []
    make_playlist(owner=listener, name="Blue secret", is_public=False)
    assert [p["name"] for p in body(client.get("/api/v1/search/?q=blue"))["results"]["playlists"]["results"]] == [
        "Blue secret"
    ]
    assert body(APIClient().get("/api/v1/search/?q=blue"))["results"]["playlists"]["results"] == []


@pytest.mark.django_db(transaction=True)  # versions are bumped when a write commits
def test_a_listeners_playlists_are_kept_for_them_alone_until_a_playlist_or_a_sharing_changes(django_assert_num_queries):
    from SyroMusic.models import Collaborator
    from SyroMusic.services import playlist_share

    alice, bob = make_user("kept-alice"), make_user("kept-bob")
    make_playlist(owner=alice, name="Alice's secret", is_public=False)
    bobs = make_playlist(owner=bob, name="Bob's secret", is_public=False)
    make_playlist(owner=bob, name="Bob's public", is_public=True)
    theirs, his = APIClient(), APIClient()
    theirs.force_authenticate(alice)
    his.force_authenticate(bob)
    names = lambda client: [p["name"] for p in body(client.get("/api/v1/playlists/?ordering=name"))["results"]]  # noqa: E731
    assert names(theirs) == ["Alice's secret", "Bob's public"]
    with django_assert_num_queries(0):
        answer = theirs.get("/api/v1/playlists/?ordering=name")
    assert "private" in answer["Cache-Control"] and not answer.has_header("X-Accel-Expires")
    assert {"Cookie", "Authorization"} <= {part.strip() for part in answer["Vary"].split(",")}
    assert names(his) == ["Bob's public", "Bob's secret"]
    assert names(APIClient()) == ["Bob's public"]
    playlist_share(playlist=bobs, sender=bob, recipient=alice)  # shared with her: she may see it at once
    assert Collaborator.objects.filter(playlist=bobs, user=alice).exists()
    assert names(theirs) == ["Alice's secret", "Bob's public", "Bob's secret"]
    bobs.remove_collaborator(alice.pk)
    assert names(theirs) == ["Alice's secret", "Bob's public"]
    # Any way a collaborator is written (the admin's form, a cascade): no helper of the models' bumps it.
    collaborator = Collaborator.objects.create(playlist=bobs, user=alice, level=Collaborator.Level.VIEW)
    assert names(theirs) == ["Alice's secret", "Bob's public", "Bob's secret"]
    collaborator.delete()
    assert names(theirs) == ["Alice's secret", "Bob's public"]
    bobs.is_public = True
    bobs.save()
    assert names(theirs) == ["Alice's secret", "Bob's public", "Bob's secret"]
    assert names(APIClient()) == ["Bob's public", "Bob's secret"]
    bobs.is_public = False
    bobs.save()
    assert theirs.get(f"/api/v1/playlists/{bobs.pk}/").status_code == HTTPStatus.NOT_FOUND
    assert his.get(f"/api/v1/playlists/{bobs.pk}/").json()["name"] == "Bob's secret"
    assert theirs.get(f"/api/v1/playlists/{bobs.pk}/").status_code == HTTPStatus.NOT_FOUND


def test_a_listeners_search_kept_first_for_everybody_holds_nothing_of_theirs():
    from SyroMusic.models import Like

    song = make_song("Blue moon")
    owner = make_user("first-owner")
    make_playlist(owner=owner, name="Blue secret", is_public=False)
    make_playlist(name="Blue public", is_public=True)
    Like.objects.create(user=owner, song=song)
    cache.clear()
    theirs = APIClient()
    theirs.force_authenticate(owner)
    for url in ("/api/v1/search/?q=blue", "/api/v1/search/?q=blue&type=song"):
        assert "Blue secret" in theirs.get(url).content.decode() or "type=song" in url
        assert '"liked":true' in theirs.get(url).content.decode()  # kept now: made by their request
        someone = APIClient()
        someone.force_authenticate(make_user())
        for other in (APIClient(), someone):
            answer = other.get(url).content.decode()
            assert "Blue secret" not in answer and '"liked":true' not in answer and "Blue moon" in answer


def test_a_private_playlist_shared_with_a_listener_is_in_their_kept_search_alone():
    from SyroMusic.models import Collaborator

    make_song("Blue moon")
    bob, carol = make_user("shared-bob"), make_user("shared-carol")
    shared = make_playlist(owner=bob, name="Blue shared", is_public=False)
    Collaborator.objects.create(playlist=shared, user=carol, level=Collaborator.Level.VIEW)
    anonymous = body(APIClient().get("/api/v1/search/?q=blue"))
    assert anonymous["results"]["playlists"]["results"] == []
    theirs, someone = APIClient(), APIClient()
    theirs.force_authenticate(carol)
    someone.force_authenticate(make_user())
    for _ in range(2):
        assert [p["name"] for p in body(theirs.get("/api/v1/search/?q=blue"))["results"]["playlists"]["results"]] == ["Blue shared"]
        assert body(someone.get("/api/v1/search/?q=blue")) == anonymous
