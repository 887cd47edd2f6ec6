"""The player's lyrics panel in a real headless Chromium: synced lyrics follow the song and seek on a click,
plain lyrics show as typed, a song without lyrics says so. Real MP3s, the live server, no sleeps.
Skipped without Chromium, except under CI=true, where that is a failure."""

import pytest

from .browser import WAIT_MS, finish, log_in, playable_songs, shot, watch
from .factories import make_user

SYNCED = [[0, "Morning breaks the quiet"], [1000, "Over <hills> & rooftops"], [2000, "Every window opens"],
          [3500, "Somebody starts to sing"], [4800, "And the day begins"]]
PLAIN = "First line of the song\n  indented, with <b>markup</b> & ampersands\n\nAfter a blank line"


@pytest.fixture
def browser(chromium):
    return chromium  # the player's Chromium (conftest.py)


@pytest.fixture
def songs(transactional_db, tmp_path):
    synced, plain, silent = playable_songs(tmp_path, ["Sunrise", "Letters", "Quiet Room"], seconds=6)
    synced.synced_lyrics = SYNCED
    synced.lyrics = "\n".join(text for _, text in SYNCED)
    synced.save(update_fields=["synced_lyrics", "lyrics"])
    plain.lyrics = PLAIN
    plain.save(update_fields=["lyrics"])
    make_user("lyra")
    return synced, plain, silent


@pytest.fixture
def page(browser, live_server, songs):
    # Narrow and short: the 375 px layout, and a panel short enough that the lines must scroll in it.
    # Reduced motion: the panel scrolls at once, so where it is can be asserted without waiting for an animation.
    page = browser.new_page(viewport={"width": 375, "height": 640}, reduced_motion="reduce")
    page.errors = watch(page)
    log_in(page, live_server.url, "lyra", next_path=songs[0].album.get_absolute_url())
    yield page
    finish(page)


def panel_state(page):
    """What the panel shows, read at one instant."""
    return page.evaluate("""() => {
        const root = document.querySelector('[data-lyrics-root]');
        const lines = [...root.querySelectorAll('.lyrics-line')];
        return {
            title: root.querySelector('.lyrics-title')?.textContent ?? null,
            artist: root.querySelector('.lyrics-artist')?.textContent ?? null,
            status: root.querySelector('.lyrics-status')?.textContent ?? null,
            plain: root.querySelector('.lyrics-plain')?.textContent ?? null,
            lines: lines.map(line => line.textContent),
            ms: lines.map(line => Number(line.dataset.ms)),
            current: lines.map(line => line.getAttribute('aria-current')),
            marked: lines.map(line => line.classList.contains('is-current')),
            heights: lines.map(line => line.getBoundingClientRect().height),
            time: window.syroPlayer.currentTime,
            playing: window.syroPlayer.playing,
        };
    }""")


def line_for(ms, times):
    """The index of the last line starting at or before ms."""
    return max(at for at, start in enumerate(times) if start <= ms)


def wait(page, predicate, arg=None):
    page.wait_for_function(predicate, arg=arg, timeout=WAIT_MS)


