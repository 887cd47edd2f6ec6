"""Who may see and do what with a playlist: owner, each collaborator level, another user, anonymous."""

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from SyroMusic.models import Collaborator, Playlist, Share

from .factories import logged_in, make_playlist, make_song, make_user

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "edit", "view", "stranger", "anonymous"]
# What each role may do with a *private* playlist: see it, change entries, manage details/collaborators, delete.
MATRIX = {
    "owner": {"see": True, "entries": True, "manage": True, "delete": True},
    "admin": {"see": True, "entries": True, "manage": True, "delete": False},
    "edit": {"see": True, "entries": True, "manage": False, "delete": False},
    "view": {"see": True, "entries": False, "manage": False, "delete": False},
    "stranger": {"see": False, "entries": False, "manage": False, "delete": False},
    "anonymous": {"see": False, "entries": False, "manage": False, "delete": False},
}


@pytest.fixture
def setup():
    owner = make_user("owner")
    songs = [make_song(f"S{n}") for n in range(3)]
    playlist = make_playlist(owner=owner, name="Private", is_public=False, songs=songs)
    users = {"owner": owner, "stranger": make_user("stranger"), "anonymous": None}
    for level in ("admin", "edit", "view"):
        users[level] = make_user(level)
        Collaborator.objects.create(playlist=playlist, user=users[level], level=level)
    return playlist, users, songs


def refused(response, role, allowed_to_see):
    if role == "anonymous" and response.request["REQUEST_METHOD"] == "POST" and "/api/" not in response.request["PATH_INFO"]:
        return response.status_code == HTTPStatus.FOUND and "/accounts/login/" in response["Location"]
    if role == "anonymous" and "/api/" in response.request["PATH_INFO"] and response.request["REQUEST_METHOD"] != "GET":
        return response.status_code == HTTPStatus.UNAUTHORIZED
    return response.status_code == (HTTPStatus.FORBIDDEN if allowed_to_see else HTTPStatus.NOT_FOUND)


@pytest.mark.parametrize("role", ROLES)
def test_the_playlist_pages_follow_the_matrix(setup, role):
    playlist, users, songs = setup
    can = MATRIX[role]
    client = logged_in(users[role])
    base = f"/music/playlists/{playlist.pk}/"
    seen = client.get(base)
    assert seen.status_code == (HTTPStatus.OK if can["see"] else HTTPStatus.NOT_FOUND)
    # The song's link, not its short title: "S0" can turn up in a random CSRF token of any page.
    assert (f'href="{songs[0].get_absolute_url()}"' in seen.content.decode()) is can["see"]
    entry = playlist.entries.order_by("position").first()
    move = client.post(f"{base}entries/{entry.pk}/move/", {"position": 2})
    assert (move.status_code == HTTPStatus.FOUND and "/accounts/" not in move["Location"]) if can["entries"] else refused(move, role, can["see"])
    manage = client.get(f"{base}collaborators/")
    assert manage.status_code == HTTPStatus.OK if can["manage"] else (manage.status_code in (302, 403, 404))
    delete = client.post(f"{base}delete/")
    if can["delete"]:
        assert not Playlist.objects.filter(pk=playlist.pk).exists()
    else:
        assert refused(delete, role, can["see"]) and Playlist.objects.filter(pk=playlist.pk).exists()


@pytest.mark.parametrize("role", ROLES)
def test_the_api_follows_the_matrix(setup, role):
    playlist, users, songs = setup
    can = MATRIX[role]
    client = logged_in(users[role], api=True)
    base = f"/api/v1/playlists/{playlist.pk}/"
    assert client.get(base).status_code == (200 if can["see"] else 404)
    listed = {p["name"] for p in client.get("/api/v1/playlists/").json()["results"]}
    assert ("Private" in listed) is can["see"]
    added = client.post(f"{base}entries/", {"song": songs[0].pk}, format="json")
    assert added.status_code == 201 if can["entries"] else refused(added, role, can["see"])
    renamed = client.patch(base, {"description": "changed"}, format="json")
    assert renamed.status_code == 200 if can["manage"] else refused(renamed, role, can["see"])
    deleted = client.delete(base)
    assert deleted.status_code == 204 if can["delete"] else refused(deleted, role, can["see"])


def test_managing_collaborators(setup):
    playlist, users, songs = setup
    admin = logged_in(users["admin"])
    newcomer = make_user("newcomer")
    response = admin.post(f"/music/playlists/{playlist.pk}/collaborators/", {"username": "newcomer", "level": "edit"}, follow=True)
    assert "newcomer added: Edit (add, remove, reorder)." in response.content.decode()
    assert playlist.allows(newcomer, "edit") and not playlist.allows(newcomer, "admin")
    admin.post(f"/music/playlists/{playlist.pk}/collaborators/", {"username": "newcomer", "level": "view"})
    assert playlist.access_for(newcomer) == "view"
    admin.post(f"/music/playlists/{playlist.pk}/collaborators/", {"remove": str(newcomer.pk)})
    assert playlist.access_for(newcomer) is None
    for data, error in [({"username": "ghost", "level": "edit"}, "There is no listener called &#x27;ghost&#x27;."),
                        ({"username": "owner", "level": "edit"}, "That is the playlist&#x27;s owner, who has every right.")]:
        assert error in admin.post(f"/music/playlists/{playlist.pk}/collaborators/", data).content.decode()


