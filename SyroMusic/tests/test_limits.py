"""Limits found by trying to break them (issue #12): logins on every door, the client's address behind a
proxy, look-alike names, counters under cache pressure, sign-ups, reset mails, shares, tokens after a
password change, and the API's docs for a client out of budget."""

import re
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from SyroMusic.models import Share

from .factories import logged_in, make_playlist, make_user, text

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
NEW_PASSWORD = "amber-lantern-42"
PROBLEM = "application/problem+json"
WAIT_MESSAGE = "Too many failed attempts. Please wait 15 minutes and try again."


def problem(response):
    assert response["Content-Type"] == PROBLEM, response.content
    body = response.json()
    assert body["status"] == response.status_code
    return body


def log_in(way, username, password, **client_options):
    """One password login through the login page, the admin's login or the API's token endpoint."""
    if way == "page":
        return Client(**client_options).post("/accounts/login/", {"username": username, "password": password})
    if way == "admin":
        data = {"username": username, "password": password, "next": "/admin/"}
        return Client(**client_options).post("/admin/login/", data)
    return APIClient(**client_options).post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def assert_refused(way, response):
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    if way == "token":
        body = problem(response)
        assert body["detail"] == WAIT_MESSAGE
        assert body["retry_after_seconds"] == int(response["Retry-After"])
        assert "token" not in body
    else:
        assert WAIT_MESSAGE in text(response)
        assert "_auth_user_id" not in response.wsgi_request.session


def assert_logged_in(way, response):
    if way == "token":
        assert response.status_code == HTTPStatus.OK and response.json()["token"]
    else:
        assert response.status_code == HTTPStatus.FOUND
        assert response.wsgi_request.session["_auth_user_id"]


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)


