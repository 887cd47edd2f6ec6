"""Likes: a listener likes songs, albums and artists. Private to them; the same rule (services.like_set,
with_liked) answers the pages' hearts and the API; rows say `liked` without a query per row."""

import re
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from SyroMusic.models import Album, Artist, Like, Song
from SyroMusic.services import like_set

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_artist, make_song, text

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
KINDS = {"songs": Song, "albums": Album, "artists": Artist}


@pytest.fixture
def song():
    artist = make_artist("Boards of Canada")
    return make_song("Roygbiv", album=make_album("Music Has the Right to Children", artist=artist), duration_ms=151_000)


def thing_of(kind, song):
    return {"songs": song, "albums": song.album, "artists": song.artist}[kind]


def name_of(thing):
    return thing.name if isinstance(thing, Artist) else thing.title


def problem(response):
    assert response["Content-Type"] == PROBLEM, response.content
    body = response.json()
    assert body["status"] == response.status_code
    return body


def heart(response):
    """The heart button of a page, as (aria-pressed, aria-label), or None when the page has none."""
    found = re.search(r'<button type="submit" name="liked" value="[01]" class="like-button" aria-pressed="(\w+)" aria-label="([^"]+)"', text(response))
    return found and found.groups()


def without_tokens(response):
    """The page without its CSRF tokens (each visitor's own, filled into a cached page)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text(response))


def like_url(kind, thing):
    return f"/api/v1/me/likes/{kind}/{thing.pk}/"


class TestTheApi:
    @pytest.mark.parametrize("kind", KINDS)
    def test_put_likes_and_delete_unlikes_and_both_may_be_repeated(self, alice, song, kind):
        client, thing = logged_in(alice, api=True), thing_of(kind, song)
        for _ in range(2):
            response = client.put(like_url(kind, thing))
            assert (response.status_code, response.content) == (HTTPStatus.NO_CONTENT, b"")
            assert Like.objects.for_user(alice).count() == 1
        for _ in range(2):
            assert client.delete(like_url(kind, thing)).status_code == HTTPStatus.NO_CONTENT
            assert Like.objects.for_user(alice).count() == 0

    def test_liking_again_keeps_the_first_time(self, alice, song):
        client = logged_in(alice, api=True)
        client.put(like_url("songs", song))
        first = Like.objects.get().liked_at
        client.put(like_url("songs", song))
        assert Like.objects.get().liked_at == first

    @pytest.mark.parametrize("kind", KINDS)
    def test_an_unknown_thing_is_a_404_problem(self, alice, kind):
        for method in ("put", "delete"):
            response = getattr(logged_in(alice, api=True), method)(f"/api/v1/me/likes/{kind}/999/")
            assert problem(response)["detail"] == f"No {KINDS[kind].__name__} matches the given query."
        assert Like.objects.count() == 0

    @pytest.mark.parametrize("url", ["/api/v1/me/likes/", "/api/v1/me/likes/songs/1/"])
    def test_anonymous_visitors_have_no_likes(self, song, url):
        client = logged_in(None, api=True)
        assert problem(client.get(url) if url.endswith("likes/") else client.put(url))["status"] == HTTPStatus.UNAUTHORIZED

    def test_the_list_shows_my_likes_newest_first_with_names_and_links(self, alice, bob, song):
        now = timezone.now()
        Like.objects.create(user=alice, artist=song.artist, liked_at=now - timezone.timedelta(days=2))
        Like.objects.create(user=alice, song=song, liked_at=now)
        Like.objects.create(user=alice, album=song.album, liked_at=now - timezone.timedelta(days=1))
        Like.objects.create(user=bob, song=song)
        stamp = lambda days: (now - timezone.timedelta(days=days)).isoformat().replace("+00:00", "Z")  # noqa: E731
        body = logged_in(alice, api=True).get("/api/v1/me/likes/").json()
        assert body == {
            "count": 3, "count_is_estimate": False, "page": 1, "pages": 1, "next": None, "previous": None,
            "results": [
                {
                    "kind": "song", "id": song.pk, "name": "Roygbiv", "artist_name": "Boards of Canada",
                    "url": f"http://testserver/api/v1/songs/{song.pk}/",
                    "web_url": f"http://testserver/music/songs/{song.pk}/", "liked_at": stamp(0),
                },
                {
                    "kind": "album", "id": song.album.pk, "name": "Music Has the Right to Children",
                    "artist_name": "Boards of Canada", "url": f"http://testserver/api/v1/albums/{song.album.pk}/",
                    "web_url": f"http://testserver/music/albums/{song.album.pk}/", "liked_at": stamp(1),
                },
                {
                    "kind": "artist", "id": song.artist.pk, "name": "Boards of Canada", "artist_name": None,
                    "url": f"http://testserver/api/v1/artists/{song.artist.pk}/",
                    "web_url": f"http://testserver/music/artists/{song.artist.pk}/", "liked_at": stamp(2),
                },
            ],
        }

    def test_the_list_filters_by_kind_and_refuses_an_unknown_one(self, alice, song):
        for thing in (song, song.album, song.artist):
            like_set(user=alice, thing=thing, liked=True)
        client = logged_in(alice, api=True)
        for kind in ("song", "album", "artist"):
            assert [row["kind"] for row in client.get(f"/api/v1/me/likes/?kind={kind}").json()["results"]] == [kind]
        assert problem(client.get("/api/v1/me/likes/?kind=genre"))["errors"] == {
            "kind": ["Must be one of song, album, artist; got 'genre'."]
        }

    def test_likes_are_private_and_each_listener_sees_their_own(self, alice, bob, charlie, song):
        like_set(user=alice, thing=song, liked=True)
        like_set(user=bob, thing=song.album, liked=True)
        seen = {
            user.username: [row["kind"] for row in logged_in(user, api=True).get("/api/v1/me/likes/").json()["results"]]
            for user in (alice, bob, charlie)
        }
        assert seen == {"alice": ["song"], "bob": ["album"], "charlie": []}

    def test_the_list_is_paginated_and_counted_afresh_after_each_like(self, alice):
        album = make_album()
        songs = [make_song(album=album) for _ in range(3)]
        client = logged_in(alice, api=True)
        for song in songs[:2]:
            client.put(like_url("songs", song))
        assert client.get("/api/v1/me/likes/?page_size=1").json()["count"] == 2
        client.put(like_url("songs", songs[2]))
        page = client.get("/api/v1/me/likes/?page_size=1&page=3").json()
        assert (page["count"], page["pages"], page["results"][0]["id"]) == (3, 3, songs[0].pk)

    @pytest.mark.parametrize("count", [3, 60])
    def test_the_list_takes_the_same_queries_at_any_size(self, alice, django_assert_num_queries, count):
        for number in range(count):
            song = make_song()  # an album and an artist of its own
            like_set(user=alice, thing=song if number % 3 else song.album if number % 2 else song.artist, liked=True)
        client = logged_in(alice, api=True)
        with django_assert_num_queries(2):  # count, page (with each song, album and artist joined)
            body = client.get("/api/v1/me/likes/").json()
        assert len(body["results"]) == min(count, 50)


def catalogue(count):
    album = make_album()
    songs = [make_song(album=album) for _ in range(count)]
    give_audio(*songs[::2])
    return songs


class TestLikedInRows:
    @pytest.mark.parametrize(
        ("url", "liked_of"),
        [
            ("/api/v1/songs/", lambda song: song),
            ("/api/v1/albums/{album}/songs/", lambda song: song),
            ("/api/v1/albums/", lambda song: song.album),
            ("/api/v1/artists/", lambda song: song.artist),
            ("/api/v1/artists/{artist}/albums/", lambda song: song.album),
        ],
    )
    def test_rows_say_whether_the_listener_asking_likes_them(self, alice, bob, song, url, liked_of):
        other = make_song("Other", album=make_album("Other album", artist=make_artist("Other artist")))
        like_set(user=alice, thing=liked_of(song), liked=True)
        url = url.format(album=song.album.pk, artist=song.artist.pk)
        liked = {
            who: {row["id"]: row["liked"] for row in logged_in(user, api=True).get(url).json()["results"]}
            for who, user in (("alice", alice), ("bob", bob), ("anonymous", None))
        }
        mine = liked_of(song).pk
        assert liked["alice"][mine] is True
        assert liked["bob"][mine] is False
        assert liked["anonymous"][mine] is False
        others = [liked_of(other).pk] if "{" not in url and liked_of(other).pk in liked["alice"] else []
        assert all(liked["alice"][pk] is False for pk in others)

    @pytest.mark.parametrize("kind", KINDS)
    def test_a_detail_says_liked_too(self, alice, song, kind):
        thing = thing_of(kind, song)
        like_set(user=alice, thing=thing, liked=True)
        assert logged_in(alice, api=True).get(f"/api/v1/{kind}/{thing.pk}/").json()["liked"] is True
        assert logged_in(None, api=True).get(f"/api/v1/{kind}/{thing.pk}/").json()["liked"] is False

    def test_a_listener_never_gets_an_anonymous_cached_answer_nor_leaves_one(self, alice, song):
        anonymous = logged_in(None, api=True)
        assert anonymous.get(f"/api/v1/songs/{song.pk}/").json()["liked"] is False  # cached now
        like_set(user=alice, thing=song, liked=True)
        assert logged_in(alice, api=True).get(f"/api/v1/songs/{song.pk}/").json()["liked"] is True
        assert anonymous.get(f"/api/v1/songs/{song.pk}/").json()["liked"] is False

    @pytest.mark.parametrize("count", [4, 40])
    @pytest.mark.parametrize("url", ["/api/v1/songs/", "/api/v1/albums/{album}/songs/"])
    def test_liked_costs_no_query_per_row(self, alice, django_assert_num_queries, count, url):
        songs = catalogue(count)
        for song in songs[::3]:
            like_set(user=alice, thing=song, liked=True)
        client = logged_in(alice, api=True)
        url = url.format(album=songs[0].album_id)
        # The album (nested list only), the count, the page with `liked` in it.
        with django_assert_num_queries(3 if "albums" in url else 2):
            rows = client.get(url).json()["results"]
        assert sum(row["liked"] for row in rows) == len(songs[::3])


class TestThePages:
    @pytest.mark.parametrize("kind", KINDS)
    def test_the_heart_likes_and_unlikes_without_javascript(self, alice, song, kind):
        client, thing = logged_in(alice), thing_of(kind, song)
        page = thing.get_absolute_url()
        assert heart(client.get(page)) == ("false", f"Like {name_of(thing)}")
        response = client.post(reverse("music:like", args=[kind, thing.pk]), {"liked": "1", "next": page})
        assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, page)
        assert heart(client.get(page)) == ("true", f"Unlike {name_of(thing)}")
        client.post(reverse("music:like", args=[kind, thing.pk]), {"liked": "0", "next": page})
        assert heart(client.get(page)) == ("false", f"Like {name_of(thing)}")

    def test_the_heart_form_posts_with_a_csrf_token(self, alice, song):
        client = logged_in(alice)
        client.handler.enforce_csrf_checks = True
        page = text(client.get(song.get_absolute_url()))
        form = re.search(r'<form method="post" class="like-form" action="([^"]+)">(.*?)</form>', page, re.S)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(2)).group(1)
        assert client.post(form.group(1), {"liked": "1", "csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND
        assert Like.objects.filter(user=alice, song=song).exists()
        assert client.post(form.group(1), {"liked": "0"}).status_code == HTTPStatus.FORBIDDEN

    def test_liking_goes_back_to_the_page_when_next_is_elsewhere(self, alice, song):
        response = logged_in(alice).post(reverse("music:like", args=["songs", song.pk]), {"liked": "1", "next": "https://evil.example/"})
        assert response["Location"] == song.get_absolute_url()

    def test_anonymous_visitors_see_no_heart_and_are_sent_to_log_in(self, song):
        client = logged_in(None)
        assert heart(client.get(song.get_absolute_url())) is None
        response = client.post(reverse("music:like", args=["songs", song.pk]), {"liked": "1"})
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith("/accounts/login/")
        assert Like.objects.count() == 0

    def test_an_unknown_thing_is_a_404_and_get_is_refused(self, alice, song):
        client = logged_in(alice)
        assert client.post(reverse("music:like", args=["songs", 999]), {"liked": "1"}).status_code == HTTPStatus.NOT_FOUND
        assert client.get(reverse("music:like", args=["songs", song.pk])).status_code == HTTPStatus.METHOD_NOT_ALLOWED

    @pytest.mark.parametrize("kind", KINDS)
    def test_a_cached_anonymous_page_never_shows_hearts_and_a_listeners_page_is_never_cached(self, alice, bob, song, kind):
        thing = thing_of(kind, song)
        like_set(user=alice, thing=thing, liked=True)
        page = thing.get_absolute_url()
        anonymous = logged_in(None).get(page)
        assert heart(anonymous) is None  # and now cached
        mine = logged_in(alice).get(page)
        assert heart(mine) == ("true", f"Unlike {name_of(thing)}")
        assert "private" in mine["Cache-Control"]
        assert heart(logged_in(bob).get(page)) == ("false", f"Like {name_of(thing)}")
        again = logged_in(None).get(page)
        assert heart(again) is None
        assert without_tokens(again) == without_tokens(anonymous)  # the page cached for anonymous visitors

    @pytest.mark.parametrize("kind", KINDS)
    def test_the_heart_costs_no_query_of_its_own(self, alice, song, kind, django_assert_num_queries):
        """The page's queries are the same whether the listener likes the thing or not: `liked` rides
        on the query that loads it."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        thing, client = thing_of(kind, song), logged_in(alice)
        client.get(thing.get_absolute_url())  # session and counts warmed
        with CaptureQueriesContext(connection) as before:
            client.get(thing.get_absolute_url())
        like_set(user=alice, thing=thing, liked=True)
        with django_assert_num_queries(len(before.captured_queries)):
            assert heart(client.get(thing.get_absolute_url()))[0] == "true"


