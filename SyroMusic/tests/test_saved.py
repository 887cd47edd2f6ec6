"""Save for offline, as the server renders it: the buttons on album, playlist and Liked-songs pages (for those who
may listen), and the Saved page, which the browser's script fills (the server does not know what is saved).
What the buttons do is tested in a real browser: test_saved_browser.py."""

from http import HTTPStatus

import pytest

from SyroMusic.services import like_set

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db


def widget(kind, value, title):
    return (
        f'<div class="save-offline needs-js" data-save-offline="{kind}:{value}" '
        f'data-tracks-url="/player/tracks/?{kind}={value}" data-title="{title}"'
    )


@pytest.fixture
def album():
    album = make_album("Blue & Gold")
    give_audio(make_song("River", album=album))
    return album


def test_an_album_page_offers_its_songs_for_offline_to_a_listener(alice, album):
    response = logged_in(alice).get(album.get_absolute_url())
    assert widget("album", album.pk, "Blue &amp; Gold") + f' data-url="{album.get_absolute_url()}" hidden>' in text(response)
    assert '<a class="saved-mark" data-save="saved" href="/music/saved/" hidden>Saved ✓</a>' in text(response)


def test_a_visitor_who_may_not_listen_is_offered_nothing_to_save(client, album, settings):
    settings.STREAM_ANONYMOUS = False
    assert "data-save-offline" not in text(client.get(album.get_absolute_url()))


def test_an_anonymous_listener_may_save_when_anyone_may_listen(client, album, settings):
    settings.STREAM_ANONYMOUS = True
    assert widget("album", album.pk, "Blue &amp; Gold") in text(client.get(album.get_absolute_url()))


def test_a_playlist_and_the_liked_songs_offer_theirs(alice, album):
    song = album.songs.get()
    playlist = make_playlist(owner=alice, name="Road trip", songs=[song])
    like_set(user=alice, thing=song, liked=True)
    client = logged_in(alice)
    assert widget("playlist", playlist.pk, "Road trip") in text(client.get(playlist.get_absolute_url()))
    assert widget("liked", 1, "Liked songs") in text(client.get("/music/liked/"))


def test_an_empty_album_offers_nothing_to_save(alice):
    assert "data-save-offline" not in text(logged_in(alice).get(make_album().get_absolute_url()))


@pytest.mark.parametrize("user", [None, "alice"])
def test_the_saved_page_is_filled_by_script_and_says_so_without_it(client, user, django_assert_num_queries):
    if user:
        client = logged_in(make_user(user))
    with django_assert_num_queries(1 if user else 0):  # the user (sessions are kept in the cache)
        response = client.get("/music/saved/")
    assert response.status_code == HTTPStatus.OK
    page = text(response)
    assert "<title>Saved for offline · SyroMusic</title>" in page
    assert (
        "<noscript><p>The list of music saved for offline needs JavaScript: it is kept in this browser, not on the "
        "server.</p></noscript>"
    ) in page
    assert '<ul class="saved-items" data-saved="items"></ul>' in page
