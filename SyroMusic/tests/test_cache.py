import gzip
import os
import re
import threading
from http import HTTPStatus
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from SyroMusic import caching
from SyroMusic.models import Playlist, Song

from .factories import make_album, make_artist, make_playlist, make_song, make_user, seed_catalogue, text

CACHED_PAGES = [
    "/", "/music/artists/", "/music/artists/?letter=B", "/music/artists/2/", "/music/albums/", "/music/albums/1/",
    "/music/songs/", "/music/songs/?sort=popular&page=2", "/music/songs/1/", "/music/playlists/", "/music/playlists/2/",
]


def page_key_for(url):
    from django.test import RequestFactory

    from SyroMusic.web.page_cache import page_key

    return page_key(RequestFactory().get(url))


def csrf_token_in(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(response)).group(1)


@pytest.mark.django_db
class TestServedFromTheCache:
    @pytest.mark.parametrize("url", CACHED_PAGES)
    def test_a_repeat_visit_runs_no_queries_and_gets_the_same_page(self, client, django_assert_num_queries, url):
        seed_catalogue()
        first = client.get(url)
        with django_assert_num_queries(0):
            second = Client().get(url)
        assert second.status_code == HTTPStatus.OK
        strip = lambda response: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text(response))
        assert strip(second) == strip(first)

    def test_the_count_is_remembered_across_pages_of_one_list(self, django_assert_num_queries):
        seed_catalogue()
        Client().get("/music/songs/")
        with django_assert_num_queries(2):  # genres and the page: the count is known
            Client().get("/music/songs/?page=2")

    def test_different_filters_are_different_pages(self, client):
        seed_catalogue()
        jazz = text(client.get("/music/songs/?genre=jazz"))
        rock = text(client.get("/music/songs/?genre=rock"))
        assert jazz != rock
        assert text(Client().get("/music/songs/?genre=jazz")).count("<tr>") == jazz.count("<tr>")

    def test_the_order_of_query_parameters_does_not_matter(self, django_assert_num_queries):
        seed_catalogue()
        Client().get("/music/albums/?sort=newest&type=album")
        with django_assert_num_queries(0):
            Client().get("/music/albums/?type=album&sort=newest")


