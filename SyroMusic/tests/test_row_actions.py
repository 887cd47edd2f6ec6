"""Rows you can act on: every song row's menu (templatetag queue_menu) likes the song and adds it to a playlist.
The menu is the same for every visitor (cached pages); a listener's heart and playlists come from a small
fragment fetched when it opens (row-actions.js), or, without JavaScript, from a page of their own. And the
playlist page: "Find songs to add" on an empty playlist, a text filter on a long one.

Alice owns "Road trip"; Carol lets her edit "Carol's mix", only view "Carol's notes", and keeps "Carol's
secret" private and "Carol's radio" public to all."""

import re
from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client

from SyroMusic.models import Collaborator, Like, Playlist, PlaylistEntry
from SyroMusic.services import like_set

from .audio_rows import give_audio
from .factories import logged_in, make_album, make_artist, make_playlist, make_song, make_user, text

pytestmark = pytest.mark.django_db

SONG_LIST = "/music/songs/"


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def carol():
    return make_user("carol")


@pytest.fixture
def song():
    found = make_song("Alpha Tide", album=make_album("Low Water", artist=make_artist("Harbour")), duration_ms=205_000)
    give_audio(found)
    found.refresh_from_db()
    return found


@pytest.fixture
def playlists(alice, carol):
    mix = make_playlist(carol, name="Carol's mix")
    notes = make_playlist(carol, name="Carol's notes")
    Collaborator.objects.create(playlist=mix, user=alice, level=Collaborator.Level.EDIT)
    Collaborator.objects.create(playlist=notes, user=alice, level=Collaborator.Level.VIEW)
    return {
        "road": make_playlist(alice, name="Road trip"),
        "mix": mix,
        "notes": notes,
        "secret": make_playlist(carol, name="Carol's secret"),
        "radio": make_playlist(carol, name="Carol's radio", is_public=True),
    }


def menu_of(html, song):
    return re.search(rf'<details class="row-menu" data-row-actions="/music/songs/{song.pk}/.*?</details>', html).group(0)


def menu(song, here):
    back = quote(here, safe="")
    page = f"/music/songs/{song.pk}/add-to-playlist/?next={back}"
    return (
        f'<details class="row-menu" data-row-actions="/music/songs/{song.pk}/row-actions/?next={back}">'
        '<summary aria-label="More for Alpha Tide"><span aria-hidden="true">⋯</span></summary><div class="row-menu-items">'
        f'<button type="button" class="needs-js" data-queue-next="{song.pk}">Play next</button>'
        f'<button type="button" class="needs-js" data-queue-add="{song.pk}">Add to queue</button>'
        f'<div class="row-actions"><a href="{page}" aria-label="Like Alpha Tide">Like</a>'
        f'<a href="{page}" aria-label="Add Alpha Tide to a playlist">Add to playlist…</a></div></div></details>'
    )


def choices(html):
    """The playlist buttons of the menu's part for a listener: (playlist id, label, text)."""
    form = re.search(r'<form method="post" class="row-add".*?</form>', html, re.S).group(0)
    return re.findall(r'<button type="submit" name="playlist" value="(\d+)" aria-label="([^"]*)">(.*?)</button>', form)


def messages(response):
    return re.findall(r'<li class="message (\w+)">(.*?)</li>', text(response))


