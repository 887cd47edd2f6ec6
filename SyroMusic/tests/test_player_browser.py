"""The player in a real headless Chromium (Debian's), with real audio files the app streams itself (the live
server): play from a row, keep playing while the listener clicks through the site and goes back, next and
previous, shuffle and repeat, like, resume after a reload, the keyboard, and pages that still load in full."""

import re

import pytest
from playwright.sync_api import expect

from SyroMusic.models import Like

from . import browser
from .browser import wait_for_page
from .factories import make_user

WAIT = browser.WAIT_MS
TITLES = ["Alpha Tide", "Bravo Hill", "Charlie Run", "Delta Glow"]


@pytest.fixture
def songs(transactional_db, tmp_path):
    # Long enough that no song ends by itself while a test clicks through pages on a busy machine.
    return browser.playable_songs(tmp_path, TITLES, seconds=30)


@pytest.fixture
def page(chromium, live_server, songs):
    make_user("dana")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.errors = browser.watch(opened)
    browser.log_in(opened, live_server.url, "dana", next_path="/music/songs/")
    yield opened
    errors = opened.errors
    browser.finish(opened)
    assert errors == []


def player_state(page):
    return page.evaluate(
        """() => { const p = window.syroPlayer; return {
            title: p.track && p.track.title, playing: p.playing, index: p.queue.index,
            titles: p.queue.tracks.map(t => t.title), shuffle: p.shuffle, repeat: p.repeat,
        }; }"""
    )


def wait_playing(page, title, beyond=0.3):
    page.wait_for_function(
        """([title, beyond]) => { const p = window.syroPlayer;
            return p && p.track && p.track.title === title && p.playing && p.currentTime > beyond; }""",
        arg=[title, beyond], timeout=WAIT,
    )


def quiet(page):
    # Tests play in silence; volume 0 keeps the audio graph running (muted would too, but say so plainly).
    page.evaluate("() => window.syroPlayer.elements.forEach(element => { element.volume = 0.0001; })")


def play_row(page, title):
    page.get_by_role("button", name=f"Play {title}", exact=True).click()
    wait_playing(page, title)
    quiet(page)


