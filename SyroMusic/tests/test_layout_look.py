"""Readable pages (#18): no artist column on the artist's own page, the song's place on its album, playlist owners
linked to their profiles, popularity as a bar, filters that apply on change, and a new listener's profile saying
what to do next."""

import re

import pytest

from .factories import make_album, make_artist, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db


def thead(response):
    return re.search(r"<thead>.*?</thead>", text(response), re.S).group(0)


def test_the_artist_page_lists_top_songs_without_an_artist_column(client, django_assert_num_queries):
    album = make_album("Kid A", artist=make_artist("Radiohead"))
    song = make_song("Idioteque", album=album)
    # The artist, their covers for a picture (they have none of their own), discography count and page, top songs.
    with django_assert_num_queries(5):
        response = client.get(album.artist.get_absolute_url())
    assert thead(response) == (
        '<thead><tr><th scope="col"><span class="visually-hidden">Play</span></th><th scope="col">Title</th>'
        '<th scope="col">Album</th><th scope="col" class="num">Time</th>'
        '<th scope="col"><span class="visually-hidden">More</span></th></tr></thead>'
    )
    assert f'<a href="{album.artist.get_absolute_url()}">Radiohead</a></td>' not in text(response)
    assert f'<td><a href="{album.get_absolute_url()}">Kid A</a></td>' in text(response)
    assert song.get_absolute_url() in text(response)


def test_the_song_list_keeps_the_artist_column_and_shows_popularity_as_a_labelled_bar(client):
    make_song("Hit", album=make_album("A", artist=make_artist("Björk")), popularity=87)
    response = client.get("/music/songs/")
    assert '<th scope="col">Artist</th>' in thead(response)
    assert (
        '<td class="num"><meter class="popularity" min="0" max="100" value="87" title="87 of 100" aria-hidden="true">'
        '</meter><span class="visually-hidden">87 of 100</span></td>'
    ) in text(response)


@pytest.mark.parametrize("url", ["/music/songs/", "/music/albums/", "/music/artists/"])
def test_every_filter_and_sort_form_applies_on_change_and_keeps_its_button(client, url):
    make_song("One")
    html = text(client.get(url))
    forms = re.findall(r'<form method="get" class="filters"[^>]*>.*?</form>', html, re.S)
    assert [form.split(">")[0] + ">" for form in forms] == ['<form method="get" class="filters" data-autosubmit>']
    assert '<button type="submit">Apply</button>' in forms[0]


def test_the_search_pages_kind_applies_on_change(client):
    html = text(client.get("/music/search/?q=x"))
    assert 'class="search-form filters" role="search" data-autosubmit>' in html


class TestTheSongsPlaceOnItsAlbum:
    def test_a_single_disc_album_says_track_of_the_count(self, client, django_assert_num_queries):
        album = make_album("OK Computer")
        songs = [make_song(f"Song {n}", album=album, track_number=n) for n in range(1, 13)]
        with django_assert_num_queries(2):
            response = client.get(songs[0].get_absolute_url())
        assert "<dt>Track</dt><dd>Track 1 of 12</dd>" in text(response)
        assert "<dt>Disc</dt>" not in text(response)

    def test_a_multi_disc_album_says_the_disc_and_counts_the_tracks_on_it(self, client, django_assert_num_queries):
        album = make_album("Mellon Collie")
        for n in range(1, 4):
            make_song(f"Dawn {n}", album=album, disc_number=1, track_number=n)
        dusk = [make_song(f"Dusk {n}", album=album, disc_number=2, track_number=n) for n in range(1, 3)]
        with django_assert_num_queries(2):
            response = client.get(dusk[1].get_absolute_url())
        assert "<dt>Disc</dt><dd>Disc 2 of 2</dd>\n        <dt>Track</dt><dd>Track 2 of 2</dd>" in text(response)


class TestPlaylistOwnersLinkToTheirProfiles:
    @pytest.fixture
    def playlist(self):
        song = make_song("So What")
        return make_playlist(owner=make_user("miles"), name="Modal", songs=[song], is_public=True)

    def owner_link(self):
        return '<a href="/music/users/miles/">miles</a>'

    def test_on_the_playlist_list(self, client, playlist):
        assert f"<td>{self.owner_link()}</td>" in text(client.get("/music/playlists/"))

    def test_on_the_playlist_page(self, client, playlist):
        assert f'<p class="meta">by {self.owner_link()} ·' in text(client.get(playlist.get_absolute_url()))

    def test_on_the_song_page(self, client, playlist):
        song = playlist.entries.get().song
        assert f'<span class="meta">by {self.owner_link()}</span>' in text(client.get(song.get_absolute_url()))

    def test_on_the_home_page(self, client, playlist):
        assert f'<span class="meta">by {self.owner_link()} ·' in text(client.get("/"))

    def test_in_search_results(self, client, playlist):
        assert f'<span class="meta">by {self.owner_link()},' in text(client.get("/music/search/?q=modal"))


class TestANewListenersProfile:
    def test_it_says_what_to_do_next_instead_of_empty_sections(self, client, django_assert_num_queries):
        alice = make_user("alice")
        client.force_login(alice)
        client.get("/music/users/alice/")  # the session is now in the cache
        # What a profile with lists costs: the empty state reuses the lists it would have shown.
        with django_assert_num_queries(6):
            html = text(client.get("/music/users/alice/"))
        assert '<h2 id="get-started">Get started</h2>' in html
        assert '<li><a href="/music/playlists/new/">Create a playlist</a>, or <a href="/music/playlists/import/">import one</a>' in html
        assert '<a href="/music/liked/">liked songs</a>' in html
        assert '<a href="/music/artists/">Browse artists</a>' in html
        assert "No playlists yet." not in html
        assert "Nothing shared with you yet." not in html
        assert "None yet." not in html

    def test_once_they_have_a_playlist_it_shows_their_lists(self, client):
        alice = make_user("alice")
        make_playlist(owner=alice, name="Mine")
        client.force_login(alice)
        html = text(client.get("/music/users/alice/"))
        assert "Get started" not in html
        assert '<h2 id="their-playlists">Your playlists</h2>' in html
        assert "Nothing shared with you yet." in html

    def test_someone_elses_empty_profile_keeps_its_plain_empty_list(self, client):
        make_user("alice")
        client.force_login(make_user("bob"))
        html = text(client.get("/music/users/alice/"))
        assert "Get started" not in html
        assert '<li class="empty">No playlists yet.</li>' in html