class TestLikedSongsPage:
    URL = "/music/liked/"

    def test_it_lists_my_liked_songs_newest_first_with_playable_marked(self, alice, bob):
        album = make_album()
        first, second, third = (make_song(title, album=album) for title in ("First", "Second", "Third"))
        give_audio(second)
        now = timezone.now()
        Like.objects.create(user=alice, song=first, liked_at=now - timezone.timedelta(hours=2))
        Like.objects.create(user=alice, song=second, liked_at=now - timezone.timedelta(hours=1))
        Like.objects.create(user=alice, album=album)
        Like.objects.create(user=bob, song=third)
        page = text(logged_in(alice).get(self.URL))
        assert re.findall(r'<td class="row-title">(?:<img [^>]*>|<svg .*?</svg>)?<a href="/music/songs/\d+/">(\w+)</a>', page) == ["Second", "First"]
        assert "2 songs, the latest liked first" in page
        assert re.findall(r'<td class="row-title">(?:<img [^>]*>|<svg .*?</svg>)?<a href="/music/songs/\d+/">(\w+)</a>(<span class="playable")?', page) == [
            ("Second", '<span class="playable"'), ("First", ""),
        ]

    def test_it_needs_a_login(self):
        response = logged_in(None).get(self.URL)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == f"/accounts/login/?next={self.URL}"

    def test_the_header_links_to_it_for_listeners_only(self, alice):
        link = f'<a href="{self.URL}">Liked songs</a>'
        assert link in text(logged_in(alice).get("/"))
        assert link not in text(logged_in(None).get("/"))

    def test_it_is_paginated_and_counted_afresh(self, alice):
        album = make_album()
        songs = Song.objects.bulk_create(
            Song(title=f"Song {number}", album=album, artist=album.artist, track_number=number) for number in range(1, 53)
        )
        client = logged_in(alice)
        for song in songs[:51]:
            like_set(user=alice, thing=song, liked=True)
        assert "51 songs" in text(client.get(self.URL))
        like_set(user=alice, thing=songs[51], liked=True)
        second = text(client.get(self.URL + "?page=2"))
        assert "52 songs" in second
        assert re.findall(r'<td class="row-title">(?:<img [^>]*>|<svg .*?</svg>)?<a href="/music/songs/\d+/">([\w ]+)</a>', second) == ["Song 2", "Song 1"]

    @pytest.mark.parametrize("count", [3, 60])
    def test_it_takes_the_same_queries_at_any_size(self, alice, django_assert_num_queries, count):
        songs = catalogue(count)
        for song in songs:
            like_set(user=alice, thing=song, liked=True)
        client = logged_in(alice)
        # The user (sessions live in the cache), the count, the page of songs with albums, artists and files.
        with django_assert_num_queries(3):
            response = client.get(self.URL)
        assert response.status_code == HTTPStatus.OK


