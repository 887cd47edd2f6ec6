"""List pages kept for every logged-in listener, with each one's own parts put in (SyroMusic.web.page_cache):
their name, their CSRF token and their messages, never another's."""

import re
from http import HTTPStatus

import pytest
from django.test import Client

from .factories import make_song, make_user, seed_catalogue, text

LIST_PAGES = ["/music/songs/", "/music/albums/?sort=newest", "/music/artists/"]


def listener(name):
    user = make_user(name)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return user, client


def without_tokens(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


@pytest.mark.django_db
@pytest.mark.parametrize("url", LIST_PAGES)
def test_a_second_listener_gets_the_kept_page_with_their_own_parts(url, django_assert_num_queries):
    seed_catalogue()
    alice, alices = listener("alice")
    bob, bobs = listener("bob")
    first = text(alices.get(url))
    with django_assert_num_queries(1):  # who bob is; the page itself is kept
        response = bobs.get(url)
    page = text(response)
    assert response.status_code == HTTPStatus.OK
    assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]
    assert f'data-listener="{bob.pk}"' in page and 'href="/music/users/bob/"' in page
    assert "alice" not in page and f'data-listener="{alice.pk}"' not in page
    # Apart from who is asking, the very page alice got.
    as_alice = re.sub(r"\bbob\b", "alice", without_tokens(page)).replace(f'data-listener="{bob.pk}"', f'data-listener="{alice.pk}"')
    assert as_alice == without_tokens(first)


@pytest.mark.django_db
def test_the_kept_pages_token_is_the_listeners_own_and_logs_them_out():
    make_song("Blue")
    listener("alice")[1].get("/music/songs/")
    _, bobs = listener("bob")
    page = text(bobs.get("/music/songs/"))
    token = re.search(r'action="/accounts/logout/" data-logout><input type="hidden" name="csrfmiddlewaretoken" '
                      r'value="([^"]+)"', page).group(1)
    assert bobs.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND
    assert "Log in" in text(bobs.get("/music/songs/"))


@pytest.mark.django_db
def test_a_listeners_message_shows_once_on_a_kept_page_and_to_nobody_else():
    make_song("Blue")
    listener("alice")[1].get("/music/songs/")
    bobs = Client()
    bobs.force_login(make_user("bob"))
    bobs.post("/music/playlists/new/", {"name": "Blue mornings"})  # leaves a message for the next page
    assert "Playlist “Blue mornings” created." in text(bobs.get("/music/songs/"))
    assert "Playlist “Blue mornings” created." not in text(bobs.get("/music/songs/"))
    assert "Blue mornings" not in text(listener("carol")[1].get("/music/songs/"))


@pytest.mark.django_db(transaction=True)  # versions are bumped when a write commits
def test_a_catalogue_change_shows_to_listeners_on_the_next_request():
    song = make_song("Before")
    _, alices = listener("alice")
    assert "Before" in text(alices.get("/music/songs/"))
    song.title = "After"
    song.save()
    assert "After" in text(listener("bob")[1].get("/music/songs/"))


@pytest.mark.django_db
def test_a_page_with_a_form_of_the_listeners_own_is_never_kept_for_others(django_assert_num_queries):
    song = make_song("Blue")
    _, alices = listener("alice")
    alices.get(song.get_absolute_url())  # a song page: its heart is alice's, so no listener copy is kept
    _, bobs = listener("bob")
    page = text(bobs.get(song.get_absolute_url()))
    assert "alice" not in page
