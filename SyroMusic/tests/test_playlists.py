"""The playlist pages: the list and a playlist's page, and creating, editing, deleting, adding, moving and removing."""

import re
from http import HTTPStatus

import pytest
from django.test import Client

from SyroMusic.models import Collaborator, Playlist

from .factories import json_ld, logged_in, make_album, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db


def rows(response, table_class):
    html = text(response)
    start = html.index(f'<table class="{table_class}"')
    body = html[start : html.index("</table>", start)]
    return [re.sub(r"<[^>]+>", "", row).split() for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


class TestViewingPlaylists:
    def test_the_list_shows_public_playlists_with_owner_size_and_length(self, client):
        alice = make_user("alice")
        songs = [make_song(duration_ms=240_000), make_song(duration_ms=120_000)]
        make_playlist(owner=alice, name="Road trip", is_public=True, songs=songs)
        make_playlist(owner=alice, name="Diary", is_public=False, songs=songs)
        response = client.get("/music/playlists/")
        assert rows(response, "playlists")[1][:6] == ["Road", "trip", "alice", "2", "6", "min"]
        assert "Diary" not in text(response)

    def test_entries_are_in_position_order_with_total_and_pages(self, client):
        songs = [make_song(f"Track {n}", duration_ms=60_000) for n in range(1, 151)]
        playlist = make_playlist(owner=make_user("alice"), is_public=True, songs=list(reversed(songs)))
        html = text(client.get(playlist.get_absolute_url()))
        titles = re.findall(r'<td class="row-title">(?:<img [^>]*>|<svg .*?</svg>)?<a href="/music/songs/\d+/">([^<]*)</a>', html)
        assert titles[:3] == ["Track 150", "Track 149", "Track 148"] and len(titles) == 100
        assert 'by <a href="/music/users/alice/">alice</a> · 150 songs · 2 h 30 min' in html
        second = text(client.get(playlist.get_absolute_url() + "?page=2"))
        assert re.findall(r'<td class="num">(\d+)</td>', second)[0] == "101"
        data = json_ld(client.get(playlist.get_absolute_url()))
        assert (data["@type"], data["numTracks"], data["author"]["name"]) == ("MusicPlaylist", 150, "alice")

    @pytest.mark.parametrize(("viewer", "status"), [("alice", HTTPStatus.OK), ("bob", HTTPStatus.NOT_FOUND), (None, HTTPStatus.NOT_FOUND)])
    def test_a_private_playlist_is_404_for_everyone_but_its_owner(self, viewer, status):
        alice, bob = make_user("alice"), make_user("bob")
        playlist = make_playlist(owner=alice, name="Secret", is_public=False, songs=[make_song("Hidden song")])
        owner = Client()
        owner.force_login(alice)
        owner.get(playlist.get_absolute_url())  # the owner's visit is never what others are served
        client = Client()
        if viewer:
            client.force_login({"alice": alice, "bob": bob}[viewer])
        response = client.get(playlist.get_absolute_url())
        assert response.status_code == status
        assert ("Hidden song" in text(response)) is (status == HTTPStatus.OK)


class TestChangingPlaylists:
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