class TestTheMenu:
    def test_it_is_the_same_for_a_visitor_and_a_listener(self, client, alice, song):
        expected = menu(song, SONG_LIST)
        assert menu_of(text(client.get(SONG_LIST)), song) == expected
        like_set(user=alice, thing=song, liked=True)  # their heart is fetched, not in the page
        assert menu_of(text(logged_in(alice).get(SONG_LIST)), song) == expected

    @pytest.mark.parametrize("page", ["album", "artist", "search", "liked", "playlist", "song"])
    def test_every_song_row_has_it(self, alice, song, playlists, page):
        like_set(user=alice, thing=song, liked=True)
        PlaylistEntry.objects.create(playlist=playlists["road"], song=song, position=1)
        url = {
            "album": song.album.get_absolute_url(), "artist": song.artist.get_absolute_url(),
            "search": "/music/search/?q=alpha&type=song", "liked": "/music/liked/",
            "playlist": playlists["road"].get_absolute_url(), "song": song.get_absolute_url(),
        }[page]
        assert menu_of(text(logged_in(alice).get(url)), song) == menu(song, url)

    def test_the_visitors_links_lead_to_the_log_in_and_back(self, client, song):
        page = f"/music/songs/{song.pk}/add-to-playlist/?next=%2Fmusic%2Fsongs%2F"
        response = client.get(page)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == f"/accounts/login/?next={quote(page, safe='/')}"
        fragment = client.get(f"/music/songs/{song.pk}/row-actions/")
        assert fragment.status_code == HTTPStatus.FOUND and fragment["Location"].startswith("/accounts/login/")


class TestTheListenersPart:
    def test_it_has_their_heart_and_only_the_playlists_they_may_edit(self, alice, song, playlists):
        PlaylistEntry.objects.create(playlist=playlists["road"], song=song, position=1)
        html = text(logged_in(alice).get(f"/music/songs/{song.pk}/row-actions/?next=/music/songs/"))
        assert choices(html) == [
            (str(playlists["mix"].pk), "Add Alpha Tide to Carol&#x27;s mix", "Carol&#x27;s mix"),
            (str(playlists["road"].pk), "Add Alpha Tide to Road trip (already in it)",
             '<span aria-hidden="true">✓ </span>Road trip'),
        ]
        here = f"/music/songs/{song.pk}/row-actions/?next=/music/songs/"
        assert (
            f'<input type="hidden" name="next" value="{here}">\n  \n'
            f'  <button type="submit" name="liked" value="1" class="like-button" aria-pressed="false" '
            'aria-label="Like Alpha Tide"><span aria-hidden="true">♡</span> Like</button>'
        ) in html
        assert html.count('<input type="hidden" name="next" value="/music/songs/">') == 2
        assert '<label>New playlist… <input name="name" maxlength="200" required autocomplete="off"></label>' in html
        for hidden in ("notes", "secret", "radio"):
            assert playlists[hidden].name.replace("'", "&#x27;") not in html

    def test_a_stranger_sees_none_of_anothers_playlists(self, song, playlists):
        html = text(logged_in(make_user("charlie")).get(f"/music/songs/{song.pk}/row-actions/"))
        assert choices(html) == []
        assert '<p class="meta">You have no playlists yet.</p>' in html

    @pytest.mark.parametrize("owned", [1, 20])
    def test_it_costs_three_queries_however_many_playlists(self, alice, song, django_assert_num_queries, owned):
        for number in range(owned):
            make_playlist(alice, name=f"List {number}", songs=[song])
        client = logged_in(alice)
        # The session, the song with its heart, the playlists each saying whether they hold it.
        with django_assert_num_queries(3):
            html = text(client.get(f"/music/songs/{song.pk}/row-actions/"))
        assert len(choices(html)) == owned

    def test_liking_through_it_answers_with_it_liked(self, alice, song):
        here = f"/music/songs/{song.pk}/row-actions/?next=/music/songs/"
        response = logged_in(alice).post(f"/music/likes/songs/{song.pk}/", {"liked": "1", "next": here}, follow=True)
        assert response.redirect_chain == [(here, HTTPStatus.FOUND)]
        assert (
            '<button type="submit" name="liked" value="0" class="like-button" aria-pressed="true" '
            'aria-label="Unlike Alpha Tide"><span aria-hidden="true">♥</span> Liked</button>'
        ) in text(response)
        assert Like.objects.filter(user=alice, song=song).count() == 1