class TestOneRule:
    @pytest.mark.parametrize("face", ["page", "api"])
    @pytest.mark.parametrize("kind", KINDS)
    def test_the_page_and_the_api_give_the_same_answer(self, alice, song, face, kind):
        """A like made through either face is seen by both, and undone by either."""
        thing = thing_of(kind, song)
        page, api = logged_in(alice), logged_in(alice, api=True)

        def set_liked(liked):
            if face == "page":
                page.post(reverse("music:like", args=[kind, thing.pk]), {"liked": "1" if liked else "0"})
            else:
                (api.put if liked else api.delete)(like_url(kind, thing))

        def answers():
            return (
                heart(page.get(thing.get_absolute_url()))[0] == "true",
                api.get(f"/api/v1/{kind}/{thing.pk}/").json()["liked"],
                Like.objects.for_user(alice).exists(),
            )

        assert answers() == (False, False, False)
        set_liked(True)
        assert answers() == (True, True, True)
        set_liked(False)
        assert answers() == (False, False, False)

    def test_the_database_keeps_one_like_per_listener_and_thing(self, alice, song):
        from django.db import IntegrityError, transaction

        Like.objects.create(user=alice, song=song)
        with pytest.raises(IntegrityError), transaction.atomic():
            Like.objects.create(user=alice, song=song)
        with pytest.raises(IntegrityError), transaction.atomic():
            Like.objects.create(user=alice, song=song, album=song.album)
        with pytest.raises(IntegrityError), transaction.atomic():
            Like.objects.create(user=alice)

    def test_likes_go_with_what_was_liked(self, alice, song):
        like_set(user=alice, thing=song, liked=True)
        song.delete()
        assert Like.objects.count() == 0

    def test_staff_find_likes_in_the_admin(self, alice, song, django_user_model):
        like = Like.objects.create(user=alice, song=song)
        staff = logged_in(django_user_model.objects.create_superuser("root", "root@example.com", "correct horse battery"))
        for url in (
            reverse("admin:SyroMusic_like_changelist") + "?q=roygbiv",
            reverse("admin:SyroMusic_like_add"),
            reverse("admin:SyroMusic_like_change", args=[like.pk]),
        ):
            assert staff.get(url).status_code == HTTPStatus.OK, url
        assert "alice" in text(staff.get(reverse("admin:SyroMusic_like_changelist") + "?q=roygbiv"))


def test_search_results_say_liked_for_the_listener_searching(alice, bob, song):
    like_set(user=alice, thing=song, liked=True)
    like_set(user=alice, thing=song.artist, liked=True)
    for user, expected in ((alice, True), (bob, False), (None, False)):
        client = logged_in(user, api=True)
        overview = client.get("/api/v1/search/?q=roygbiv").json()["results"]
        assert [row["liked"] for row in overview["songs"]["results"]] == [expected]
        page = client.get("/api/v1/search/?q=boards&type=artist").json()["results"]
        assert [row["liked"] for row in page] == [expected]


def test_a_flushed_seed_takes_likes_and_queues_with_it(alice):
    from django.core.management import call_command

    from SyroMusic.models import PlayQueue
    from SyroMusic.services import queue_replace

    from .factories import seed_catalogue

    seed_catalogue(30)
    song = Song.objects.first()
    like_set(user=alice, thing=song, liked=True)
    queue_replace(user=alice, song_ids=[song.pk])
    call_command("seed_catalogue", songs=30, flush=True, no_progress=True, stdout=None)
    assert (Like.objects.count(), PlayQueue.objects.count()) == (0, 0)
