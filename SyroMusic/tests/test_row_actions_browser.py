"""Rows you can act on, in headless Chromium: from a song row's menu a listener adds the song to a playlist
(again: said, not added), makes a new playlist with it and likes it, while the song plays on and the page
stays (its address and a mark set on it); an empty playlist finds songs and adds them; a long one filters its
rows by text. Real MP3s, generated at test time."""

import pytest

from SyroMusic.models import Like, PlaylistEntry

from .browser import WAIT_MS, finish, log_in, playable_songs, server_answered, server_idle, shot, wait_for_page, watch
from .factories import make_playlist, make_user

TITLES = ["Alpha Tide", "Birch Road", "Cedar Smoke"]


@pytest.fixture
def songs(transactional_db, tmp_path):
    return playable_songs(tmp_path, TITLES, seconds=20, sample_rate=8000, channels=1)


@pytest.fixture
def page(chromium, live_server, transactional_db):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.errors = watch(opened)
    yield opened
    finish(opened)


def test_a_listener_adds_to_playlists_and_likes_from_a_row_without_leaving_the_page(page, live_server, songs):
    from playwright.sync_api import expect

    dana = make_user("dana")
    alpha = songs[0]
    road = make_playlist(dana, name="Road trip")
    log_in(page, live_server.url, "dana", next_path="/music/songs/")
    page.locator("#player").get_by_role("button", name="Mute").click()
    page.get_by_role("button", name="Play Alpha Tide").click()
    page.wait_for_function("() => syroPlayer.playing && syroPlayer.currentTime > 0.1", timeout=WAIT_MS)
    # A mark on the page's content: a page load or htmx's swap of #page would drop it.
    page.evaluate("() => { document.getElementById('content').dataset.mark = 'kept'; }")

    row = page.locator(f"tr[data-song-id='{alpha.pk}']")
    row.get_by_label("More for Alpha Tide").click()
    status = row.locator(".row-menu-status")
    row.get_by_role("button", name="Add Alpha Tide to Road trip").click()
    expect(status).to_have_text("Added “Alpha Tide” to Road trip.", timeout=WAIT_MS)
    # The pressed button was replaced by the fresh menu's: focus moved to its successor, not to the page.
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == (
        "Add Alpha Tide to Road trip (already in it)"
    )
    server_answered(lambda: PlaylistEntry.objects.filter(playlist=road, song=alpha).count() == 1)
    # Its button now says the playlist holds it; a second click is said, not added.
    row.get_by_role("button", name="Add Alpha Tide to Road trip (already in it)").click()
    expect(status).to_have_text("“Alpha Tide” is already in Road trip.", timeout=WAIT_MS)
    shot(page, "row-actions-menu", full_page=False)

    row.get_by_label("New playlist…").fill("Night drive")
    row.get_by_role("button", name="Create a playlist with Alpha Tide").click()
    expect(status).to_have_text("Created Night drive with “Alpha Tide” in it.", timeout=WAIT_MS)
    expect(row.get_by_role("button", name="Add Alpha Tide to Night drive (already in it)")).to_be_visible(timeout=WAIT_MS)

    row.get_by_role("button", name="Like Alpha Tide").click()
    unlike = row.get_by_role("button", name="Unlike Alpha Tide")
    expect(unlike).to_be_visible(timeout=WAIT_MS)
    expect(status).to_have_text("Liked “Alpha Tide”.", timeout=WAIT_MS)
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Unlike Alpha Tide"
    server_answered(lambda: Like.objects.filter(user=dana, song=alpha).exists())

    # Escape closes the menu and gives focus back to its button.
    page.keyboard.press("Escape")
    expect(row.locator("details.row-menu")).not_to_have_attribute("open", "", timeout=WAIT_MS)
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "More for Alpha Tide"

    assert page.url == f"{live_server.url}/music/songs/"
    assert page.evaluate("() => document.getElementById('content').dataset.mark") == "kept"
    # Still playing the list it started (a slow machine may have moved on to the next song of it).
    assert page.evaluate("() => [syroPlayer.playing, syroPlayer.queue.tracks.map(track => track.title)]") == [True, TITLES]
    # Read while the live server answers nothing: the playing page keeps writing (the queue, its listens).
    server_answered(lambda: list(
        PlaylistEntry.objects.filter(playlist__owner=dana, playlist__name="Night drive").values_list("song", flat=True)
    ) == [alpha.pk])
    # The one answer that is not a success: the second add's, which the browser notes in its console.
    assert page.errors == ["Failed to load resource: the server responded with a status of 409 (Conflict)"]


def test_an_empty_playlist_finds_songs_to_add_and_a_long_one_filters_its_rows(page, live_server, songs):
    from playwright.sync_api import expect

    dana = make_user("dana")
    birch = songs[1]
    fresh = make_playlist(dana, name="Fresh")
    log_in(page, live_server.url, "dana", next_path=fresh.get_absolute_url())
    page.get_by_label("Search songs").fill("birch")
    page.get_by_label("Search songs").press("Enter")
    page.get_by_role("button", name="Add Birch Road to Fresh").click()
    expect(page.locator("#playlist-songs tbody tr[data-song-id]")).to_have_count(1, timeout=WAIT_MS)
    wait_for_page(page, f"{live_server.url}{fresh.get_absolute_url()}?find=birch")
    expect(page.locator(".messages")).to_have_text("Added “Birch Road” to Fresh.")
    assert list(fresh.entries.values_list("song", flat=True)) == [birch.pk]
    # The search stays, to add more.
    expect(page.get_by_role("button", name="Add Birch Road to Fresh")).to_be_visible()

    long = make_playlist(dana, name="Long", songs=[songs[number % 3] for number in range(24)])
    page.goto(f"{live_server.url}{long.get_absolute_url()}")
    rows = page.locator("#playlist-songs tbody tr[data-song-id]")
    expect(rows).to_have_count(24)
    field = page.get_by_label("Filter these songs")
    field.fill("cedar smo")
    expect(page.locator("#playlist-filter-status")).to_have_text("8 of 24 songs shown.", timeout=WAIT_MS)
    shown = rows.locator("visible=true").all_inner_texts()
    assert len(shown) == 8 and all("Cedar Smoke" in text for text in shown)
    shot(page, "row-actions-filter", full_page=False)
    # Only the title, artist and album are matched: not the words of each row's menu.
    field.fill("like")
    expect(page.locator("#playlist-filter-status")).to_have_text("0 of 24 songs shown.", timeout=WAIT_MS)
    field.fill("")
    expect(page.locator("#playlist-songs tbody tr[data-song-id]:visible")).to_have_count(24, timeout=WAIT_MS)
    assert page.errors == []


def test_without_javascript_the_menu_leads_to_a_page_that_adds_and_comes_back(chromium, live_server, songs):
    from playwright.sync_api import expect

    dana = make_user("dana")
    road = make_playlist(dana, name="Road trip")
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, live_server.url, "dana", next_path="/music/songs/")
        row = page.locator(f"tr[data-song-id='{songs[0].pk}']")
        row.get_by_label("More for Alpha Tide").click()
        expect(row.get_by_role("button", name="Play next")).to_be_hidden()  # the player's, which needs a script
        row.get_by_role("link", name="Add Alpha Tide to a playlist").click()
        page.get_by_role("button", name="Add Alpha Tide to Road trip").click()
        page.wait_for_url(f"{live_server.url}/music/songs/", timeout=WAIT_MS)
        expect(page.locator(".messages")).to_have_text("Added “Alpha Tide” to Road trip.")
        assert list(road.entries.values_list("song", flat=True)) == [songs[0].pk]
    finally:
        context.close()
        server_idle()
