from http import HTTPStatus

import pytest

from .factories import make_album, make_artist, make_playlist, make_song, make_user

pytestmark = pytest.mark.django_db


def test_home_page_counts_the_catalogue(client):
    make_song(album=make_album(artist=make_artist("Björk")))
    response = client.get("/")
    assert "1 artists, 1 albums, 1 songs." in response.content.decode()


def test_detail_pages_show_the_object_and_link_its_relations(client):
    song = make_song("Hyperballad", album=make_album("Post", artist=make_artist("Björk")))
    for url, text in [
        (song.get_absolute_url(), "<h1>Hyperballad</h1>"),
        (song.album.get_absolute_url(), "<h1>Post</h1>"),
        (song.artist.get_absolute_url(), "<h1>Björk</h1>"),
    ]:
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK
        assert text in response.content.decode()


@pytest.mark.parametrize("url", ["/music/songs/999/", "/music/albums/999/", "/music/artists/999/", "/music/playlists/999/"])
def test_a_missing_object_is_404(client, url):
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(("viewer", "status"), [("alice", HTTPStatus.OK), ("bob", HTTPStatus.NOT_FOUND), (None, HTTPStatus.NOT_FOUND)])
def test_a_private_playlist_is_404_for_everyone_but_its_owner(client, viewer, status):
    alice, bob = make_user("alice"), make_user("bob")
    playlist = make_playlist(owner=alice, name="Secret", is_public=False, songs=[make_song("Hidden song")])
    if viewer:
        client.force_login({"alice": alice, "bob": bob}[viewer])
    response = client.get(playlist.get_absolute_url())
    assert response.status_code == status
    assert ("Hidden song" in response.content.decode()) is (status == HTTPStatus.OK)
