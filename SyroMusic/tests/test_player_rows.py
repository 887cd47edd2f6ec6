"""Play buttons and queue menus on every song row (templatetags play_button and queue_menu), and "Play" and
"Shuffle" on the album, artist, playlist and Liked-songs pages, for listeners who may listen. The markup is
the contract player.js reads: data-play-list, data-play-song, data-queue-next/-add, data-play-context."""

import re
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from SyroMusic.services import like_set

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_artist, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db


def button(song):
    return (
        f'<button type="button" class="play-button needs-js" data-play-song="{song.pk}" aria-label="Play {song.title}">'
        '<span aria-hidden="true">▶</span></button>'
    )


NOT_PLAYABLE = (
    '<span class="play-button unplayable" title="Not playable"><span aria-hidden="true">–</span>'
    '<span class="visually-hidden">Not playable</span></span>'
)


def menu(song, here=""):
    query = f"?{urlencode({'next': here})}" if here else ""
    page = f"/music/songs/{song.pk}/add-to-playlist/{query}"
    queue = (
        f'<button type="button" class="needs-js" data-queue-next="{song.pk}">Play next</button>'
        f'<button type="button" class="needs-js" data-queue-add="{song.pk}">Add to queue</button>'
    ) if song.is_playable else ""
    return (
        f'<details class="row-menu" data-row-actions="/music/songs/{song.pk}/row-actions/{query}"><summary aria-label="More for {song.title}">'
        f'<span aria-hidden="true">⋯</span></summary><div class="row-menu-items">{queue}<div class="row-actions">'
        f'<a href="{page}" aria-label="Like {song.title}">Like</a><a href="{page}" aria-label="Add {song.title} to a playlist">'
        "Add to playlist…</a></div></div></details>"
    )


def play_actions(query):
    url = f"/player/tracks/?{query}"
    return (
        f'<div class="play-actions"><button type="button" class="button needs-js" data-play-context="{url}">Play</button>\n'
        f'<button type="button" class="button needs-js" data-play-context="{url}" data-shuffle>Shuffle</button></div>'
    )


def rows(html):
    """Each song row as (song id, row classes, first cell, last cell)."""
    found = []
    for attributes, body in re.findall(r"<tr ([^>]*data-song-id[^>]*)>(.*?)</tr>", html, re.S):
        song_id = int(re.search(r'data-song-id="(\d+)"', attributes).group(1))
        classes = re.search(r'class="([^"]*)"', attributes)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        found.append((song_id, classes.group(1) if classes else "", cells[0], cells[-1]))
    return found


def expected_rows(*songs, here):
    return [
        (song.pk, "", button(song), menu(song, here)) if song.is_playable
        else (song.pk, "unplayable", NOT_PLAYABLE, menu(song, here))
        for song in songs
    ]


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def blue(alice):
    """Blue, by Joni Mitchell: River and All I Want play, My Old Man has no audio; a public playlist of all three."""
    album = make_album("Blue", artist=make_artist("Joni Mitchell"))
    river = make_song("River", album=album, track_number=1, popularity=90)
    all_i_want = make_song("All I Want", album=album, track_number=2, popularity=80)
    my_old_man = make_song("My Old Man", album=album, track_number=3, popularity=70)
    give_audio(river, all_i_want)
    songs = [river, all_i_want, my_old_man]
    for song in songs:
        song.refresh_from_db()
    playlist = make_playlist(alice, name="Winter", songs=[my_old_man, river, all_i_want], is_public=True)
    return album, songs, playlist


class TestTags:
    def render(self, source, **context):
        return Template("{% load syromusic %}" + source).render(Context(context))

    def test_titles_are_escaped(self):
        song = make_song('<b>"Rock" & roll</b>')
        give_audio(song)
        song.refresh_from_db()
        html = self.render("{% play_button song %}{% queue_menu song %}", song=song)
        assert 'aria-label="Play &lt;b&gt;&quot;Rock&quot; &amp; roll&lt;/b&gt;"' in html
        assert 'aria-label="More for &lt;b&gt;&quot;Rock&quot; &amp; roll&lt;/b&gt;"' in html
        assert "<b>" not in html

    def test_a_song_without_audio_has_a_mark_and_a_menu_without_the_queue(self):
        song = make_song()
        assert self.render("{% play_button song %}|{% queue_menu song %}", song=song) == f"{NOT_PLAYABLE}|{menu(song)}"

    @pytest.mark.parametrize(("stream_anonymous", "who", "flag"), [
        (False, None, "0"), (True, None, "1"), (False, "alice", "1"), (True, "alice", "1"),
    ])
    def test_may_listen_flag_says_whether_the_visitor_may_stream(self, settings, stream_anonymous, who, flag, alice):
        from django.contrib.auth.models import AnonymousUser

        settings.STREAM_ANONYMOUS = stream_anonymous
        request = RequestFactory().get("/")
        request.user = alice if who else AnonymousUser()
        assert self.render("{% may_listen_flag %}", request=request) == flag

    def test_may_listen_flag_asks_the_database_nothing_for_anonymous_visitors(
        self, client, settings, django_assert_num_queries
    ):
        settings.STREAM_ANONYMOUS = False
        with django_assert_num_queries(0):
            html = text(client.get("/accounts/login/"))
        assert 'data-may-listen="0"' in html


