"""A logged-in request's user from the cache (SyroMusic.caching.kept_user), and pages made per request
compressed at SyroMusic.web.middleware.GZIP_LEVEL."""

import gzip
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from SyroMusic import caching
from SyroMusic.web.middleware import GZIP_LEVEL

from .factories import make_song, make_user, text

PASSWORD = "correct horse battery"

USERS = get_user_model()._meta.db_table


@pytest.fixture
def kept(settings):
    settings.USER_CACHE_SECONDS = 300


def logged_in_and_settled(user):
    """A client logged in as user, past the moment after the log-in's save when the user is not kept."""
    client = Client()
    client.force_login(user)
    cache.delete(caching.user_key(user.pk))  # as FORGOTTEN_SECONDS later
    return client


def user_queries(client, url="/music/songs/"):
    """(the response, how many queries it ran, how many of them read the users' table)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries), sum(f'FROM "{USERS}"' in query["sql"] for query in queries)


def signed_in_as(response):
    found = re.search(r'class="signed-in">Signed in as <a href="[^"]*"><strong>([^<]+)</strong>', text(response))
    return found and found.group(1)


@pytest.mark.django_db
class TestKeptUser:
    def test_the_user_is_read_once_then_comes_from_the_cache(self, kept):
        make_song()
        alice = make_user("alice")
        client = logged_in_and_settled(alice)
        client.get("/music/songs/")  # the page kept for every listener
        cache.delete(caching.user_key(alice.pk))
        first, first_count, first_reads = user_queries(client)
        second, second_count, second_reads = user_queries(client)
        assert (first_count, first_reads) == (1, 1)
        assert (second_count, second_reads) == (0, 0)  # a listener's kept page: no query at all
        assert signed_in_as(first) == signed_in_as(second) == "alice"

    def test_without_a_shared_cache_every_request_reads_it(self, settings):
        settings.USER_CACHE_SECONDS = 0
        make_song()
        client = logged_in_and_settled(make_user("alice"))
        assert [user_queries(client)[2] for _ in range(3)] == [1, 1, 1]
        assert cache.get(caching.user_key(get_user_model().objects.get().pk)) is None

    def test_a_new_password_logs_out_the_other_sessions_at_once(self, kept):
        alice = make_user("alice")
        here, elsewhere = logged_in_and_settled(alice), logged_in_and_settled(alice)
        assert signed_in_as(elsewhere.get("/music/songs/")) == "alice"  # now kept
        changed = here.post(
            "/accounts/password_change/",
            {"old_password": PASSWORD, "new_password1": "amber-lantern-42", "new_password2": "amber-lantern-42"},
        )
        assert changed.status_code == 302
        assert signed_in_as(here.get("/music/songs/")) == "alice"  # the session that changed it stays in
        response = elsewhere.get("/music/songs/")
        assert signed_in_as(response) is None and "Log in" in text(response)

    @pytest.mark.parametrize("change", ["deactivated", "renamed", "deleted"])
    def test_a_changed_account_shows_at_the_next_request(self, kept, change):
        alice = make_user("alice")
        client = logged_in_and_settled(alice)
        assert signed_in_as(client.get("/music/songs/")) == "alice"
        if change == "deactivated":
            alice.is_active = False
            alice.save()
        elif change == "renamed":
            alice.username = "alicia"
            alice.save()
        else:
            alice.delete()
        assert signed_in_as(client.get("/music/songs/")) == ("alicia" if change == "renamed" else None)

    def test_a_copy_read_before_a_change_is_not_kept_after_it(self, kept):
        alice = make_user("alice")
        cache.delete(caching.user_key(alice.pk))
        before = get_user_model().objects.get(pk=alice.pk)
        alice.first_name = "Alice"
        alice.save()  # another request changes her while this one holds the row it read before
        assert caching.kept_user(alice.pk, lambda: before).first_name == ""  # what this request read
        loads = []

        def load():
            loads.append(1)
            return get_user_model().objects.get(pk=alice.pk)

        assert caching.kept_user(alice.pk, load).first_name == "Alice"
        assert loads == [1]  # the old copy was not kept: the next request read her afresh

    @pytest.mark.django_db(transaction=True)
    def test_a_change_is_forgotten_again_when_its_transaction_commits(self, kept):
        alice = make_user("alice")
        key = caching.user_key(alice.pk)
        with transaction.atomic():
            alice.first_name = "Alice"
            alice.save()
            assert cache.get(key) == "forgotten"  # at once
            # A request of another process reads the row as it was before the commit, and keeps it.
            cache.delete(key)
            cache.set(key, ("stale",))
        assert cache.get(key) == "forgotten"  # and again on commit

    def test_a_kept_row_of_another_shape_is_read_afresh(self, kept):
        alice = make_user("alice")
        cache.set(caching.user_key(alice.pk), (("id", "username"), (alice.pk, "mallory")))
        assert caching.kept_user(alice.pk, lambda: get_user_model().objects.get(pk=alice.pk)).username == "alice"

    def test_an_unknown_user_is_anonymous_and_nothing_is_kept(self, kept):
        alice = make_user("alice")
        client = logged_in_and_settled(alice)
        get_user_model().objects.filter(pk=alice.pk).delete()
        cache.delete(caching.user_key(alice.pk))
        assert signed_in_as(client.get("/music/songs/")) is None
        assert cache.get(caching.user_key(alice.pk)) is None


@pytest.mark.django_db
class TestCompressedPerRequest:
    def test_a_listeners_page_is_compressed_at_the_level_with_a_name_of_random_length(self):
        for number in range(30):
            make_song(f"Song {number}")
        client = logged_in_and_settled(make_user("alice"))
        lengths = set()
        for _ in range(20):
            response = client.get("/music/songs/", HTTP_ACCEPT_ENCODING="gzip")
            assert response["Content-Encoding"] == "gzip" and "Accept-Encoding" in response["Vary"]
            body = response.content
            assert body[3] == gzip.FNAME
            name = body[10 : body.index(b"\x00", 10)]
            assert set(name) <= {ord("a")}
            lengths.add(len(name))
            plain = gzip.decompress(body)
            assert b"Song 29" in plain
            # The deflate stream is exactly what GZIP_LEVEL makes of the page.
            assert body[10 + len(name) + 1 :] == gzip.compress(plain, compresslevel=GZIP_LEVEL, mtime=0)[10:]
        assert len(lengths) > 1  # twenty lengths drawn from a hundred: all equal once in 10**38

    def test_a_short_answer_is_sent_as_it_is(self, client):
        response = client.get("/healthz", HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200 and len(response.content) < 200
        assert "Content-Encoding" not in response
