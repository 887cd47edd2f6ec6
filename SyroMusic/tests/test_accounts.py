import re
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from SyroMusic.models import Follow, Profile

from .factories import logged_in, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


class TestSignUpAndLogin:
    def test_signing_up_creates_the_account_and_logs_in(self, client):
        response = client.post(
            "/accounts/signup/", {"username": "dana", "email": "", "password1": "violet-harbour-77", "password2": "violet-harbour-77"},
            follow=True,
        )
        assert response.redirect_chain == [("/music/users/dana/", 302)]
        assert "Welcome, dana! Your account is ready." in text(response)
        assert response.context["user"].get_username() == "dana"

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            ({"username": "dana", "password1": "violet-harbour-77", "password2": "violet-harbour-78"}, "The two password fields didn’t match."),
            ({"username": "dana", "password1": "password", "password2": "password"}, "This password is too common."),
            ({"username": "alice", "password1": "violet-harbour-77", "password2": "violet-harbour-77"}, "A user with that username already exists."),
            ({"username": "", "password1": "violet-harbour-77", "password2": "violet-harbour-77"}, "This field is required."),
        ],
    )
    def test_sign_up_mistakes_are_explained(self, client, data, error):
        make_user("alice")
        response = client.post("/accounts/signup/", {"email": "", **data})
        assert response.status_code == HTTPStatus.OK
        assert error in text(response).replace("&#x27;", "’")
        assert get_user_model().objects.count() == 1

    def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(self, client):
        make_user("alice")
        wrong = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
        unknown = client.post("/accounts/login/", {"username": "nobody", "password": "nope"})
        notice = lambda response: re.search(r'<p class="notice error" role="alert">(.*?)</p>', text(response)).group(1)
        assert notice(wrong) == notice(unknown) == "That username and password do not match an account. Please try again."

    def test_after_five_failures_a_username_must_wait_even_with_the_right_password(self, client):
        make_user("alice")
        for _ in range(5):
            assert client.post("/accounts/login/", {"username": "alice", "password": "guess"}).status_code == 200
        blocked = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        assert blocked.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert "Too many failed attempts. Please wait" in text(blocked)
        assert "_auth_user_id" not in client.session
        # Another account from elsewhere is not affected.
        make_user("bob")
        other = Client(REMOTE_ADDR="198.51.100.9")
        assert other.post("/accounts/login/", {"username": "bob", "password": PASSWORD}).status_code == 302

    def test_after_twenty_failures_an_address_must_wait(self, client):
        make_user("alice")
        for number in range(20):
            client.post("/accounts/login/", {"username": f"guess{number}", "password": "x"})
        assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429

    def test_the_header_login_form_returns_to_the_page(self, client):
        make_user("alice")
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD, "next": "/music/songs/"})
        assert response["Location"] == "/music/songs/"

    def test_logging_out_is_a_post(self, client):
        client.force_login(make_user("alice"))
        assert client.post("/accounts/logout/").status_code == 302
        assert "_auth_user_id" not in client.session


class TestPasswords:
    def test_changing_the_password(self):
        alice = make_user("alice")
        client = logged_in(alice)
        response = client.post(
            "/accounts/password_change/",
            {"old_password": PASSWORD, "new_password1": "amber-lantern-42", "new_password2": "amber-lantern-42"},
            follow=True,
        )
        assert "Your password is changed." in text(response)
        alice.refresh_from_db()
        assert alice.check_password("amber-lantern-42")

    def test_resetting_a_forgotten_password_by_email(self, client, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        alice = make_user("alice", email="alice@example.com")
        response = client.post("/accounts/password_reset/", {"email": "alice@example.com"}, follow=True)
        assert "If an account has that address" in text(response)
        assert len(mail.outbox) == 1
        link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
        form_page = client.get(link, follow=True)
        assert "Choose a new password" in text(form_page)
        done = client.post(form_page.redirect_chain[-1][0], {"new_password1": "amber-lantern-42", "new_password2": "amber-lantern-42"}, follow=True)
        assert "Your new password is set." in text(done)
        alice.refresh_from_db()
        assert alice.check_password("amber-lantern-42")

    def test_an_unknown_address_sends_nothing_and_says_the_same(self, client, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        response = client.post("/accounts/password_reset/", {"email": "ghost@example.com"}, follow=True)
        assert "If an account has that address" in text(response) and mail.outbox == []


class TestProfiles:
    def test_a_public_profile_shows_bio_counts_and_public_playlists(self, client):
        alice, bob = make_user("alice"), make_user("bob")
        Profile.objects.create(user=alice, bio="Loves jazz.")
        Follow.objects.create(follower=bob, followed=alice)
        make_playlist(owner=alice, name="Shared", is_public=True)
        make_playlist(owner=alice, name="Diary", is_public=False)
        html = text(client.get("/music/users/alice/"))
        assert "<h1>alice</h1>" in html and "Loves jazz." in html and "1 follower · following 0" in html
        assert "Shared" in html and "Diary" not in html
        assert "Diary" in text(logged_in(alice).get("/music/users/alice/"))

    def test_a_private_profile_shows_only_the_name_to_others(self, client):
        alice = make_user("alice")
        Profile.objects.create(user=alice, bio="Secret bio", is_public=False)
        make_playlist(owner=alice, name="Shared", is_public=True)
        for viewer in (client, logged_in(make_user("bob"))):
            html = text(viewer.get("/music/users/alice/"))
            assert "<h1>alice</h1>" in html and "This profile is private." in html
            assert "Secret bio" not in html and "Shared" not in html and "follower" not in html
        assert "Secret bio" in text(logged_in(alice).get("/music/users/alice/"))

    def test_editing_the_profile(self):
        alice = make_user("alice")
        response = logged_in(alice).post("/accounts/profile/", {"bio": "Hello", "is_public": ""}, follow=True)
        assert "Your profile is saved." in text(response)
        assert (alice.profile.bio, alice.profile.is_public) == ("Hello", False)

    def test_following_and_unfollowing(self):
        alice, bob = make_user("alice"), make_user("bob")
        client = logged_in(bob)
        response = client.post("/music/users/alice/follow/", follow=True)
        assert "You follow alice." in text(response) and ">Unfollow</button>" in text(response)
        client.post("/music/users/alice/follow/")  # twice is still once
        assert Follow.objects.counts_for(alice) == (1, 0)
        response = client.post("/music/users/alice/unfollow/", follow=True)
        assert "You no longer follow alice." in text(response)
        assert Follow.objects.counts_for(alice) == (0, 0)

    def test_you_cannot_follow_yourself_and_anonymous_must_log_in(self, client):
        alice = make_user("alice")
        response = logged_in(alice).post("/music/users/alice/follow/", follow=True)
        assert "You cannot follow yourself." in text(response) and not Follow.objects.exists()
        assert client.post("/music/users/alice/follow/")["Location"].startswith("/accounts/login/")
        assert client.get("/music/users/alice/follow/").status_code in (302, 405)

    def test_an_unknown_user_is_404(self, client):
        assert client.get("/music/users/nobody/").status_code == 404

    def test_a_profile_page_runs_a_fixed_number_of_queries(self, client, django_assert_num_queries):
        alice = make_user("alice")
        for number in range(30):
            make_playlist(owner=alice, name=f"List {number}", is_public=True, songs=[make_song()])
        with django_assert_num_queries(3):  # user with profile, follow counts, playlists
            client.get("/music/users/alice/")