class TestRows:
    def test_the_song_list_has_a_play_button_and_a_menu_per_row(self, client, blue):
        _, songs, _ = blue
        html = text(client.get("/music/songs/"))
        assert '<table class="songs" data-play-list>' in html
        assert rows(html) == expected_rows(*sorted(songs, key=lambda song: song.title), here="/music/songs/")

    def test_the_artists_top_songs_have_them(self, client, blue, settings):
        settings.STREAM_ANONYMOUS = True
        album, songs, _ = blue
        html = text(client.get(album.artist.get_absolute_url()))
        assert rows(html) == expected_rows(*songs, here=album.artist.get_absolute_url())
        assert play_actions(f"artist={album.artist.pk}") in html

    def test_liked_songs_have_them(self, alice, blue):
        _, songs, _ = blue
        for song in songs:
            like_set(user=alice, thing=song, liked=True)
        html = text(logged_in(alice).get("/music/liked/"))
        assert rows(html) == expected_rows(*reversed(songs), here="/music/liked/")
        assert play_actions("liked=1") in html

    def test_no_liked_songs_means_nothing_to_play(self, alice):
        html = text(logged_in(alice).get("/music/liked/"))
        assert "play-actions" not in html and rows(html) == []

    def test_search_results_have_them(self, client, blue):
        _, songs, _ = blue
        html = text(client.get("/music/search/", {"q": "river", "type": "song"}))
        assert '<table class="songs" data-play-list>' in html
        assert rows(html) == expected_rows(songs[0], here="/music/search/?q=river&type=song")

    def test_the_album_tracklist_has_them_and_a_control_without_javascript(self, client, blue, settings):
        settings.STREAM_ANONYMOUS = True
        album, (river, _, _), _ = blue
        html = text(client.get(album.get_absolute_url()))
        assert '<table class="tracklist" data-play-list>' in html
        assert rows(html) == expected_rows(*blue[1], here=album.get_absolute_url())
        assert f'<noscript><audio controls preload="none" src="{river.audio.get_absolute_url()}"' in html
        assert play_actions(f"album={album.pk}") in html

    def test_playlist_entries_have_them_in_playlist_order(self, alice, blue):
        _, (river, all_i_want, my_old_man), playlist = blue
        html = text(logged_in(alice).get(playlist.get_absolute_url()))
        assert '<table class="tracklist reorderable" data-play-list>' in html
        assert rows(html) == expected_rows(my_old_man, river, all_i_want, here=playlist.get_absolute_url())
        assert play_actions(f"playlist={playlist.pk}") in html

    def test_the_song_page_has_a_play_button_and_its_menu(self, alice, blue):
        _, (river, _, my_old_man), _ = blue
        html = text(logged_in(alice).get(river.get_absolute_url()))
        assert f"{button(river)} {menu(river, river.get_absolute_url())}" in html
        assert f'<noscript><audio controls preload="none" src="{river.audio.get_absolute_url()}"' in html
        unplayable = text(logged_in(alice).get(my_old_man.get_absolute_url()))
        assert "data-play-song" not in unplayable and "Not playable: no audio file" in unplayable

    def test_an_empty_album_or_playlist_offers_nothing_to_play(self, alice):
        album = make_album()
        playlist = make_playlist(alice)
        client = logged_in(alice)
        for url in (album.get_absolute_url(), playlist.get_absolute_url(), album.artist.get_absolute_url()):
            assert "play-actions" not in text(client.get(url)), url


class TestWhoMayListen:
    @pytest.fixture
    def pages(self, blue):
        album, songs, playlist = blue
        return [album.get_absolute_url(), album.artist.get_absolute_url(), playlist.get_absolute_url()]

    def test_anonymous_visitors_get_no_play_or_shuffle_when_they_may_not_listen(self, client, settings, pages, blue):
        settings.STREAM_ANONYMOUS = False
        for url in pages:
            response = client.get(url)
            assert response.status_code == HTTPStatus.OK
            assert "play-actions" not in text(response) and "data-play-context" not in text(response), url
        song_page = text(client.get(blue[1][0].get_absolute_url()))
        assert "data-play-song" not in song_page and "Log in to listen" in song_page

    def test_anonymous_visitors_get_them_when_anyone_may_listen(self, client, settings, pages):
        settings.STREAM_ANONYMOUS = True
        for url in pages:
            assert text(client.get(url)).count("data-play-context") == 2, url

    def test_listeners_get_them(self, alice, settings, pages):
        settings.STREAM_ANONYMOUS = False
        client = logged_in(alice)
        for url in pages:
            assert text(client.get(url)).count("data-play-context") == 2, url