# Versions are bumped when a write commits, so these tests commit for real.
@pytest.mark.django_db(transaction=True)
class TestInvalidation:
    def test_a_change_through_the_orm_shows_on_the_next_request(self, client):
        song = make_song("Before", popularity=50)
        assert "Before" in text(client.get("/music/songs/"))
        song.title = "After"
        song.save()
        assert "After" in text(client.get("/music/songs/"))
        assert "After" in text(client.get(song.get_absolute_url()))

    def test_a_change_in_the_admin_shows_on_the_next_request(self, client, admin_client):
        album = make_album("Old title", artist=make_artist("Band"))
        assert "Old title" in text(client.get("/music/albums/"))
        response = admin_client.post(
            f"/admin/SyroMusic/album/{album.pk}/change/",
            {"title": "New title", "slug": album.slug, "artist": album.artist_id, "album_type": "album",
             "songs-TOTAL_FORMS": "0", "songs-INITIAL_FORMS": "0", "songs-MIN_NUM_FORMS": "0", "songs-MAX_NUM_FORMS": "1000"},
        )
        assert response.status_code == HTTPStatus.FOUND
        page = text(Client().get("/music/albums/"))
        assert "New title" in page and "Old title" not in page

    def test_a_deletion_shows_on_the_next_request(self, client):
        song = make_song("Doomed")
        url = song.get_absolute_url()
        assert "Doomed" in text(client.get("/music/songs/")) and client.get(url).status_code == HTTPStatus.OK
        song.delete()
        assert "Doomed" not in text(client.get("/music/songs/"))
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND

    def test_an_album_genre_change_shows_on_the_next_request(self, client):
        album = make_album("Tagged")
        client.get(album.get_absolute_url())
        album.genres.create(name="Shoegaze", slug="shoegaze")
        assert "Shoegaze" in text(client.get(album.get_absolute_url()))

    def test_an_import_shows_on_the_next_request(self, client, tmp_path):
        seed_catalogue()
        client.get("/music/songs/?sort=popular")
        client.get("/")
        csv = tmp_path / "new.csv"
        csv.write_text("artist,album,title\nBrand New Band,Debut,Imported Song\n", encoding="utf-8")
        call_command("import_catalogue", str(csv), no_progress=True, stdout=None)
        assert "Brand New Band" in text(client.get("/music/artists/?sort=newest"))
        assert "301 songs" in text(client.get("/"))

    def test_a_seed_shows_on_the_next_request(self, client):
        seed_catalogue(300)
        assert "300 songs" in text(client.get("/music/songs/"))
        seed_catalogue(600, flush=True)
        assert "600 songs" in text(client.get("/music/songs/"))

    def test_a_write_that_rolls_back_leaves_the_cache_alone(self, client, django_assert_num_queries):
        from django.db import transaction

        song = make_song("Stable")
        client.get("/music/songs/")
        with pytest.raises(RuntimeError), transaction.atomic():
            Song.objects.filter(pk=song.pk).update(title="Never")
            song.save()
            raise RuntimeError("rolled back")
        with django_assert_num_queries(0):
            assert "Stable" in text(Client().get("/music/songs/"))

    def test_a_playlist_change_leaves_the_catalogue_lists_cached(self, django_assert_num_queries):
        seed_catalogue()
        Client().get("/music/songs/")
        Client().get("/music/playlists/")
        Playlist.objects.filter(pk=2).update(name="Renamed")
        Playlist.objects.get(pk=2).save()
        with django_assert_num_queries(0):
            Client().get("/music/songs/")
        assert "Renamed" in text(Client().get("/music/playlists/"))

    def test_a_renamed_owner_shows_renamed_and_a_log_in_keeps_the_pages(self, django_assert_num_queries):
        owner = make_user("dana")
        make_playlist(owner=owner, name="Road trip", is_public=True)
        assert "dana" in text(Client().get("/music/playlists/"))
        listener = Client()
        listener.force_login(owner)  # saves last_login alone
        with django_assert_num_queries(0):
            Client().get("/music/playlists/")
        owner.username = "dana-k"
        owner.save()
        page = text(Client().get("/music/playlists/"))
        assert "dana-k" in page and "/music/users/dana-k/" in page

    def test_many_writes_in_one_transaction_bump_once(self):
        from django.db import transaction

        songs = [make_song() for _ in range(3)]
        calls = []
        original = caching._Bump.__call__

        def record(bump):
            calls.append(set(bump.areas))
            original(bump)

        with mock.patch.object(caching._Bump, "__call__", record):
            with transaction.atomic():
                for song in songs:
                    song.save()
                make_playlist(songs=songs).delete()
        assert len(calls) == 1
        assert calls[0] == {"catalogue", "playlists"}

    def test_a_lost_version_means_fresh_pages(self, client):
        song = make_song("Original")
        client.get("/music/songs/")
        Song.objects.filter(pk=song.pk).update(title="Changed behind our back")
        # Evicted from the cache (with Redis), or its file lost (the in-memory cache's versions).
        if settings.CACHE_VERSIONS_DIR:
            os.remove(os.path.join(settings.CACHE_VERSIONS_DIR, "catalogue"))
        else:
            cache.delete("version:catalogue")
        assert "Changed behind our back" in text(Client().get("/music/songs/"))