class TestThePageWithoutJavaScript:
    def test_it_names_the_song_and_offers_the_same(self, alice, song, playlists):
        url = f"/music/songs/{song.pk}/add-to-playlist/?next=/music/albums/"
        html = text(logged_in(alice).get(url))
        assert "<title>Add Alpha Tide to a playlist · SyroMusic</title>" in html
        assert "<h1>Add “Alpha Tide” to a playlist</h1>" in html
        assert [label for _, label, _ in choices(html)] == ["Add Alpha Tide to Carol&#x27;s mix", "Add Alpha Tide to Road trip"]
        assert f'<input type="hidden" name="next" value="{url}">' in html  # the heart comes back here
        assert '<p><a href="/music/albums/">Back</a></p>' in html

    def test_it_goes_back_only_within_the_site(self, alice, song):
        html = text(logged_in(alice).get(f"/music/songs/{song.pk}/add-to-playlist/?next=https://evil.example/"))
        assert f'<p><a href="/music/songs/{song.pk}/">Back</a></p>' in html

    def test_adding_goes_back_with_a_message(self, alice, song, playlists):
        road = playlists["road"]
        response = logged_in(alice).post(
            f"/music/songs/{song.pk}/add-to-playlist/", {"playlist": road.pk, "next": SONG_LIST}, follow=True
        )
        assert response.redirect_chain == [(SONG_LIST, HTTPStatus.FOUND)]
        assert messages(response) == [("success", "Added “Alpha Tide” to Road trip.")]
        assert list(road.entries.values_list("song", "position", "added_by")) == [(song.pk, 1, alice.pk)]

    def test_a_collaborator_with_edit_rights_adds(self, alice, song, playlists):
        logged_in(alice).post(f"/music/songs/{song.pk}/add-to-playlist/", {"playlist": playlists["mix"].pk})
        assert list(playlists["mix"].entries.values_list("song", flat=True)) == [song.pk]

    def test_a_song_already_there_is_said_and_not_added_again(self, alice, song, playlists):
        road = playlists["road"]
        PlaylistEntry.objects.create(playlist=road, song=song, position=1)
        response = logged_in(alice).post(
            f"/music/songs/{song.pk}/add-to-playlist/", {"playlist": road.pk, "next": SONG_LIST}, follow=True
        )
        assert messages(response) == [("error", "“Alpha Tide” is already in Road trip.")]
        assert road.entries.count() == 1

    @pytest.mark.parametrize("which", ["notes", "secret", "radio"])
    def test_a_playlist_they_may_not_edit_is_404(self, alice, song, playlists, which):
        response = logged_in(alice).post(f"/music/songs/{song.pk}/add-to-playlist/", {"playlist": playlists[which].pk})
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert not PlaylistEntry.objects.exists()

    @pytest.mark.parametrize("playlist", ["", "abc", "99999999999999999999999", "²", "٣"])
    def test_no_playlist_or_a_bad_one_is_404(self, alice, song, playlist):
        response = logged_in(alice).post(f"/music/songs/{song.pk}/add-to-playlist/", {"playlist": playlist})
        assert response.status_code == HTTPStatus.NOT_FOUND

    def test_an_unknown_song_is_404(self, alice, playlists):
        response = logged_in(alice).post("/music/songs/999999/add-to-playlist/", {"playlist": playlists["road"].pk})
        assert response.status_code == HTTPStatus.NOT_FOUND

    def test_a_visitor_cannot_add(self, client, song, playlists):
        response = client.post(f"/music/songs/{song.pk}/add-to-playlist/", {"playlist": playlists["radio"].pk})
        assert response.status_code == HTTPStatus.FOUND and response["Location"].startswith("/accounts/login/")
        assert not PlaylistEntry.objects.exists()

    def test_a_post_without_the_csrf_token_is_refused(self, alice, song, playlists):
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        response = client.post(f"/music/songs/{song.pk}/add-to-playlist/", {"playlist": playlists["road"].pk})
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert not PlaylistEntry.objects.exists()

    def test_a_new_playlist_is_made_with_the_song_in_it(self, alice, song):
        response = logged_in(alice).post(
            f"/music/songs/{song.pk}/add-to-playlist/", {"name": "  Night drive ", "next": SONG_LIST}, follow=True
        )
        assert messages(response) == [("success", "Created Night drive with “Alpha Tide” in it.")]
        made = Playlist.objects.get(owner=alice)
        assert (made.name, made.is_public) == ("Night drive", False)
        assert list(made.entries.values_list("song", "position")) == [(song.pk, 1)]

    @pytest.mark.parametrize(("name", "said"), [
        ("Road trip", "You already have a playlist with this name."),
        ("   ", "This field is required."),
    ])
    def test_a_new_playlist_needs_a_name_of_its_own(self, alice, song, playlists, name, said):
        response = logged_in(alice).post(f"/music/songs/{song.pk}/add-to-playlist/", {"name": name}, follow=True)
        assert messages(response) == [("error", said)]
        assert Playlist.objects.filter(owner=alice).count() == 1


