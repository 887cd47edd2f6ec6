"""A logged-in request's user from the cache (SyroMusic.caching.kept_user), and pages made per request
compressed at SyroMusic.web.middleware.GZIP_LEVEL."""

import gzip
import os
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


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def user_queries(client, url="/music/songs/"):
    """(the response, how many queries it ran, how many of them read the users' table)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries), sum(f'FROM "{USERS}"' in query["sql"] for query in queries)


def signed_in_as(response):
    found = re.search(r'class="signed-in">Signed in as <a href="[^"]*"><strong>([^<]+)</strong>', text(response))
    return found and found.group(1)


class Loads:
    """A load() for kept_user that reads the user from the database and counts how often it was called."""

    def __init__(self, pk):
        self.pk, self.calls = pk, 0

    def __call__(self):
        self.calls += 1
        return get_user_model().objects.get(pk=self.pk)


def test_users_are_kept_for_a_minute_by_default_with_redis_and_never_without():
    from Syro import settings as project

    assert project.USER_CACHE_SECONDS == (60 if os.environ.get("REDIS_URL") else 0)


@pytest.mark.django_db
class TestKeptUser:
    def test_the_user_is_read_once_then_comes_from_the_cache(self, kept):
        make_song()
        client = logged_in(make_user("alice"))
        client.get("/music/songs/")  # the page kept for every listener, and alice kept
        client.get("/music/songs/")
        response, queries, reads = user_queries(client)
        assert (queries, reads) == (0, 0)  # a listener's kept page: no query at all
        assert signed_in_as(response) == "alice"

    def test_without_a_shared_cache_every_request_reads_it(self, settings):
        settings.USER_CACHE_SECONDS = 0
        make_song()
        alice = make_user("alice")
        client = logged_in(alice)
        assert [user_queries(client)[2] for _ in range(3)] == [1, 1, 1]
        assert cache.get(caching.user_key(alice.pk)) is None

    def test_a_new_password_logs_out_the_other_sessions_at_once(self, kept):
        alice = make_user("alice")
        here, elsewhere = logged_in(alice), logged_in(alice)
        for _ in range(2):
            assert signed_in_as(elsewhere.get("/music/songs/")) == "alice"  # kept now
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
        client = logged_in(alice)
        for _ in range(2):
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

    def test_a_row_read_just_before_a_change_is_not_used_after_it(self, kept):
        alice = make_user("alice")
        caching.kept_user(alice.pk, Loads(alice.pk))  # the generation made, alice kept

        def read_then_changed():
            """A request reads alice; another changes her before the first one keeps what it read."""
            cache.delete(caching.user_key(alice.pk))
            before = get_user_model().objects.get(pk=alice.pk)
            alice.first_name = "Alice"
            alice.save()
            return before

        cache.delete(caching.user_key(alice.pk))
        assert caching.kept_user(alice.pk, read_then_changed).first_name == ""  # what that request read
        loads = Loads(alice.pk)
        assert caching.kept_user(alice.pk, loads).first_name == "Alice"
        assert loads.calls == 1  # the old row was kept under the old generation, where nobody uses it
        assert caching.kept_user(alice.pk, loads).first_name == "Alice"
        assert loads.calls == 1  # and the new one is kept

    @pytest.mark.django_db(transaction=True)
    def test_a_row_read_while_a_change_commits_is_not_used_after_it(self, kept):
        alice = make_user("alice")
        with transaction.atomic():
            alice.first_name = "Alice"
            alice.save()
            # Another process reads alice as committed so far, and keeps her.
            assert caching.kept_user(alice.pk, lambda: get_user_model()(pk=alice.pk, username="alice")).first_name == ""
        loads = Loads(alice.pk)
        assert caching.kept_user(alice.pk, loads).first_name == "Alice"
        assert loads.calls == 1

    def test_an_evicted_generation_retires_the_kept_row(self, kept):
        alice = make_user("alice")
        caching.kept_user(alice.pk, Loads(alice.pk))
        cache.delete(caching.user_generation_key(alice.pk))
        loads = Loads(alice.pk)
        caching.kept_user(alice.pk, loads)
        caching.kept_user(alice.pk, loads)
        assert loads.calls == 1

    def test_a_kept_row_of_another_shape_is_read_afresh(self, kept):
        alice = make_user("alice")
        caching.kept_user(alice.pk, Loads(alice.pk))
        generation = cache.get(caching.user_generation_key(alice.pk))
        cache.set(caching.user_key(alice.pk), (generation, (("id", "AutoField"), ("username", "CharField")), "default",
                                               (alice.pk, "mallory")))
        loads = Loads(alice.pk)
        assert caching.kept_user(alice.pk, loads).username == "alice"
        assert loads.calls == 1

    def test_an_unknown_user_is_anonymous_and_nothing_is_kept(self, kept):
        alice = make_user("alice")
        client = logged_in(alice)
        get_user_model().objects.filter(pk=alice.pk).delete()  # no signal: as a raw delete would
        cache.delete(caching.user_key(alice.pk))
        assert signed_in_as(client.get("/music/songs/")) is None
        assert cache.get(caching.user_key(alice.pk)) is None


@pytest.mark.django_db
class TestCompressedPerRequest:
    def test_a_listeners_page_is_compressed_at_the_level_with_a_name_of_random_length(self):
        for number in range(30):
            make_song(f"Song {number}")
        client = logged_in(make_user("alice"))
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