def test_a_row_plays_and_the_music_goes_on_across_three_pages_and_back(page, live_server):
    play_row(page, "Bravo Hill")
    assert player_state(page)["titles"] == TITLES  # the row's table is the queue, from the row clicked
    assert page.locator("#player [data-player=title]").inner_text() == "Bravo Hill"
    # Watch the element: the same object keeps playing, and its time never goes back to the start.
    page.evaluate(
        """() => { window.firstAudio = window.syroPlayer.audio; window.wentBack = false; window.lastTime = 0;
            window.firstAudio.addEventListener('timeupdate', () => {
                const now = window.firstAudio.currentTime;
                if (now + 0.05 < window.lastTime) window.wentBack = true;
                window.lastTime = now;
            }); }"""
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Albums").click()
    wait_for_page(page, "**/music/albums/")
    page.get_by_role("link", name="Test Pressing").first.click()
    wait_for_page(page, re.compile(r"/music/albums/\d+/$"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Artists").click()
    wait_for_page(page, "**/music/artists/")
    assert page.title().startswith("Artists")
    page.go_back()
    wait_for_page(page, re.compile(r"/music/albums/\d+/$"))
    page.wait_for_function("() => document.querySelector('h1') && document.querySelector('h1').textContent.includes('Test Pressing')", timeout=WAIT)
    page.go_back()
    wait_for_page(page, "**/music/albums/")
    time_then = page.evaluate("() => window.firstAudio.currentTime")
    page.wait_for_function("t => window.syroPlayer.audio.currentTime > t + 0.2", arg=time_then, timeout=WAIT)
    assert page.evaluate("() => window.syroPlayer.audio === window.firstAudio && window.wentBack === false")
    assert player_state(page)["title"] == "Bravo Hill"
    # The rows of the new page know what plays: the album's row of that song is marked.
    page.get_by_role("link", name="Test Pressing").first.click()
    wait_for_page(page, re.compile(r"/music/albums/\d+/$"))
    page.wait_for_selector("tr.now-playing", timeout=WAIT)
    assert page.locator("tr.now-playing").count() == 1
    assert "Bravo Hill" in page.locator("tr.now-playing").inner_text()


def test_next_previous_and_the_end_of_the_queue(page):
    play_row(page, "Charlie Run")
    page.get_by_role("button", name="Next", exact=True).click()
    wait_playing(page, "Delta Glow", beyond=0)
    # The live region is emptied, then filled on the next animation frame: wait for the words.
    expect(page.locator("[data-player=announce]")).to_have_text(
        "Now playing: Delta Glow by " + page.locator("#player [data-player=artist]").inner_text(), timeout=WAIT
    )
    page.get_by_role("button", name="Previous", exact=True).click()
    wait_playing(page, "Charlie Run", beyond=0)
    # Past three seconds, "previous" starts the song again instead.
    page.evaluate("() => window.syroPlayer.seek(4)")
    page.wait_for_function("() => window.syroPlayer.currentTime >= 4", timeout=WAIT)
    page.get_by_role("button", name="Previous", exact=True).click()
    page.wait_for_function("() => window.syroPlayer.currentTime < 2 && window.syroPlayer.track.title === 'Charlie Run'", timeout=WAIT)
    # The last song ends: the queue stops (repeat is off).
    page.evaluate("() => window.syroPlayer.playAt(3)")
    wait_playing(page, "Delta Glow", beyond=0)
    page.evaluate("() => window.syroPlayer.seek(window.syroPlayer.duration - 0.5)")
    page.wait_for_function("() => !window.syroPlayer.playing && window.syroPlayer.track.title === 'Delta Glow'", timeout=WAIT)
    assert page.get_by_role("button", name="Next", exact=True).is_disabled()


def test_the_next_song_is_loaded_before_this_one_ends_and_follows_without_a_request_gap(page):
    play_row(page, "Alpha Tide")
    page.wait_for_function(
        """() => window.syroPlayer.elements.some(e => e !== window.syroPlayer.audio && e.src.includes('/audio/')
                && e.readyState >= 3)""",
        timeout=WAIT,
    )
    standby = page.evaluate("() => window.syroPlayer.elements.find(e => e !== window.syroPlayer.audio).src")
    page.evaluate("() => window.syroPlayer.seek(window.syroPlayer.duration - 0.4)")
    wait_playing(page, "Bravo Hill", beyond=0)
    assert page.evaluate("() => window.syroPlayer.audio.src") == standby


def test_repeat_one_all_and_off_and_shuffle(page):
    play_row(page, "Delta Glow")
    repeat = page.locator("#player [data-player=repeat]")
    repeat.click()
    assert repeat.get_attribute("aria-label") == "Repeat: all"
    page.evaluate("() => window.syroPlayer.seek(window.syroPlayer.duration - 0.4)")
    wait_playing(page, "Alpha Tide", beyond=0)  # all: the end wraps to the start
    repeat.click()
    assert repeat.get_attribute("aria-label") == "Repeat: one"
    page.evaluate("() => { window.restarted = false; window.syroPlayer.seek(window.syroPlayer.duration - 0.4); }")
    page.wait_for_function(
        "() => window.syroPlayer.track.title === 'Alpha Tide' && window.syroPlayer.playing && window.syroPlayer.currentTime < 1",
        timeout=WAIT,
    )
    repeat.click()
    assert repeat.get_attribute("aria-label") == "Repeat: off"

    shuffle = page.get_by_role("button", name="Shuffle", exact=True)
    shuffle.click()
    state = player_state(page)
    assert shuffle.get_attribute("aria-pressed") == "true" and state["shuffle"]
    assert state["titles"][0] == "Alpha Tide" and sorted(state["titles"]) == sorted(TITLES)
    shuffle.click()
    state = player_state(page)
    assert state["titles"] == TITLES and state["title"] == "Alpha Tide" and state["index"] == 0


def test_play_and_shuffle_on_an_album_page(page, live_server, songs):
    page.goto(f"{live_server.url}{songs[0].album.get_absolute_url()}")
    page.locator("#page .play-actions").get_by_role("button", name="Shuffle", exact=True).click()
    page.wait_for_function("() => window.syroPlayer && window.syroPlayer.playing", timeout=WAIT)
    state = player_state(page)
    assert state["shuffle"] and sorted(state["titles"]) == sorted(TITLES) and state["index"] == 0
    page.locator("#page .play-actions").get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => !window.syroPlayer.shuffle", timeout=WAIT)
    wait_playing(page, "Alpha Tide", beyond=0)
    state = player_state(page)
    assert not state["shuffle"] and state["titles"] == TITLES


def test_play_next_and_add_to_queue_from_a_row_menu(page):
    play_row(page, "Alpha Tide")
    page.evaluate("() => window.syroPlayer.remove(3)")
    row = page.locator("tr", has_text="Delta Glow")
    row.get_by_label("More for Delta Glow").click()
    row.get_by_role("button", name="Play next").click()
    page.wait_for_function("() => window.syroPlayer.queue.tracks.length === 4", timeout=WAIT)
    assert player_state(page)["titles"] == ["Alpha Tide", "Delta Glow", "Bravo Hill", "Charlie Run"]
    row = page.locator("tr", has_text="Bravo Hill")
    row.get_by_label("More for Bravo Hill").click()
    row.get_by_role("button", name="Add to queue").click()
    page.wait_for_function("() => window.syroPlayer.queue.tracks.length === 5", timeout=WAIT)
    assert player_state(page)["titles"][-1] == "Bravo Hill"
    expect(page.locator("[data-player=announce]")).to_have_text("“Bravo Hill” added to the queue.", timeout=WAIT)


def test_like_and_unlike_the_song_playing(page, songs):
    play_row(page, "Charlie Run")
    heart = page.locator("#player [data-player=like]")
    page.wait_for_function("() => window.syroPlayer.details !== null", timeout=WAIT)
    assert heart.get_attribute("aria-label") == "Like Charlie Run" and heart.get_attribute("aria-pressed") == "false"
    heart.click()
    page.wait_for_function("() => document.querySelector('#player [data-player=like]').getAttribute('aria-pressed') === 'true'", timeout=WAIT)
    assert heart.get_attribute("aria-label") == "Unlike Charlie Run"
    assert list(Like.objects.filter(user__username="dana").values_list("song__title", flat=True)) == ["Charlie Run"]
    heart.click()
    page.wait_for_function("() => document.querySelector('#player [data-player=like]').getAttribute('aria-pressed') === 'false'", timeout=WAIT)
    assert not Like.objects.filter(user__username="dana").exists()


def test_the_queue_the_song_and_its_place_survive_a_reload(page):
    play_row(page, "Bravo Hill")
    page.evaluate("() => window.syroPlayer.seek(3)")
    page.wait_for_function("() => window.syroPlayer.currentTime >= 3", timeout=WAIT)
    paused_at = page.evaluate(
        "() => new Promise(done => { const a = window.syroPlayer.audio;"
        " a.addEventListener('pause', () => done(a.currentTime), {once: true}); window.syroPlayer.pause(); })"
    )
    page.get_by_role("button", name="Minimize the player").click()
    page.reload()
    page.wait_for_function(
        "() => window.syroPlayer && window.syroPlayer.track && window.syroPlayer.audio.readyState >= 1", timeout=WAIT
    )
    state = player_state(page)
    assert state["title"] == "Bravo Hill" and state["titles"] == TITLES and not state["playing"]
    assert page.evaluate("() => window.syroPlayer.currentTime") == pytest.approx(paused_at, abs=0.3)
    assert page.locator("#player").get_attribute("data-minimized") == "true"
    page.get_by_role("button", name="Expand the player").click()
    assert page.locator("#player").get_attribute("data-minimized") == "false"


def test_keyboard_shortcuts_and_their_help(page):
    play_row(page, "Alpha Tide")
    page.locator("main h1").click()
    page.keyboard.press("Space")
    page.wait_for_function("() => !window.syroPlayer.playing", timeout=WAIT)
    page.keyboard.press("Space")
    page.wait_for_function("() => window.syroPlayer.playing", timeout=WAIT)
    page.keyboard.press("Shift+ArrowRight")
    wait_playing(page, "Bravo Hill", beyond=0)
    page.keyboard.press("m")
    assert page.evaluate("() => window.syroPlayer.audio.muted")
    page.keyboard.press("m")
    assert not page.evaluate("() => window.syroPlayer.audio.muted")
    # Typing in the search box types.
    page.locator("#site-search-q").fill("")
    page.locator("#site-search-q").press("Space")
    assert page.evaluate("() => window.syroPlayer.playing")
    page.locator("main h1").click()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    assert dialog.is_visible()
    assert "Previous or next song" in dialog.inner_text()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()


def test_media_session_knows_the_song_and_its_actions_drive_the_player(page):
    play_row(page, "Alpha Tide")
    metadata = page.evaluate(
        "() => { const m = navigator.mediaSession.metadata; return {title: m.title, artist: m.artist, album: m.album}; }"
    )
    assert metadata["title"] == "Alpha Tide" and metadata["album"] == "Test Pressing"
    assert page.evaluate("() => navigator.mediaSession.playbackState") == "playing"


def test_links_and_forms_go_through_htmx_with_their_token_while_the_music_plays(page, live_server, songs):
    play_row(page, "Alpha Tide")
    page.evaluate("() => { window.sameDocument = true; }")
    # The bar's own link (to the song's page), then a form on that page (like: a POST and a redirect).
    page.locator("#player [data-player=title]").click()
    wait_for_page(page, f"{live_server.url}{songs[0].get_absolute_url()}")
    assert page.locator("h1").inner_text().startswith("Alpha Tide")
    page.locator("#page form.like-form button").first.click()
    page.wait_for_function("() => document.querySelector('#page .like-form [aria-pressed=true]')", timeout=WAIT)
    assert Like.objects.filter(user__username="dana", song=songs[0]).exists()
    assert page.evaluate("() => window.sameDocument === true && window.syroPlayer.playing")
    assert player_state(page)["title"] == "Alpha Tide"


def test_the_admin_and_the_api_docs_load_as_whole_pages(page, live_server):
    page.evaluate("() => { window.sameDocument = true; }")
    page.get_by_role("link", name="Staff").click()
    wait_for_page(page, re.compile(r"/admin/"))
    page.wait_for_load_state()
    assert page.evaluate("() => window.sameDocument === undefined")


def test_chromium_streams_by_ranges_that_the_app_answers_exactly(page, songs):
    answers = []
    page.on("response", lambda response: "/audio/" in response.url and answers.append(
        (response.status, response.request.headers.get("range"), response.headers.get("content-range"))))
    play_row(page, "Alpha Tide")
    page.evaluate("() => window.syroPlayer.seek(3)")
    page.wait_for_function("() => window.syroPlayer.currentTime > 3.2", timeout=WAIT)
    assert answers, "Chromium fetched no audio"
    sizes = {song.audio.size for song in songs}
    for status, asked, answered in answers:
        assert status == 206 and re.fullmatch(r"bytes=\d+-\d*", asked), answers
        first = int(asked[6:].split("-")[0])
        match = re.fullmatch(rf"bytes {first}-(\d+)/(\d+)", answered)
        assert match and int(match[2]) in sizes, answers


def test_logging_out_stops_the_music_and_forgets_the_queue_in_this_browser(page, live_server):
    play_row(page, "Alpha Tide")
    page.wait_for_function("() => Object.keys(localStorage).some(key => key.startsWith('syro:player:') && key !== 'syro:player:anonymous')", timeout=WAIT)
    page.get_by_role("button", name="Log out").click()
    wait_for_page(page, f"{live_server.url}/")
    page.wait_for_function("() => !window.syroPlayer.playing && window.syroPlayer.queue.tracks.length === 0", timeout=WAIT)
    keys = page.evaluate("() => Object.keys(localStorage).filter(key => key.startsWith('syro:player:'))")
    assert keys == []
    assert page.locator("#player").is_hidden()  # anonymous visitors may not listen here (STREAM_ANONYMOUS off)


def test_without_javascript_there_is_no_player_and_the_album_plays_in_its_own_controls(chromium, live_server, songs):
    make_user("erin")
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/?next={songs[0].album.get_absolute_url()}")
        page.fill("#id_username", "erin")
        page.fill("#id_password", browser.PASSWORD)
        page.locator("main").get_by_role("button", name="Log in").click()
        page.wait_for_url(f"**{songs[0].album.get_absolute_url()}")
        assert page.locator("#player").is_hidden()
        assert page.locator("audio[controls]").count() == len(TITLES)
        assert page.get_by_role("button", name="Play Alpha Tide").is_hidden()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Songs").click()
        page.wait_for_url("**/music/songs/")
        assert page.locator("h1").inner_text() == "Songs"
    finally:
        context.close()
        browser.server_idle()


def test_a_song_whose_file_is_gone_is_skipped_for_the_next(page, songs):
    import os

    os.remove(songs[1].audio.path)  # Bravo Hill's file: its stream is now a 404
    play_row(page, "Alpha Tide")
    page.evaluate(
        """() => { const region = document.querySelector('[data-player=announce]'); window.said = [];
            new MutationObserver(() => window.said.push(region.textContent))
                .observe(region, {childList: true, characterData: true, subtree: true}); }"""
    )
    page.evaluate("() => window.syroPlayer.seek(window.syroPlayer.duration - 0.4)")
    wait_playing(page, "Charlie Run", beyond=0)
    assert player_state(page)["index"] == 2 and player_state(page)["titles"] == TITLES
    said = page.evaluate("() => window.said.filter(Boolean)")
    assert "“Bravo Hill” cannot be played; skipping it." in said, said
    # The browser reports the failed file as a console error: that is the test's doing, not the page's.
    page.errors[:] = [error for error in page.errors if "404" not in error]


def test_a_session_that_ends_without_log_out_leaves_no_queue_behind(page, live_server):
    play_row(page, "Alpha Tide")
    page.evaluate("() => window.syroPlayer.pause()")
    page.wait_for_function("() => localStorage.getItem('syro:player-listener')", timeout=WAIT)
    page.context.clear_cookies()  # the session expired, or ended in another browser tab
    page.goto(f"{live_server.url}/music/songs/")
    keys = page.evaluate("() => Object.keys(localStorage).filter(key => key.startsWith('syro:player'))")
    assert keys == ["syro:player-settings"] or keys == []


def test_a_visitor_who_may_not_listen_is_sent_to_log_in_by_a_play_button(chromium, live_server, songs):
    context = chromium.new_context()
    visitor = context.new_page()
    try:
        visitor.goto(f"{live_server.url}/music/songs/")
        assert visitor.locator("#player").is_hidden()
        visitor.get_by_role("button", name="Play Bravo Hill", exact=True).click()
        visitor.wait_for_url("**/accounts/login/?next=/music/songs/", timeout=WAIT)
    finally:
        context.close()
        browser.server_idle()
