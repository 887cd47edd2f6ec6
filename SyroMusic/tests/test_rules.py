"""Each rule is written once, in the domain: the pages and the API, asked the same question, answer alike."""

from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from SyroMusic.models import Collaborator, Follow, Playlist, Profile

from .factories import logged_in, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db

FACES = ["page", "api"]


def refused(face, response, message):
    """The page shows the form again with the message; the API answers 400 with it."""
    if face == "page":
        return response.status_code == HTTPStatus.OK and message in text(response).replace("&#x27;", "'")
    return response.status_code == HTTPStatus.BAD_REQUEST and message in str(response.json())


@pytest.mark.parametrize("face", FACES)
def test_a_playlist_name_is_unique_per_owner(face):
    alice = make_user("alice")
    make_playlist(owner=alice, name="Road trip")
    if face == "page":
        response = logged_in(alice).post("/music/playlists/new/", {"name": "Road trip"})
    else:
        response = logged_in(alice, api=True).post("/api/v1/playlists/", {"name": "Road trip"}, format="json")
    assert refused(face, response, Playlist.NAME_TAKEN)
    assert Playlist.objects.filter(owner=alice, name="Road trip").count() == 1


@pytest.mark.parametrize("face", FACES)
def test_another_owner_may_use_the_same_name(face):
    make_playlist(owner=make_user("alice"), name="Road trip")
    bob = make_user("bob")
    if face == "page":
        response = logged_in(bob).post("/music/playlists/new/", {"name": "Road trip"})
        assert response.status_code == HTTPStatus.FOUND
    else:
        response = logged_in(bob, api=True).post("/api/v1/playlists/", {"name": "Road trip"}, format="json")
        assert response.status_code == HTTPStatus.CREATED
    assert Playlist.objects.filter(owner=bob, name="Road trip").count() == 1


@pytest.mark.parametrize("face", FACES)
def test_nobody_follows_themselves(face):
    alice = make_user("alice")
    if face == "page":
        response = logged_in(alice).post("/music/users/alice/follow/", follow=True)
        assert Follow.NOT_SELF in text(response)
    else:
        response = logged_in(alice, api=True).post("/api/v1/users/alice/")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"username": [Follow.NOT_SELF]}
    assert not Follow.objects.exists()


@pytest.mark.parametrize("face", FACES)
def test_following_twice_keeps_one_follow_and_unfollowing_removes_it(face):
    alice, bob = make_user("alice"), make_user("bob")
    if face == "page":
        client = logged_in(alice)
        client.post("/music/users/bob/follow/")
        client.post("/music/users/bob/follow/")
        assert Follow.objects.filter(follower=alice, followed=bob).count() == 1
        client.post("/music/users/bob/unfollow/")
    else:
        client = logged_in(alice, api=True)
        client.post("/api/v1/users/bob/")
        assert client.post("/api/v1/users/bob/").json()["followers"] == 1
        client.delete("/api/v1/users/bob/")
    assert not Follow.objects.exists()


@pytest.mark.parametrize("face", FACES)
def test_the_owner_cannot_be_made_a_collaborator(face):
    alice = make_user("alice")
    playlist = make_playlist(owner=alice)
    data = {"username": "alice", "level": "edit"}
    if face == "page":
        response = logged_in(alice).post(f"/music/playlists/{playlist.pk}/collaborators/", data)
    else:
        response = logged_in(alice, api=True).post(f"/api/v1/playlists/{playlist.pk}/collaborators/", data, format="json")
    assert refused(face, response, "That is the playlist's owner, who has every right.")
    assert not Collaborator.objects.exists()


@pytest.mark.parametrize("face", FACES)
def test_a_collaborator_is_set_then_changed_not_duplicated(face):
    alice, bob = make_user("alice"), make_user("bob")
    playlist = make_playlist(owner=alice)
    for level in ("view", "admin"):
        data = {"username": "bob", "level": level}
        if face == "page":
            logged_in(alice).post(f"/music/playlists/{playlist.pk}/collaborators/", data)
        else:
            logged_in(alice, api=True).post(f"/api/v1/playlists/{playlist.pk}/collaborators/", data, format="json")
    assert list(Collaborator.objects.values_list("user__username", "level")) == [("bob", "admin")]
    assert playlist.allows(bob, "admin")