class TestAnswersToTheScript:
    def url(self, song):
        return f"/music/songs/{song.pk}/add-to-playlist/"

    def post(self, user, song, data):
        response = logged_in(user).post(self.url(song), data, HTTP_ACCEPT="application/json")
        return response.status_code, response.json()

    def test_added_already_there_and_made(self, alice, song, playlists):
        road = playlists["road"].pk
        assert self.post(alice, song, {"playlist": road}) == (200, {"message": "Added “Alpha Tide” to Road trip."})
        assert self.post(alice, song, {"playlist": road}) == (409, {"message": "“Alpha Tide” is already in Road trip."})
        assert self.post(alice, song, {"name": "Dawn"}) == (201, {"message": "Created Dawn with “Alpha Tide” in it."})
        assert self.post(alice, song, {"name": "Dawn"}) == (400, {"message": "You already have a playlist with this name."})

    def test_no_message_waits_for_the_next_page(self, alice, song, playlists):
        client = logged_in(alice)
        client.post(self.url(song), {"playlist": playlists["road"].pk}, HTTP_ACCEPT="application/json")
        assert messages(client.get(SONG_LIST)) == []

    def test_a_full_playlist_is_said(self, alice, song, playlists, settings, monkeypatch):
        monkeypatch.setattr(Playlist, "MAX_ENTRIES", 0)
        status, answer = self.post(alice, song, {"playlist": playlists["road"].pk})
        assert status == 409 and answer["message"].startswith("A playlist holds at most 0 songs")

    def test_adding_costs_a_fixed_number_of_queries(self, alice, song, playlists, django_assert_num_queries):
        client = logged_in(alice)
        # Session, song, playlist; then the lock, the check, and add_songs' lock, count, insert and touch,
        # inside their savepoints.
        with django_assert_num_queries(13, exact=False):
            client.post(self.url(song), {"playlist": playlists["road"].pk}, HTTP_ACCEPT="application/json")