@pytest.mark.django_db
class TestNothingPersonalIsShared:
    def test_a_logged_in_user_gets_a_fresh_private_page(self, django_assert_num_queries):
        seed_catalogue()
        Client().get("/music/songs/")  # cached for visitors
        alice = Client()
        alice.force_login(make_user("alice"))
        with django_assert_num_queries(3, exact=False) as queries:
            response = alice.get("/music/songs/")
        assert len(queries.captured_queries) > 0
        assert 'Signed in as <a href="/music/users/alice/"><strong>alice</strong></a>' in text(response)
        assert "private" in response["Cache-Control"]
        assert "Cookie" in response["Vary"]

    def test_a_logged_in_users_page_is_never_served_to_anyone_else(self):
        seed_catalogue()
        alice = Client()
        alice.force_login(make_user("alice"))
        alice.get("/music/songs/")
        alice.get("/")
        for url in ("/music/songs/", "/"):
            page = text(Client().get(url))
            assert "alice" not in page and "Log in" in page

    def test_a_private_playlist_never_reaches_a_cached_page(self):
        alice = make_user("alice")
        song = make_song("Shared song")
        make_playlist(owner=alice, name="Alice secret", is_public=False, songs=[song])
        owner = Client()
        owner.force_login(alice)
        assert "Alice secret" in text(owner.get(song.get_absolute_url()))
        assert "Alice secret" not in text(Client().get(song.get_absolute_url()))
        assert "Alice secret" not in text(Client().get("/music/playlists/"))

    def test_every_visitor_gets_the_same_bytes_with_no_token_and_no_cookie(self):
        make_song("Some song")
        first = Client(enforce_csrf_checks=True).get("/music/songs/", HTTP_ACCEPT_ENCODING="gzip")
        with CaptureQueriesContext(connection) as queries:
            hit = Client(enforce_csrf_checks=True).get("/music/songs/", HTTP_ACCEPT_ENCODING="gzip")
        assert len(queries.captured_queries) == 0
        assert hit.content == first.content
        assert "csrfmiddlewaretoken" not in gzip.decompress(hit.content).decode()
        assert not first.cookies and not hit.cookies

    def test_the_header_log_in_link_leads_to_a_form_that_posts_and_comes_back(self):
        make_user("alice")
        visitor = Client(enforce_csrf_checks=True)
        page = text(visitor.get("/music/songs/?page=1"))
        link = re.search(r'<a href="(/accounts/login/\?next=[^"]+)">Log in</a>', page).group(1)
        assert link == "/accounts/login/?next=/music/songs/%3Fpage%3D1"
        form = visitor.get(link)
        response = visitor.post(
            "/accounts/login/",
            {"csrfmiddlewaretoken": csrf_token_in(form), "username": "alice", "password": "correct horse battery",
             "next": "/music/songs/?page=1"},
        )
        assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/music/songs/?page=1"
        # Logged in now: a fresh page with their name, never the one kept for visitors.
        assert "Signed in as" in text(visitor.get("/music/songs/?page=1"))
        assert "Signed in as" not in text(Client().get("/music/songs/?page=1"))

    def test_a_visitor_with_messages_gets_a_fresh_page_that_is_not_kept(self, client):
        from django.contrib.messages.storage.cookie import CookieStorage
        from django.http import HttpRequest, HttpResponse

        make_song("Some song")
        storage = CookieStorage(HttpRequest())
        storage.add(20, "Welcome back, Dana")
        carrier = HttpResponse()
        storage.update(carrier)
        visitor = Client()
        visitor.cookies["messages"] = carrier.cookies["messages"].value
        assert "Welcome back, Dana" in text(visitor.get("/music/songs/"))
        assert "Welcome back, Dana" not in text(Client().get("/music/songs/"))

    def test_visitors_pages_say_shared_caches_may_keep_them_briefly(self, client, settings):
        settings.PAGE_SHARED_SECONDS = 7
        make_song()
        for response in (client.get("/music/songs/"), Client().get("/music/songs/")):  # the miss, then the hit
            assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=0", "must-revalidate", "s-maxage=7"}
            assert set(response["Vary"].split(", ")) == {"Accept-Encoding", "Cookie"}

    @pytest.mark.urls("SyroMusic.tests.personal_urls")
    @pytest.mark.parametrize("url", ["/token/", "/session/", "/outer/"])
    def test_a_page_that_turns_out_personal_is_answered_private_and_never_kept(self, url):
        first = Client().get(url)
        assert first.status_code == HTTPStatus.OK
        assert "X-Accel-Expires" not in first
        assert set(first["Cache-Control"].split(", ")) == {"private", "no-cache"}
        assert first.cookies  # the visitor's own cookie (CSRF or session) went with it
        second = Client().get(url)
        assert second.cookies and "X-Accel-Expires" not in second  # rendered afresh for the next one too
        assert cache.get(page_key_for(url)) is None

    def test_a_listeners_pages_say_only_their_browser_may_keep_them(self, client):
        make_song()
        client.force_login(make_user("alice"))
        response = client.get("/music/songs/")
        assert "private" in response["Cache-Control"].split(", ") and "public" not in response["Cache-Control"]
        assert "Cookie" in response["Vary"]


