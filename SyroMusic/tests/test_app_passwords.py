"""The Apps (Subsonic) section of the profile page: a listener's app passwords, made, shown once, revoked."""

import datetime
import re
from http import HTTPStatus

import pytest
from django.test import Client

from SyroMusic import sealing
from SyroMusic.models import AppPassword, Profile

from .factories import logged_in, make_user, text

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 3, 14, 23, 30, tzinfo=datetime.UTC)


def made(user, name, *, created_at=WHEN, last_used_at=None):
    row, plain = AppPassword.create(user, name)
    AppPassword.objects.filter(pk=row.pk).update(created_at=created_at, last_used_at=last_used_at)
    return row, plain


def section(response):
    """The Apps section of a profile page."""
    return re.search(r'<section id="apps".*?</section>', text(response), re.S).group(0)


def squeezed(html):
    return re.sub(r"\s+", " ", html).strip()


class TestTheList:
    def test_the_profile_page_lists_each_app_password_with_when_it_was_made_and_last_used(self, alice):
        made(alice, "Phone (Symfonium)", last_used_at=WHEN + datetime.timedelta(days=1))
        row, _ = made(alice, "Laptop (Feishin)", created_at=WHEN - datetime.timedelta(days=30))
        page = squeezed(section(logged_in(alice).get("/accounts/profile/")))
        assert '<h2 id="apps-heading">Apps (Subsonic)</h2>' in page
        assert (
            '<li>Phone (Symfonium) <span class="meta">made <time datetime="2026-03-14T23:30:00+00:00">14 Mar 2026, 23:30</time>'
            ' · last used <time datetime="2026-03-15T23:30:00+00:00">15 Mar 2026, 23:30</time></span>'
        ) in page
        assert (
            '<li>Laptop (Feishin) <span class="meta">made <time datetime="2026-02-12T23:30:00+00:00">12 Feb 2026, 23:30</time>'
            f' · never used</span> <a href="/accounts/profile/apps/{row.pk}/revoke/" class="small"'
            ' aria-label="Revoke Laptop (Feishin)">Revoke</a>'
        ) in page
        assert page.index("Phone (Symfonium)") < page.index("Laptop (Feishin)")  # the newest first

    def test_times_are_shown_in_the_listeners_time_zone(self, alice):
        Profile.objects.create(user=alice, time_zone="Asia/Tokyo")
        made(alice, "Phone")
        page = squeezed(section(logged_in(alice).get("/accounts/profile/")))
        assert 'made <time datetime="2026-03-15T08:30:00+09:00">15 Mar 2026, 08:30</time>' in page

    def test_without_any_the_section_says_so_and_offers_to_make_one(self, alice):
        page = squeezed(section(logged_in(alice).get("/accounts/profile/")))
        assert '<li class="empty">No app passwords yet.</li>' in page
        assert '<form method="post" action="/accounts/profile/apps/" class="stacked">' in page
        assert '<label for="id_app_name">Name:</label> <input type="text" name="name" maxlength="100" required aria-describedby="id_app_name_helptext" id="id_app_name">' in page

    def test_only_the_listeners_own_are_listed(self, alice, bob):
        made(bob, "Bob's phone")
        assert "Bob's phone" not in text(logged_in(alice).get("/accounts/profile/"))

    @pytest.mark.parametrize("count", [1, 8])
    def test_the_profile_page_runs_a_fixed_number_of_queries(self, alice, count, django_assert_num_queries):
        Profile.objects.create(user=alice)
        for number in range(count):
            made(alice, f"App {number}")
        client = logged_in(alice)
        with django_assert_num_queries(3):  # user, profile, app passwords (the session is in the cache)
            client.get("/accounts/profile/")

    def test_the_profile_form_still_saves(self, alice):
        made(alice, "Phone")
        response = logged_in(alice).post("/accounts/profile/", {"bio": "Hello", "is_public": "on"}, follow=True)
        assert "Your profile is saved." in text(response)
        assert Profile.objects.get(user=alice).bio == "Hello"
        assert AppPassword.objects.filter(user=alice).count() == 1