@pytest.mark.parametrize("face", FACES)
def test_naming_a_listener_who_does_not_exist_says_so(face):
    alice = make_user("alice")
    playlist = make_playlist(owner=alice)
    data = {"username": "nobody", "message": "hi"}
    if face == "page":
        response = logged_in(alice).post(f"/music/playlists/{playlist.pk}/share/", data)
    else:
        response = logged_in(alice, api=True).post(f"/api/v1/playlists/{playlist.pk}/share/", data, format="json")
    assert refused(face, response, "There is no listener called 'nobody'.")


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("viewer", ["owner", "stranger", "anonymous"])
def test_a_private_playlist_is_seen_by_its_owner_alone(face, viewer):
    alice, bob = make_user("alice"), make_user("bob")
    playlist = make_playlist(owner=alice, name="Secret", songs=[make_song()])
    user = {"owner": alice, "stranger": bob, "anonymous": None}[viewer]
    url = f"/music/playlists/{playlist.pk}/" if face == "page" else f"/api/v1/playlists/{playlist.pk}/"
    expected = HTTPStatus.OK if viewer == "owner" else HTTPStatus.NOT_FOUND
    assert logged_in(user, api=face == "api").get(url).status_code == expected


@pytest.mark.parametrize("kind", ["m3u8", "xspf", "jspf"])
def test_both_faces_export_the_same_file_as_an_attachment(kind):
    song = make_song("Halo")
    playlist = make_playlist(name="Road Trip", songs=[song], is_public=True)
    page = logged_in(None).get(f"/music/playlists/{playlist.pk}/export.{kind}")
    api = logged_in(None, api=True).get(f"/api/v1/playlists/{playlist.pk}/export/{kind}/")
    assert page.status_code == api.status_code == HTTPStatus.OK
    assert page.content == api.content
    assert page["Content-Type"] == api["Content-Type"]
    assert page["Content-Disposition"] == api["Content-Disposition"] == f'attachment; filename="road-trip.{kind}"'


@pytest.mark.parametrize("face", FACES)
def test_importing_a_file_reports_matches_alike(face):
    alice = make_user("alice")
    song = make_song("Halo")
    content = f"#EXTM3U\n#EXTINF:1,{song.artist.name} - Halo\nhalo.mp3\n#EXTINF:1,Nobody - Nothing\nx.mp3\n"
    upload = SimpleUploadedFile("trip.m3u8", content.encode())
    if face == "page":
        response = logged_in(alice).post("/music/playlists/import/", {"file": upload})
        assert "1 of 2 entries matched; 1 not found." in text(response)
    else:
        response = logged_in(alice, api=True).post("/api/v1/playlists/import/", {"file": upload}, format="multipart")
        assert (response.json()["matched"], response.json()["missed"]) == (1, 1)
    playlist = Playlist.objects.get(owner=alice, name="trip")
    assert [entry.song for entry in playlist.entries_in_order()] == [song]


@pytest.mark.parametrize("face", FACES)
def test_importing_under_a_taken_name_is_refused(face):
    alice = make_user("alice")
    make_playlist(owner=alice, name="trip")
    upload = SimpleUploadedFile("trip.m3u8", b"#EXTM3U\n#EXTINF:1,A - B\nb.mp3\n")
    if face == "page":
        response = logged_in(alice).post("/music/playlists/import/", {"file": upload})
    else:
        response = logged_in(alice, api=True).post("/api/v1/playlists/import/", {"file": upload}, format="multipart")
    assert refused(face, response, "You already have a playlist called 'trip': choose another name.")


@pytest.mark.parametrize("face", FACES)
def test_a_private_profile_shows_others_nothing_but_the_name(face):
    alice = make_user("alice")
    Profile.objects.create(user=alice, bio="I love bossa nova", is_public=False)
    for viewer, sees in ((alice, True), (make_user("bob"), False), (None, False)):
        if face == "page":
            body = text(logged_in(viewer).get("/music/users/alice/"))
            assert ("I love bossa nova" in body) is sees
        else:
            body = logged_in(viewer, api=True).get("/api/v1/users/alice/").json()
            assert (body["bio"] == "I love bossa nova") is sees