def until(page, condition):
    """Waits for something on this side (a route handler ran): page.wait_for_timeout lets Playwright deliver it."""
    for _ in range(WAIT_MS // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("timed out")


def current_is(page, at):
    wait(page, """at => document.querySelectorAll('[data-lyrics-root] .lyrics-line')[at]
                   ?.getAttribute('aria-current') === 'true'""", at)


def test_the_lyrics_panel_follows_synced_lyrics_seeks_on_a_click_and_shows_plain_or_none(page, songs):
    synced, plain, silent = songs
    # The second song's details are held until the test lets them go (further down). The route is set here, long
    # before that song is asked for: Chromium can let through a request made just after a route is first added.
    held = []
    page.route(f"**/player/tracks/{plain.pk}/", lambda route: held.append(route))
    page.keyboard.press("m")  # mute (at 375 px the bar leaves the volume to the phone's own buttons)
    page.get_by_role("button", name="Lyrics", exact=True).click()
    panel = page.locator("#player-lyrics")
    assert panel.is_visible()
    assert page.locator("[data-lyrics-root]").inner_text() == "Nothing playing."

    # Play the album from its first row: the synced lines appear, under the song's title and artist.
    page.locator(f'[data-play-song="{synced.pk}"]').click()
    wait(page, "() => document.querySelectorAll('[data-lyrics-root] .lyrics-line').length === 5")
    state = panel_state(page)
    assert (state["title"], state["artist"]) == ("Sunrise", synced.artist.name)
    assert state["lines"] == [text for _, text in SYNCED]
    assert state["ms"] == [ms for ms, _ in SYNCED]
    assert all(height >= 44 for height in state["heights"]), state["heights"]

    # The marked line follows currentTime: wait for the third, then pause, so the time stands still (and the
    # song cannot end and move on by itself while a slow machine runs the steps below).
    current_is(page, 2)
    page.evaluate("() => window.syroPlayer.pause()")
    wait(page, "() => !window.syroPlayer.playing")
    state = panel_state(page)
    at = line_for(state["time"] * 1000, state["ms"])
    assert at >= 2
    assert state["current"] == ["true" if line == at else None for line in range(5)]
    assert state["marked"] == [line == at for line in range(5)]

    # A click on a line seeks there, and that line becomes the current one; the panel, not the page, scrolls.
    scroll_before = page.evaluate("() => window.scrollY")
    page.get_by_role("button", name="And the day begins").click()
    wait(page, "() => Math.abs(window.syroPlayer.currentTime - 4.8) < 0.3")
    current_is(page, 4)
    state = panel_state(page)
    assert state["current"] == [None, None, None, None, "true"]
    geometry = page.evaluate("""() => {
        const root = document.querySelector('[data-lyrics-root]');
        const box = root.getBoundingClientRect();
        const line = root.querySelectorAll('.lyrics-line')[4].getBoundingClientRect();
        return {scrollTop: root.scrollTop, overflows: root.scrollHeight > root.clientHeight,
                inView: line.top >= box.top && line.bottom <= box.bottom, pageY: window.scrollY};
    }""")
    assert geometry["overflows"], "the panel is too tall to show that it scrolls"
    assert geometry["scrollTop"] > 0 and geometry["inView"], geometry
    assert geometry["pageY"] == scroll_before
    # Back to an earlier line by the keyboard: Enter on it.
    page.get_by_role("button", name="Over <hills> & rooftops").focus()
    page.keyboard.press("Enter")
    wait(page, "() => Math.abs(window.syroPlayer.currentTime - 1.0) < 0.3")
    current_is(page, 1)
    assert panel_state(page)["current"] == [None, "true", None, None, None]
    # Paused: on a slow machine the short song could otherwise end during the screenshots and move on to the
    # next by itself, fetching its details before the test holds them.
    page.evaluate("() => window.syroPlayer.pause()")
    shot(page, "player-lyrics", full_page=False)
    page.emulate_media(color_scheme="dark")
    shot(page, "player-lyrics-dark", full_page=False)
    page.emulate_media(color_scheme="light")

    # The next song has plain lyrics: "Loading" until its details come (held here), then the text as typed.
    assert held == []
    page.keyboard.press("Shift+ArrowRight")  # the shortcut for "next"
    wait(page, "() => document.querySelector('[data-lyrics-root] .lyrics-status')?.textContent === 'Loading lyrics…'")
    state = panel_state(page)
    assert (state["title"], state["lines"], state["plain"]) == ("Letters", [], None)
    until(page, lambda: held)
    held[0].continue_()
    wait(page, "() => document.querySelector('[data-lyrics-root] .lyrics-plain') !== null")
    # Paused, so the song cannot end and move on by itself while a slow machine checks it.
    page.evaluate("() => window.syroPlayer.pause()")
    state = panel_state(page)
    assert (state["title"], state["artist"], state["plain"], state["status"]) == (
        "Letters", plain.artist.name, PLAIN, None,
    )
    assert page.locator(".lyrics-plain").inner_text() == PLAIN  # the line breaks and spaces, kept on screen
    assert page.locator("[data-lyrics-root] b").count() == 0  # text, never markup

    # The last one has none.
    page.keyboard.press("Shift+ArrowRight")  # the shortcut for "next"
    wait(page, "() => document.querySelector('[data-lyrics-root] .lyrics-title')?.textContent === 'Quiet Room'")
    wait(page, "() => window.syroPlayer.details !== null")
    state = panel_state(page)
    assert (state["status"], state["lines"], state["plain"]) == ("No lyrics for Quiet Room.", [], None)

    # Closed, the panel does no work; opened again, it shows what plays then.
    page.get_by_role("button", name="Close the lyrics").click()
    assert not panel.is_visible()
    page.locator(f'[data-play-song="{synced.pk}"]').click()
    wait(page, f"() => window.syroPlayer.details?.id === {synced.pk} && window.syroPlayer.currentTime > 0.2")
    assert panel_state(page)["status"] == "No lyrics for Quiet Room."
    page.get_by_role("button", name="Lyrics", exact=True).click()
    wait(page, "() => document.querySelector('[data-lyrics-root] [aria-current=\"true\"]') !== null")
    state = panel_state(page)
    assert state["title"] == "Sunrise" and state["lines"] == [text for _, text in SYNCED]
    assert state["current"].count("true") == 1

    assert page.errors == []