class TestMakingOne:
    def test_a_new_password_is_shown_once_with_the_server_address_and_the_username(self, alice):
        response = logged_in(alice).post("/accounts/profile/apps/", {"name": "Phone (Symfonium)"})
        assert response.status_code == HTTPStatus.OK
        row = AppPassword.objects.get(user=alice)
        plain = row.password()
        assert (row.name, len(plain)) == ("Phone (Symfonium)", 24)
        assert squeezed(re.search(r'<dl class="app-password">.*?</dl>', text(response), re.S).group(0)) == (
            '<dl class="app-password"> <dt>Server</dt><dd><code>http://testserver</code></dd>'
            " <dt>Username</dt><dd><code>alice</code></dd>"
            f" <dt>Password</dt><dd><code>{plain}</code></dd> </dl>"
        )
        assert "<h1>App password for “Phone (Symfonium)”</h1>" in text(response)
        # Shown on this answer alone: never cached, and not on the profile page afterwards.
        assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
        assert plain not in text(logged_in(alice).get("/accounts/profile/"))

    def test_the_password_is_kept_sealed_never_in_plain_text(self, alice):
        logged_in(alice).post("/accounts/profile/apps/", {"name": "Phone"})
        row = AppPassword.objects.get(user=alice)
        plain = row.password()
        assert plain not in row.sealed and plain not in row.digest
        assert (sealing.unseal(row.sealed), row.digest) == (plain, sealing.digest(plain))

    def test_each_password_is_new(self, alice):
        client = logged_in(alice)
        client.post("/accounts/profile/apps/", {"name": "Phone"})
        client.post("/accounts/profile/apps/", {"name": "Phone"})
        first, second = AppPassword.objects.filter(user=alice)
        assert first.password() != second.password()

    @pytest.mark.parametrize(
        ("name", "error"),
        [
            ("", "This field is required."),
            ("   ", "This field is required."),
            ("x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
            ("Phone\x07", "Names and titles cannot contain control characters such as line breaks or tabs (found U+0007)."),
        ],
    )
    def test_a_bad_name_is_explained_and_makes_nothing(self, alice, name, error):
        response = logged_in(alice).post("/accounts/profile/apps/", {"name": name}, follow=True)
        assert response.redirect_chain == [("/accounts/profile/#apps", HTTPStatus.FOUND)]
        assert error in text(response)
        assert not AppPassword.objects.exists()

    def test_a_listener_has_at_most_twenty(self, alice):
        for number in range(AppPassword.MAX_PER_USER):
            AppPassword.create(alice, f"App {number}")
        response = logged_in(alice).post("/accounts/profile/apps/", {"name": "One more"}, follow=True)
        assert "You have 20 app passwords, the most there can be: revoke one you no longer use first." in text(response)
        assert AppPassword.objects.filter(user=alice).count() == 20

    def test_it_takes_a_post(self, alice):
        assert logged_in(alice).get("/accounts/profile/apps/").status_code == HTTPStatus.METHOD_NOT_ALLOWED

    def test_an_anonymous_visitor_is_sent_to_log_in(self, client):
        response = client.post("/accounts/profile/apps/", {"name": "Phone"})
        assert (response.status_code, response["Location"]) == (
            HTTPStatus.FOUND, "/accounts/login/?next=/accounts/profile/apps/"
        )
        assert not AppPassword.objects.exists()

    def test_the_form_needs_its_csrf_token(self, alice):
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        assert client.post("/accounts/profile/apps/", {"name": "Phone"}).status_code == HTTPStatus.FORBIDDEN
        assert not AppPassword.objects.exists()


class TestRevoking:
    def test_revoking_asks_first(self, alice):
        row, _ = made(alice, "Old phone")
        response = logged_in(alice).get(f"/accounts/profile/apps/{row.pk}/revoke/")
        assert "<h1>Revoke the app password “Old phone”?</h1>" in text(response)
        assert '<button type="submit" class="danger">Revoke</button> <a href="/accounts/profile/#apps">Keep it</a>' in text(response)
        assert AppPassword.objects.filter(pk=row.pk).exists()

    def test_a_post_revokes_it(self, alice):
        row, _ = made(alice, "Old phone")
        kept, _ = made(alice, "New phone")
        response = logged_in(alice).post(f"/accounts/profile/apps/{row.pk}/revoke/", follow=True)
        assert response.redirect_chain == [("/accounts/profile/#apps", HTTPStatus.FOUND)]
        assert "App password “Old phone” revoked: the app that used it can no longer connect." in text(response)
        assert list(AppPassword.objects.filter(user=alice)) == [kept]

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_another_listeners_app_password_is_404(self, alice, bob, method):
        row, _ = made(bob, "Bob's phone")
        response = getattr(logged_in(alice), method)(f"/accounts/profile/apps/{row.pk}/revoke/")
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert AppPassword.objects.filter(pk=row.pk).exists()

    def test_an_anonymous_visitor_is_sent_to_log_in(self, client, alice):
        row, _ = made(alice, "Phone")
        response = client.post(f"/accounts/profile/apps/{row.pk}/revoke/")
        assert response["Location"] == f"/accounts/login/?next=/accounts/profile/apps/{row.pk}/revoke/"
        assert AppPassword.objects.filter(pk=row.pk).exists()


class TestTheAppConnects:
    """The password the page shows is what a Subsonic app signs in with, and revoking it shuts that app out."""

    def ping(self, username, password):
        return Client().get("/rest/ping.view", {"u": username, "p": password, "v": "1.16.1", "c": "test", "f": "json"})

    def test_the_password_shown_signs_an_app_in_and_revoking_it_shuts_the_app_out(self, alice):
        client = logged_in(alice)
        client.post("/accounts/profile/apps/", {"name": "Phone"})
        row = AppPassword.objects.get(user=alice)
        assert self.ping("alice", row.password()).json()["subsonic-response"]["status"] == "ok"
        client.post(f"/accounts/profile/apps/{row.pk}/revoke/")
        refused = self.ping("alice", row.password()).json()["subsonic-response"]
        assert (refused["status"], refused["error"]["code"]) == ("failed", 40)

    def test_the_accounts_own_password_is_not_an_app_password(self):
        make_user("dana")
        refused = self.ping("dana", "correct horse battery").json()["subsonic-response"]
        assert (refused["status"], refused["error"]["code"]) == ("failed", 40)