@pytest.mark.django_db(transaction=True)
class TestConditionalGetAndCompression:
    def test_a_revalidation_gets_304_without_queries(self, client, django_assert_num_queries):
        seed_catalogue()
        first = client.get("/music/albums/")
        etag = first["ETag"]
        assert etag.startswith('W/"')
        with django_assert_num_queries(0):
            response = Client().get("/music/albums/", HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == HTTPStatus.NOT_MODIFIED
        assert response.content == b""

    def test_after_a_change_the_etag_no_longer_matches(self, client):
        song = make_song("One")
        etag = client.get("/music/songs/")["ETag"]
        song.title = "Two"
        song.save()
        response = Client().get("/music/songs/", HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == HTTPStatus.OK and "Two" in text(response)

    def test_pages_are_gzipped_when_the_browser_accepts_it(self, client):
        seed_catalogue()
        plain = client.get("/music/songs/")
        compressed = Client().get("/music/songs/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert compressed["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in compressed["Vary"]
        body = gzip.decompress(compressed.content).decode()
        assert re.sub(r'value="[^"]{64}"', "", body) == re.sub(r'value="[^"]{64}"', "", text(plain))
        assert len(compressed.content) < len(plain.content) * 0.25

    def test_a_listeners_csrf_token_changes_with_every_response_against_breach(self):
        make_song()
        listener = Client()
        listener.force_login(make_user("alice"))
        tokens = {csrf_token_in(listener.get("/music/songs/", HTTP_ACCEPT_ENCODING="identity")) for _ in range(3)}
        assert len(tokens) == 3

    def test_a_kept_page_keeps_the_headers_the_whole_stack_gave_it(self, client):
        make_song()
        miss = client.get("/music/songs/", HTTP_ACCEPT_ENCODING="gzip")
        hit = Client().get("/music/songs/", HTTP_ACCEPT_ENCODING="gzip")
        for name in ("Content-Type", "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                     "Referrer-Policy", "ETag", "Content-Length", "Content-Encoding"):
            assert hit[name] == miss[name], name
        assert int(hit["Content-Length"]) == len(hit.content)


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_for_a_cold_page_run_its_queries_once_not_fifty_times():
    """A stampede: the first request renders, the others wait for its result instead of querying."""
    seed_catalogue()
    cache.clear()
    barrier = threading.Barrier(50, timeout=600)
    results, queries, errors = [], [], []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    def visit():
        client = Client()
        try:
            with connection.execute_wrapper(count):
                barrier.wait()
                response = client.get("/music/songs/?sort=artist")
            results.append((response.status_code, re.sub(r'value="[^"]+"', "", text(response))))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=visit) for _ in range(50)]
    for thread in threads:
        thread.start()
    # Generous: fifty threads on a busy 2-core machine; a request stuck for good still fails the test.
    for thread in threads:
        thread.join(timeout=600)
    assert errors == []
    assert len(results) == 50
    assert {status for status, _ in results} == {HTTPStatus.OK}
    assert len({body for _, body in results}) == 1
    # One render is 3 queries (genres, count, page); fifty renders would be 150.
    assert len(queries) == 3, queries


def test_nothing_is_remembered_under_a_version_that_could_not_be_read(monkeypatch):
    """An unreachable cache gives no version: a value kept under none would be read again after any change."""
    computed = []

    def compute():
        computed.append(1)
        return len(computed)

    monkeypatch.setattr(caching, "versions", lambda areas: (None,))
    assert [caching.remember("unversioned", (caching.PLAYLISTS,), compute) for _ in range(3)] == [1, 2, 3]
    assert cache.get("unversioned:None") is None
    monkeypatch.undo()
    assert caching.remember("unversioned", (caching.PLAYLISTS,), compute) == 4
    assert caching.remember("unversioned", (caching.PLAYLISTS,), compute) == 4  # kept under a real version now
