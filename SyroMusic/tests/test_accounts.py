import re
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from SyroMusic.models import Follow, Playlist, Profile

from .factories import logged_in, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def messages_of(response):
    return [str(message) for message in response.context["messages"]] if response.context else []


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


class TestPlaylistPages:
    def test_creating_a_playlist(self):
        alice = make_user("alice")
        response = logged_in(alice).post(
            "/music/playlists/new/", {"name": "Road trip", "description": "Long drives", "is_public": "on"}, follow=True
        )
        playlist = Playlist.objects.get()
        assert response.redirect_chain == [(f"/music/playlists/{playlist.pk}/", 302)]
        assert "Playlist “Road trip” created." in text(response)
        assert (playlist.owner, playlist.is_public, playlist.description) == (alice, True, "Long drives")

    @pytest.mark.parametrize(
        ("name", "error"),
        [("", "This field is required."), ("   ", "This field is required."), ("x" * 201, "Ensure this value has at most 200 characters (it has 201)."),
         ("Taken", "You already have a playlist with this name.")],
    )
    def test_a_bad_name_is_explained(self, name, error):
        alice = make_user("alice")
        make_playlist(owner=alice, name="Taken")
        response = logged_in(alice).post("/music/playlists/new/", {"name": name})
        assert error in text(response)
        assert Playlist.objects.count() == 1

    def test_renaming_and_making_private(self):
        alice = make_user("alice")
        playlist = make_playlist(owner=alice, name="Old", is_public=True)
        logged_in(alice).post(f"/music/playlists/{playlist.pk}/edit/", {"name": "New", "description": ""})
        playlist.refresh_from_db()
        assert (playlist.name, playlist.is_public) == ("New", False)

    def test_deleting_asks_first(self):
        alice = make_user("alice")
        playlist = make_playlist(owner=alice, name="Doomed", songs=[make_song(), make_song()])
        client = logged_in(alice)
        confirm = client.get(f"/music/playlists/{playlist.pk}/delete/")
        assert "Delete “Doomed”?" in text(confirm) and "its 2 entries" in text(confirm)
        assert Playlist.objects.exists()
        response = client.post(f"/music/playlists/{playlist.pk}/delete/", follow=True)
        assert "Playlist “Doomed” deleted." in text(response) and not Playlist.objects.exists()

    def test_adding_a_song_from_its_page(self):
        alice = make_user("alice")
        playlist = make_playlist(owner=alice, name="Mine", songs=[make_song()])
        song = make_song("Hoppípolla")
        client = logged_in(alice)
        page = text(client.get(song.get_absolute_url()))
        assert f'<option value="{playlist.pk}">Mine</option>' in page
        response = client.post("/music/playlists/add/", {"playlist": playlist.pk, "song": song.pk, "next": song.get_absolute_url()}, follow=True)
        assert response.redirect_chain[-1][0] == song.get_absolute_url()
        assert "Added “Hoppípolla” to Mine." in text(response)
        assert list(playlist.entries.order_by("position").values_list("position", "song_id"))[-1] == (2, song.pk)

    def test_adding_a_song_that_does_not_exist_is_explained(self):
        alice = make_user("alice")
        playlist = make_playlist(owner=alice)
        response = logged_in(alice).post(f"/music/playlists/{playlist.pk}/add/", {"song": 999999}, follow=True)
        assert "There is no such song." in text(response) and not playlist.entries.exists()

    def test_an_offsite_next_is_ignored(self):
        alice = make_user("alice")
        playlist = make_playlist(owner=alice)
        response = logged_in(alice).post(f"/music/playlists/{playlist.pk}/add/", {"song": make_song().pk, "next": "https://evil.example/"})
        assert response["Location"] == playlist.get_absolute_url()

    def test_moving_up_and_down_and_removing_keep_positions_1_to_n(self):
        alice = make_user("alice")
        songs = [make_song(f"S{n}") for n in range(1, 4)]
        playlist = make_playlist(owner=alice, songs=songs)
        client = logged_in(alice)
        entries = {entry.song.title: entry for entry in playlist.entries.select_related("song")}
        order = lambda: list(playlist.entries.order_by("position").values_list("song__title", flat=True))
        client.post(f"/music/playlists/{playlist.pk}/entries/{entries['S3'].pk}/move/", {"position": 2})
        assert order() == ["S1", "S3", "S2"]
        client.post(f"/music/playlists/{playlist.pk}/entries/{entries['S1'].pk}/move/", {"position": 2})
        assert order() == ["S3", "S1", "S2"]
        client.post(f"/music/playlists/{playlist.pk}/entries/{entries['S1'].pk}/remove/")
        assert order() == ["S3", "S2"]
        assert list(playlist.entries.order_by("position").values_list("position", flat=True)) == [1, 2]

    @pytest.mark.parametrize(("position", "message"), [("0", "Cannot move there: position must be between 1 and 2."),
                                                        ("3", "Cannot move there: position must be between 1 and 2."),
                                                        ("x", "Give the new position as a whole number.")])
    def test_a_move_out_of_range_is_explained(self, position, message):
        alice = make_user("alice")
        playlist = make_playlist(owner=alice, songs=[make_song(), make_song()])
        entry = playlist.entries.first()
        response = logged_in(alice).post(f"/music/playlists/{playlist.pk}/entries/{entry.pk}/move/", {"position": position}, follow=True)
        assert message in text(response)

    def test_the_owner_sees_controls_and_others_do_not(self, client):
        alice = make_user("alice")
        playlist = make_playlist(owner=alice, is_public=True, songs=[make_song("Only")])
        assert 'aria-label="Move Only down"' in text(logged_in(alice).get(playlist.get_absolute_url()))
        for other in (client, logged_in(make_user("bob"))):
            assert "aria-label=\"Remove Only\"" not in text(other.get(playlist.get_absolute_url()))

    @pytest.mark.parametrize("is_public", [True, False])
    @pytest.mark.parametrize("viewer", ["bob", "anonymous"])
    @pytest.mark.parametrize(
        ("method", "path"),
        [("get", "edit/"), ("post", "edit/"), ("get", "delete/"), ("post", "delete/"), ("post", "add/"),
         ("post", "entries/{entry}/move/"), ("post", "entries/{entry}/remove/")],
    )
    def test_nobody_but_the_owner_can_change_a_playlist(self, viewer, method, path, is_public):
        alice = make_user("alice")
        playlist = make_playlist(owner=alice, name="Hers", is_public=is_public, songs=[make_song(), make_song()])
        entry = playlist.entries.first()
        client = logged_in(make_user("bob")) if viewer == "bob" else Client()
        url = f"/music/playlists/{playlist.pk}/" + path.format(entry=entry.pk)
        response = getattr(client, method)(url, {"name": "Stolen", "song": entry.song_id, "position": 2})
        if viewer == "bob":
            # Seen but not his: 403. Not even seen: 404, as if it did not exist.
            assert response.status_code == (HTTPStatus.FORBIDDEN if is_public else HTTPStatus.NOT_FOUND)
        else:
            assert response.status_code == HTTPStatus.FOUND and response["Location"].startswith("/accounts/login/")
        playlist.refresh_from_db()
        assert playlist.name == "Hers" and playlist.entries.count() == 2
        assert list(playlist.entries.order_by("position").values_list("id", flat=True))[0] == entry.pk

    def test_forms_need_the_csrf_token(self):
        alice = make_user("alice")
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        assert client.post("/music/playlists/new/", {"name": "x"}).status_code == HTTPStatus.FORBIDDEN
        page = text(client.get("/music/playlists/new/"))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        assert client.post("/music/playlists/new/", {"name": "x", "csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND


class TestAddingFromTheAlbumPage:
    def test_one_track_or_the_whole_album_in_tracklist_order(self):
        from .factories import make_album

        alice = make_user("alice")
        playlist = make_playlist(owner=alice, name="Mine")
        album = make_album("Blue")
        tracks = [make_song(f"T{n}", album=album, track_number=n) for n in (2, 1, 3)]
        client = logged_in(alice)
        page = text(client.get(album.get_absolute_url()))
        assert f'<button form="add-to-playlist" type="submit" name="song" value="{tracks[0].pk}"' in page
        response = client.post("/music/playlists/add/", {"playlist": playlist.pk, "song": tracks[2].pk, "next": album.get_absolute_url()}, follow=True)
        assert "Added “T3” to Mine." in text(response)
        response = client.post("/music/playlists/add/", {"playlist": playlist.pk, "album": album.pk}, follow=True)
        assert "Added 3 songs of “Blue” to Mine." in text(response)
        order = list(playlist.entries.order_by("position").values_list("position", "song__title"))
        assert order == [(1, "T3"), (2, "T1"), (3, "T2"), (4, "T3")]

    def test_a_collaborator_with_edit_rights_gets_the_playlist_in_the_form(self):
        from SyroMusic.models import Collaborator

        alice, bob = make_user("alice"), make_user("bob")
        shared = make_playlist(owner=alice, name="Shared")
        viewing = make_playlist(owner=alice, name="Only viewing")
        Collaborator.objects.create(playlist=shared, user=bob, level="edit")
        Collaborator.objects.create(playlist=viewing, user=bob, level="view")
        page = text(logged_in(bob).get(make_song().get_absolute_url()))
        assert ">Shared</option>" in page and "Only viewing" not in page

    def test_nothing_chosen_is_explained(self):
        alice = make_user("alice")
        playlist = make_playlist(owner=alice)
        response = logged_in(alice).post(f"/music/playlists/{playlist.pk}/add/", {}, follow=True)
        assert "Choose a song or an album to add." in text(response)