def test_sharing_a_private_playlist_lets_the_recipient_view_it_and_shows_on_their_page(setup):
    playlist, users, songs = setup
    dana = make_user("dana")
    owner = logged_in(users["owner"])
    response = owner.post(f"/music/playlists/{playlist.pk}/share/", {"username": "dana", "message": "For your drive"}, follow=True)
    assert "Shared with dana." in response.content.decode()
    assert Share.objects.get().message == "For your drive" and playlist.access_for(dana) == "view"
    page = logged_in(dana).get("/music/users/dana/").content.decode()
    assert "Private</a>" in page and "from owner" in page and "“For your drive”" in page
    assert logged_in(dana).get(f"/music/playlists/{playlist.pk}/").status_code == 200
    # Nobody else sees what was shared with dana.
    assert "For your drive" not in logged_in(users["stranger"]).get("/music/users/dana/").content.decode()


def test_a_collaborative_playlist_shows_who_added_each_entry(setup):
    playlist, users, songs = setup
    playlist.add_song(songs[1], by=users["edit"])
    html = logged_in(users["view"]).get(f"/music/playlists/{playlist.pk}/").content.decode()
    assert '<th scope="col">Added by</th>' in html and "<td>edit <time" in html


class TestTheSameOperationsThroughTheApi:
    def test_collaborators_are_listed_added_changed_and_removed_by_admins(self, setup):
        playlist, users, songs = setup
        admin = logged_in(users["admin"], api=True)
        base = f"/api/v1/playlists/{playlist.pk}/collaborators/"
        newcomer = make_user("newcomer")
        assert admin.post(base, {"username": "newcomer", "level": "edit"}, format="json").json() == {
            "user_id": newcomer.pk, "username": "newcomer", "level": "edit",
        }
        assert [c["username"] for c in admin.get(base).json()] == ["admin", "edit", "newcomer", "view"]
        assert admin.delete(f"{base}{newcomer.pk}/").status_code == 204
        assert logged_in(users["edit"], api=True).post(base, {"username": "newcomer", "level": "admin"}, format="json").status_code == 403
        body = admin.post(base, {"username": "ghost", "level": "edit"}, format="json").json()
        assert body["errors"] == {"username": ["There is no listener called 'ghost'."]}

    def test_sharing(self, setup):
        playlist, users, songs = setup
        dana = make_user("dana")
        response = logged_in(users["owner"], api=True).post(f"/api/v1/playlists/{playlist.pk}/share/", {"username": "dana", "message": "Hi"}, format="json")
        assert response.status_code == 201
        assert logged_in(dana, api=True).get(f"/api/v1/playlists/{playlist.pk}/").status_code == 200

    def test_profiles_and_follows(self, setup):
        playlist, users, songs = setup
        from SyroMusic.models import Profile

        Profile.objects.create(user=users["view"], bio="hidden", is_public=False)
        client = logged_in(users["stranger"], api=True)
        assert client.post("/api/v1/users/owner/").json() == {
            "username": "owner", "is_public": True, "bio": "", "followers": 1, "following": 0, "you_follow": True,
        }
        assert client.delete("/api/v1/users/owner/").json()["followers"] == 0
        assert client.get("/api/v1/users/view/").json() == {
            "username": "view", "is_public": False, "bio": None, "followers": None, "following": None, "you_follow": False,
        }
        assert APIClient().post("/api/v1/users/owner/").status_code == 401
        assert client.post("/api/v1/users/stranger/").json()["errors"] == {"username": ["You cannot follow yourself."]}

    def test_importing_a_file(self, setup):
        from django.core.files.uploadedfile import SimpleUploadedFile

        playlist, users, songs = setup
        client = logged_in(users["stranger"], api=True)
        file = SimpleUploadedFile("mix.m3u8", f"#EXTINF:1,{songs[0].artist.name} - s0\nx.mp3\n#EXTINF:1,Nobody - Nothing\ny.mp3\n".encode())
        report = client.post("/api/v1/playlists/import/", {"file": file}, format="multipart").json()
        assert (report["playlist"]["name"], report["matched"], report["missed"]) == ("mix", 1, 1)
        assert report["entries"][0]["song"] == songs[0].pk and report["entries"][1]["note"].startswith("no artist called")
        assert APIClient().post("/api/v1/playlists/import/", {}, format="multipart").status_code == 401