class TestOneLimiterForEveryPasswordLogin:
    def test_it_locks_the_admin_login_after_five_wrong_passwords(self, root):
        for _ in range(5):
            assert log_in("admin", "root", "guess").status_code == HTTPStatus.OK
        assert_refused("admin", log_in("admin", "root", PASSWORD))

    @pytest.mark.parametrize("failed_on", ["page", "admin", "token"])
    @pytest.mark.parametrize("then_on", ["page", "admin", "token"])
    def test_it_counts_failures_on_one_door_against_every_other(self, root, failed_on, then_on):
        for _ in range(5):
            assert log_in(failed_on, "root", "guess").status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
        assert_refused(then_on, log_in(then_on, "root", PASSWORD))

    @pytest.mark.parametrize("way", ["page", "admin", "token"])
    def test_it_still_lets_the_right_password_in_under_the_limit(self, root, way):
        for _ in range(4):
            log_in(way, "root", "guess")
        assert_logged_in(way, log_in(way, "root", PASSWORD))

    def test_it_stops_a_logged_in_listener_guessing_another_ones_password_through_the_token_endpoint(self):
        make_user("alice")
        bob = logged_in(make_user("bob"), api=True)
        for _ in range(5):
            wrong = bob.post("/api/v1/auth/token/", {"username": "alice", "password": "guess"}, format="json")
            assert wrong.status_code == HTTPStatus.BAD_REQUEST
        assert_refused("token", bob.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"))


class TestTheClientsAddress:
    def test_it_locks_out_the_guessing_client_behind_a_trusted_proxy_not_everyone(self, settings):
        settings.TRUSTED_PROXIES = 1
        make_user("alice")
        make_user("bob")
        # Every request comes from the proxy (REMOTE_ADDR); the proxy appends the client's address.
        guesser = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}
        for number in range(20):
            log_in("page", f"guess{number}", "x", **guesser)
        assert_refused("page", log_in("page", "alice", PASSWORD, **guesser))
        assert_logged_in("page", log_in("page", "bob", PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8"))

    def test_it_ignores_a_forwarded_for_header_without_a_trusted_proxy(self):
        make_user("alice")
        for number in range(20):
            log_in("page", f"guess{number}", "x", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")
        assert_refused("page", log_in("page", "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99"))

    def test_the_api_throttle_reads_the_address_by_the_same_rule(self, settings):
        settings.TRUSTED_PROXIES = 1
        settings.API_THROTTLE_RATES = {"anonymous": 3, "user": 5}
        spender = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
        assert [spender.get("/api/v1/genres/").status_code for _ in range(4)] == [200, 200, 200, 429]
        neighbour = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")
        assert neighbour.get("/api/v1/genres/").status_code == HTTPStatus.OK


class TestLookAlikeNames:
    @pytest.mark.parametrize("spelling", ["ｃａｒｏｌ", "ＣＡＲＯＬ", "Carol"])
    @pytest.mark.parametrize("way", ["page", "token"])
    def test_it_counts_another_spelling_of_a_name_against_the_same_account(self, spelling, way):
        make_user("carol")
        for _ in range(5):
            log_in("page", "carol", "guess")
        assert_refused(way, log_in(way, spelling, PASSWORD))

    def test_failures_under_a_full_width_spelling_lock_the_account(self):
        make_user("carol")
        for _ in range(5):
            log_in("token", "ｃａｒｏｌ", "guess")
        assert_refused("page", log_in("page", "carol", PASSWORD))

    def test_the_token_endpoint_reads_a_full_width_name_like_the_login_page(self):
        make_user("carol")
        assert_logged_in("page", log_in("page", "ｃａｒｏｌ", PASSWORD))
        assert_logged_in("token", log_in("token", "ｃａｒｏｌ", PASSWORD))

    @pytest.mark.parametrize(
        ("username", "error"),
        [
            ("аlice", "Enter a valid username. This value may contain only unaccented lowercase a-z"),  # Cyrillic а
            ("ａｌｉｃｅ", "A user with that username already exists."),  # full width: read as alice
            ("ALICE", "A user with that username already exists."),
            ("zoë", "Enter a valid username. This value may contain only unaccented lowercase a-z"),
        ],
    )
    def test_sign_up_refuses_a_name_that_looks_like_another(self, client, username, error):
        make_user("alice")
        data = {"username": username, "email": "", "password1": "violet-harbour-77", "password2": "violet-harbour-77"}
        response = client.post("/accounts/signup/", data)
        assert response.status_code == HTTPStatus.OK
        assert error in text(response)
        assert list(get_user_model().objects.values_list("username", flat=True)) == ["alice"]


class TestCountersUnderCachePressure:
    @pytest.fixture
    def tiny_page_cache(self, settings):
        settings.CACHES = {
            **settings.CACHES,
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "tiny-page-cache",
                "OPTIONS": {"MAX_ENTRIES": 10},
            },
        }
        yield caches["default"]
        caches["default"].clear()

    def flood(self, page_cache):
        visitor = Client()
        for number in range(40):
            assert visitor.get(f"/music/artists/?flood={number}").status_code == HTTPStatus.OK
        # The page cache really was full and culled: far fewer entries than pages.
        assert 0 < len(page_cache._cache) <= 10

    def test_it_keeps_a_lockout_when_a_flood_of_pages_fills_the_page_cache(self, tiny_page_cache):
        make_user("carol")
        for _ in range(5):
            log_in("page", "carol", "guess")
        self.flood(tiny_page_cache)
        assert_refused("page", log_in("page", "carol", PASSWORD))

    def test_it_keeps_a_spent_api_budget_when_a_flood_of_pages_fills_the_page_cache(self, tiny_page_cache, settings):
        settings.API_THROTTLE_RATES = {"anonymous": 3, "user": 5}
        api = APIClient()
        assert [api.get("/api/v1/genres/").status_code for _ in range(4)] == [200, 200, 200, 429]
        self.flood(tiny_page_cache)
        assert api.get("/api/v1/genres/").status_code == HTTPStatus.TOO_MANY_REQUESTS


class TestSignUpResetAndShareLimits:
    def sign_up(self, username, address):
        data = {"username": username, "email": "", "password1": "violet-harbour-77", "password2": "violet-harbour-77"}
        return Client(REMOTE_ADDR=address).post("/accounts/signup/", data)

    def test_it_allows_five_sign_ups_an_hour_from_one_address(self):
        for number in range(5):
            assert self.sign_up(f"bot{number}", "198.51.100.7").status_code == HTTPStatus.FOUND
        refused = self.sign_up("bot5", "198.51.100.7")
        assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert "Too many accounts were created from your address. Please wait 60 minutes and try again." in text(refused)
        assert not get_user_model().objects.filter(username="bot5").exists()
        assert self.sign_up("dana", "198.51.100.8").status_code == HTTPStatus.FOUND

    @pytest.mark.parametrize("email", ["alice@example.com", "ghost@example.com"])
    def test_it_sends_at_most_three_reset_mails_an_hour_to_one_address(self, settings, email):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        make_user("alice", email="alice@example.com")
        for _ in range(3):
            assert Client().post("/accounts/password_reset/", {"email": email}).status_code == HTTPStatus.FOUND
        # From another client too; and whether or not an account has the address, the answer is the same.
        refused = Client(REMOTE_ADDR="198.51.100.9").post("/accounts/password_reset/", {"email": email.upper()})
        assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert "Too many reset links were sent to this address. Please wait 60 minutes and try again." in text(refused)
        assert len(mail.outbox) == (3 if email.startswith("alice") else 0)

    def test_it_lets_one_client_ask_for_ten_reset_mails_an_hour(self, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        client = Client()
        for number in range(10):
            assert client.post("/accounts/password_reset/", {"email": f"person{number}@example.com"}).status_code == 302
        refused = client.post("/accounts/password_reset/", {"email": "one-more@example.com"})
        assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert "Too many reset links were asked for from your address." in text(refused)

    def test_it_allows_thirty_shares_an_hour_across_the_pages_and_the_api(self):
        alice = make_user("alice")
        playlist = make_playlist(owner=alice, is_public=True)
        bob = make_user("bob")
        page, api = logged_in(alice), logged_in(alice, api=True)
        for number in range(15):
            response = page.post(f"/music/playlists/{playlist.pk}/share/", {"username": "bob", "message": f"#{number}"})
            assert response.status_code == HTTPStatus.FOUND
            response = api.post(f"/api/v1/playlists/{playlist.pk}/share/", {"username": "bob", "message": "hi"}, format="json")
            assert response.status_code == HTTPStatus.CREATED
        refused = page.post(f"/music/playlists/{playlist.pk}/share/", {"username": "bob", "message": "spam"})
        assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert "You have shared 30 times in the last hour. Please wait 60 minutes and try again." in text(refused)
        refused = api.post(f"/api/v1/playlists/{playlist.pk}/share/", {"username": "bob", "message": "spam"}, format="json")
        body = problem(refused)
        assert body["status"] == 429 and body["detail"].startswith("You have shared 30 times in the last hour.")
        assert body["retry_after_seconds"] == int(refused["Retry-After"]) > 0
        assert Share.objects.filter(recipient=bob).exists()
        assert not Share.objects.filter(message="spam").exists()
        # Another listener has a budget of their own.
        carol_playlist = make_playlist(owner=make_user("carol"))
        carol = logged_in(carol_playlist.owner)
        assert carol.post(f"/music/playlists/{carol_playlist.pk}/share/", {"username": "bob"}).status_code == 302


def change_on_the_password_change_page(user, **_):
    data = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert logged_in(user).post("/accounts/password_change/", data).status_code == HTTPStatus.FOUND


def change_with_a_reset_link(user, *, settings, **_):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = Client()
    client.post("/accounts/password_reset/", {"email": user.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    form_page = client.get(link, follow=True)
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post(form_page.redirect_chain[-1][0], data).status_code == HTTPStatus.FOUND


def change_in_the_admin(user, *, django_user_model, **_):
    admin = logged_in(django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD))
    data = {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    assert admin.post(f"/admin/auth/user/{user.pk}/password/", data).status_code == HTTPStatus.FOUND


def change_with_the_changepassword_command(user, *, monkeypatch, **_):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", user.get_username(), stdout=None)


def change_with_set_password_and_save(user, **_):
    user.set_password(NEW_PASSWORD)
    user.save()


class TestTokensAfterAPasswordChange:
    @pytest.mark.parametrize(
        "change",
        [
            change_on_the_password_change_page,
            change_with_a_reset_link,
            change_in_the_admin,
            change_with_the_changepassword_command,
            change_with_set_password_and_save,
        ],
    )
    def test_it_revokes_the_api_token_whichever_way_the_password_changes(
        self, change, settings, django_user_model, monkeypatch
    ):
        alice = make_user("alice", email="alice@example.com")
        key = log_in("token", "alice", PASSWORD).json()["token"]
        other = Token.objects.create(user=make_user("bob"))
        fixtures = {"settings": settings, "django_user_model": django_user_model, "monkeypatch": monkeypatch}
        change(get_user_model().objects.get(pk=alice.pk), **fixtures)
        assert get_user_model().objects.get(pk=alice.pk).check_password(NEW_PASSWORD)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert problem(api.get("/api/v1/me/"))["status"] == HTTPStatus.UNAUTHORIZED
        assert Token.objects.filter(pk=other.pk).exists()
        # The new password gets a new token.
        assert log_in("token", "alice", NEW_PASSWORD).json()["token"] != key

    def test_a_login_that_upgrades_the_password_hash_keeps_the_token(self, settings):
        alice = make_user("alice")  # hashed with MD5, the tests' hasher
        key = log_in("token", "alice", PASSWORD).json()["token"]
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.ScryptPasswordHasher", *settings.PASSWORD_HASHERS]
        assert_logged_in("page", log_in("page", "alice", PASSWORD))
        alice.refresh_from_db()
        assert alice.password.startswith("scrypt$")
        assert Token.objects.get(user=alice).key == key


class TestTheApiForAClientOutOfBudget:
    def test_it_still_serves_the_docs_the_schema_and_a_token(self, settings):
        settings.API_THROTTLE_RATES = {"anonymous": 3, "user": 5}
        make_user("alice")
        api = APIClient()
        assert [api.get("/api/v1/genres/").status_code for _ in range(4)] == [200, 200, 200, 429]
        assert api.get("/api/v1/docs/").status_code == HTTPStatus.OK
        assert api.get("/api/v1/docs/?script=").status_code == HTTPStatus.OK
        assert api.get("/api/v1/schema/").status_code == HTTPStatus.OK
        issued = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
        assert issued.status_code == HTTPStatus.OK and issued.json()["token"]
        assert api.get("/api/v1/genres/").status_code == HTTPStatus.TOO_MANY_REQUESTS