class TestPlaylistPage:
    def find_section(self, html):
        found = re.search(r'<section class="playlist-find-section".*?</section>', html, re.S)
        return found.group(0) if found else None

    def test_an_empty_playlist_its_editor_sees_offers_to_find_songs(self, alice, playlists):
        html = text(logged_in(alice).get(playlists["road"].get_absolute_url()))
        road = playlists["road"]
        assert self.find_section(html) == (
            '<section class="playlist-find-section" aria-labelledby="find-songs">\n'
            '    <h2 id="find-songs">Find songs to add</h2>\n'
            f'    <form method="get" class="playlist-find" role="search" action="/music/playlists/{road.pk}/">\n'
            '      <label for="playlist-find-q">Search songs</label>\n'
            '      <input id="playlist-find-q" type="search" name="find" value="" maxlength="100" autocomplete="off">\n'
            '      <button type="submit">Search</button>\n'
            "    </form>\n    \n  </section>"
        )

    @pytest.mark.parametrize("who", [None, "carol", "alice"])
    def test_nobody_else_is_offered_it(self, alice, carol, playlists, who):
        user = {None: None, "carol": carol, "alice": None}[who]
        if who == "alice":  # a viewer of a playlist Carol shares with her
            user, playlist = alice, playlists["notes"]
        else:
            playlist = playlists["radio"] if user is None else playlists["road"]
        response = logged_in(user).get(playlist.get_absolute_url(), {"find": "alpha"})
        assert response.status_code in (HTTPStatus.OK, HTTPStatus.NOT_FOUND)
        assert "Find songs to add" not in text(response)

    def test_a_search_lists_songs_each_with_an_add_button_that_comes_back_here(self, alice, song, playlists):
        road = playlists["road"]
        url = f"/music/playlists/{road.pk}/?find=alpha"
        html = self.find_section(text(logged_in(alice).get(url)))
        assert re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "TOKEN", html).split("\n")[8:11] == [
            '    <ul class="find-results" aria-label="Songs found">',
            "      ",
            f'      <li><form method="post" action="/music/songs/{song.pk}/add-to-playlist/"><input type="hidden" TOKEN>'
            f'<input type="hidden" name="playlist" value="{road.pk}"><input type="hidden" name="next" value="{url}">'
            '<button type="submit" class="small" aria-label="Add Alpha Tide to Road trip">Add</button></form>',
        ]
        assert f'<a href="/music/songs/{song.pk}/">Alpha Tide</a> <span class="meta">Harbour · Low Water · 3:25</span>' in html

    def test_the_search_stays_while_songs_are_added_and_says_what_is_wrong(self, alice, song, playlists):
        road = make_playlist(alice, name="Full", songs=[song])
        client = logged_in(alice)
        assert self.find_section(text(client.get(road.get_absolute_url()))) is None
        assert "No songs match “zebra”." in self.find_section(text(client.get(road.get_absolute_url(), {"find": "zebra"})))
        said = self.find_section(text(client.get(road.get_absolute_url(), {"find": "!!"})))
        assert '<p class="error">Search for letters or digits: this search has only punctuation or symbols.</p>' in said

    def test_adding_from_the_search_lands_back_on_the_playlist(self, alice, song, playlists):
        road = playlists["road"]
        url = f"/music/playlists/{road.pk}/?find=alpha"
        response = logged_in(alice).post(
            f"/music/songs/{song.pk}/add-to-playlist/", {"playlist": road.pk, "next": url}, follow=True
        )
        assert response.redirect_chain == [(url, HTTPStatus.FOUND)]
        assert messages(response) == [("success", "Added “Alpha Tide” to Road trip.")]
        assert f'<tr id="entry-{road.entries.get().pk}"' in text(response)

    def test_the_empty_playlist_page_with_a_search_costs_a_fixed_number_of_queries(
        self, alice, song, playlists, django_assert_num_queries
    ):
        client = logged_in(alice)
        url = playlists["road"].get_absolute_url()
        client.get(url)
        # Session, playlist, totals (an empty page reads no entries), then the search: ids, then rows; on
        # PostgreSQL the catalogue's words first.
        with django_assert_num_queries(6 if connection.vendor == "postgresql" else 5):
            client.get(url, {"find": "alpha"})

    @pytest.mark.parametrize(("entries", "offered"), [(19, False), (20, True)])
    def test_a_long_playlist_offers_a_filter(self, client, song, entries, offered):
        playlist = make_playlist(make_user("dana"), name="Long", songs=[song] * entries, is_public=True)
        html = text(client.get(playlist.get_absolute_url()))
        field = (
            '<p class="playlist-filter" hidden><label for="playlist-filter">Filter these songs</label> '
            '<input id="playlist-filter" type="search" autocomplete="off" data-filter-rows aria-controls="playlist-songs" '
            'data-filter-status="playlist-filter-status"> <span id="playlist-filter-status" role="status"></span></p>'
        )
        assert (field in html) is offered
        assert '<div class="table-wrap" id="playlist-songs">' in html
