"""The player's accessibility and looks in a real headless Chromium: axe-core finds no serious or critical
violation in any of its states, light or dark, wide or phone-sized; at 375 px every control is a 44 px target
in the viewport, apart from the others, and the page's end can be scrolled above the bar; the keyboard reaches
and works every control; the live region says what plays; the keyboard shortcuts and their help dialog.
Screenshots of the player go to test-artifacts/."""

import time

import pytest

from . import browser
from .factories import make_album, make_artist, make_user

WAIT = browser.WAIT_MS
TITLES = ["Alpha Tide", "Bravo Hill", "Charlie Run"]
ARTIST = "Lena Kite"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
# What the bar shows while a song plays, in the order Tab reaches it (a logged-in listener's: the heart too).
BAR_CONTROLS = [
    ("link", "Alpha Tide"),
    ("link", ARTIST),
    ("button", "Like Alpha Tide"),
    ("button", "Shuffle"),
    ("button", "Previous"),
    ("button", "Pause"),
    ("button", "Next"),
    ("button", "Repeat: off"),
    ("slider", "Seek"),
    ("button", "Mute"),
    ("slider", "Volume"),
    ("button", "Queue"),
    ("button", "Lyrics"),
    ("button", "Visualizer"),
    ("button", "Keyboard shortcuts"),
    ("button", "Minimize the player"),
]
# At 375 px the volume (a phone has buttons for it) and the shortcuts' help (no keyboard) step aside.
PHONE_HIDDEN = {("button", "Mute"), ("slider", "Volume"), ("button", "Keyboard shortcuts")}


@pytest.fixture
def songs(transactional_db, tmp_path):
    songs = browser.playable_songs(tmp_path, TITLES, seconds=4, album=make_album("Test Pressing", make_artist(ARTIST)))
    first = songs[0]
    first.lyrics = "First line\nSecond line"
    first.synced_lyrics = [[0, "First line"], [1500, "Second line"]]
    first.save(update_fields=["lyrics", "synced_lyrics"])
    return songs


@pytest.fixture
def open_page(chromium, live_server, songs):
    """Opens the song list for a logged-in listener, at a size and colour scheme; checks no errors at the end."""
    make_user("dana")
    contexts = []

    def opener(viewport=DESKTOP, color_scheme="light"):
        context = chromium.new_context(viewport=viewport, color_scheme=color_scheme)
        contexts.append(context)
        page = context.new_page()
        page.errors = browser.watch(page)
        page.requests = set()
        page.on("request", lambda request: request.resource_type == "fetch" and page.requests.add(request))
        page.on("requestfinished", lambda request: page.requests.discard(request))
        page.on("requestfailed", lambda request: page.requests.discard(request))
        browser.log_in(page, live_server.url, "dana", next_path="/music/songs/")
        return page

    yield opener
    errors = []
    for context in contexts:
        for page in context.pages:
            settle(page)
            errors += page.errors
        context.close()
    browser.server_idle()
    assert errors == []


def settle(page):
    """Stops the player, writes its queue and waits for its requests to end, then leaves the page: no request
    of it may reach the live server while the test's database is flushed (SQLite: "database table is locked")."""
    page.evaluate(
        """async () => { const player = window.syroPlayer; if (!player) return;
            if (player.playing) await new Promise(done => {
                player.audio.addEventListener('pause', done, {once: true}); player.pause(); });
            await player.sync(); }"""
    )
    deadline = time.monotonic() + WAIT / 1000
    while page.requests and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # polls for the condition: Playwright delivers the request events meanwhile
    assert not page.requests, [request.url for request in page.requests]
    page.goto("about:blank")


def play(page, title="Alpha Tide"):
    page.get_by_role("button", name=f"Play {title}", exact=True).click()
    wait_playing(page, title)
    page.evaluate("() => window.syroPlayer.elements.forEach(element => { element.volume = 0.0001; })")


def wait_playing(page, title, beyond=0.2):
    page.wait_for_function(
        """([title, beyond]) => { const p = window.syroPlayer;
            return p && p.track && p.track.title === title && p.playing && p.currentTime > beyond; }""",
        arg=[title, beyond], timeout=WAIT,
    )


def bar_control(page, role, name):
    return page.locator("#player .player-bar").get_by_role(role, name=name, exact=True)


def serious_violations(page, where):
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    serious = [violation for violation in found if violation["impact"] in ("serious", "critical")]
    return [
        f"{where}: {violation['id']} ({violation['impact']}) "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in serious
    ]


def open_panel(page, name):
    page.locator(f"#player [data-panel-toggle={name}]").click()
    page.wait_for_function(
        "name => !document.getElementById(`player-${name}`).hidden", arg=name, timeout=WAIT,
    )


def wait_panel_filled(page, name):
    # Each panel's module fills it (queue rows, lyric lines, the style picker): axe checks what is there.
    page.wait_for_function(
        "name => document.querySelector(`#player-${name} .panel-body`).children.length > 0", arg=name, timeout=WAIT,
    )


def boxes(page, locators):
    return {key: locator.bounding_box() for key, locator in locators.items()}


@pytest.mark.parametrize(
    ("viewport", "color_scheme", "name"),
    [
        (DESKTOP, "light", "player-desktop-light"),
        (DESKTOP, "dark", "player-desktop-dark"),
        (PHONE, "light", "player-375-light"),
        (PHONE, "dark", "player-375-dark"),
    ],
)
def test_axe_finds_no_serious_or_critical_violation_in_any_state_of_the_player(
    open_page, viewport, color_scheme, name
):
    page = open_page(viewport, color_scheme)
    play(page)
    assert "{#" not in page.locator("body").inner_text()  # a template comment Django did not take as one
    problems = serious_violations(page, "playing")
    browser.shot(page, name, full_page=False)
    for panel in ("queue", "lyrics", "visualizer"):
        open_panel(page, panel)
        wait_panel_filled(page, panel)
        problems += serious_violations(page, f"{panel} panel")
    bar_control(page, "button", "Minimize the player").click()
    page.wait_for_selector("#player[data-minimized=true]", timeout=WAIT)
    problems += serious_violations(page, "minimized")
    if name == "player-desktop-light":
        browser.shot(page, "player-minimized", full_page=False)
    bar_control(page, "button", "Expand the player").click()
    page.locator("main h1").click()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.wait_for(timeout=WAIT)
    problems += serious_violations(page, "help dialog")
    if name == "player-desktop-light":
        browser.shot(page, "player-help", full_page=False)
    assert problems == []


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_at_375_px_every_bar_control_is_a_44_px_target_in_view_apart_from_the_others(open_page, color_scheme):
    page = open_page(PHONE, color_scheme)
    play(page)
    shown = [control for control in BAR_CONTROLS if control not in PHONE_HIDDEN]
    for hidden in PHONE_HIDDEN:
        assert not bar_control(page, *hidden).is_visible(), hidden
    # The links are text: their target is their line, as wide as the title; the buttons and sliders 44 x 44.
    places = boxes(page, {control: bar_control(page, *control) for control in shown})
    small = {
        control: (box["width"], box["height"]) for control, box in places.items()
        if control[0] != "link" and (box["width"] < 44 or box["height"] < 44)
    }
    assert small == {}
    outside = {
        control: box for control, box in places.items()
        if box["x"] < 0 or box["y"] < 0 or box["x"] + box["width"] > 375 or box["y"] + box["height"] > 740
    }
    assert outside == {}
    overlapping = [
        (one, other)
        for at, (one, a) in enumerate(places.items())
        for other, b in list(places.items())[at + 1:]
        if a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]
    ]
    assert overlapping == []
    bar = page.locator("#player").bounding_box()
    assert (bar["x"], bar["width"]) == (0, 375)
    assert page.evaluate("() => document.querySelector('#player .player-bar').scrollWidth") <= 375
    # The page's end scrolls into view above the bar: nothing of the page is out of reach behind it.
    footer = page.locator(".site-footer p")
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    bar_top = page.locator("#player").bounding_box()["y"]
    line = footer.bounding_box()
    assert line["y"] + line["height"] <= bar_top


def test_tab_reaches_every_bar_control_in_order_with_a_visible_outline(open_page):
    page = open_page()
    play(page)
    page.locator(".site-footer a").last.focus()
    reached = []
    for _ in range(len(BAR_CONTROLS) + 20):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const element = document.activeElement; const style = getComputedStyle(element);
                return { inBar: Boolean(element.closest('#player .player-bar')),
                         outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
                         name: element.getAttribute('aria-label') || element.textContent.trim() }; }"""
        )
        if focused["inBar"]:
            reached.append((focused["name"], focused["outline"]))
        elif reached:
            break
    assert reached == [(name, True) for _, name in BAR_CONTROLS]
    for role, name in BAR_CONTROLS:
        assert bar_control(page, role, name).count() == 1, (role, name)


def test_enter_and_space_work_the_bar_buttons(open_page):
    page = open_page()
    play(page)
    pause = bar_control(page, "button", "Pause")
    pause.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => !window.syroPlayer.playing", timeout=WAIT)
    bar_control(page, "button", "Play").focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => window.syroPlayer.playing", timeout=WAIT)

    bar_control(page, "button", "Shuffle").press("Space")
    assert page.evaluate("() => window.syroPlayer.shuffle")
    bar_control(page, "button", "Shuffle").press("Enter")
    assert not page.evaluate("() => window.syroPlayer.shuffle")
    bar_control(page, "button", "Repeat: off").press("Enter")
    bar_control(page, "button", "Repeat: all").press("Space")
    assert page.evaluate("() => window.syroPlayer.repeat") == "one"
    bar_control(page, "button", "Repeat: one").press("Enter")

    bar_control(page, "button", "Mute").press("Enter")
    assert page.evaluate("() => window.syroPlayer.audio.muted")
    bar_control(page, "button", "Unmute").press("Space")
    assert not page.evaluate("() => window.syroPlayer.audio.muted")

    bar_control(page, "button", "Like Alpha Tide").press("Enter")
    bar_control(page, "button", "Unlike Alpha Tide").wait_for(timeout=WAIT)
    bar_control(page, "button", "Unlike Alpha Tide").press("Space")
    bar_control(page, "button", "Like Alpha Tide").wait_for(timeout=WAIT)

    for panel, label in (("queue", "Queue"), ("lyrics", "Lyrics"), ("visualizer", "Visualizer")):
        bar_control(page, "button", label).press("Enter")
        assert page.locator(f"#player-{panel}").is_visible()
        assert bar_control(page, "button", label).get_attribute("aria-expanded") == "true"
        bar_control(page, "button", label).press("Space")
        assert page.locator(f"#player-{panel}").is_hidden()

    bar_control(page, "button", "Next").press("Enter")
    wait_playing(page, "Bravo Hill", beyond=0)
    bar_control(page, "button", "Previous").press("Space")
    wait_playing(page, "Alpha Tide", beyond=0)

    bar_control(page, "button", "Minimize the player").press("Enter")
    page.wait_for_selector("#player[data-minimized=true]", timeout=WAIT)
    bar_control(page, "button", "Expand the player").press("Space")
    page.wait_for_selector("#player[data-minimized=false]", timeout=WAIT)

    bar_control(page, "button", "Keyboard shortcuts").press("Enter")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.wait_for(timeout=WAIT)
    dialog.get_by_role("button", name="Close").press("Space")
    dialog.wait_for(state="hidden", timeout=WAIT)


def test_the_live_region_says_what_plays_when_a_song_starts_and_on_next(open_page):
    page = open_page()
    region = page.locator("[data-player=announce]")
    assert region.get_attribute("aria-live") == "polite"
    play(page)
    page.wait_for_function(
        "() => document.querySelector('[data-player=announce]').textContent"
        " === 'Now playing: Alpha Tide by Lena Kite'",
        timeout=WAIT,
    )
    bar_control(page, "button", "Next").click()
    page.wait_for_function(
        "() => document.querySelector('[data-player=announce]').textContent"
        " === 'Now playing: Bravo Hill by Lena Kite'",
        timeout=WAIT,
    )


def test_keyboard_shortcuts_drive_the_player_and_their_dialog_lists_them(open_page):
    page = open_page()
    play(page)
    page.locator("main h1").click()
    page.keyboard.press("Space")
    page.wait_for_function("() => !window.syroPlayer.playing", timeout=WAIT)
    page.keyboard.press("Space")
    page.wait_for_function("() => window.syroPlayer.playing", timeout=WAIT)

    # Typing a space in the search box types it, and the music goes on.
    page.locator("#site-search-q").click()
    page.keyboard.type("a b")
    assert page.locator("#site-search-q").input_value() == "a b"
    assert page.evaluate("() => window.syroPlayer.playing")
    page.keyboard.press("ArrowLeft")  # moves the caret, not the song
    page.locator("main h1").click()

    # Seeking: paused, so the time stands still between the key and the check.
    page.keyboard.press("Space")
    page.wait_for_function("() => !window.syroPlayer.playing", timeout=WAIT)
    page.evaluate("() => window.syroPlayer.seek(1)")
    page.wait_for_function("() => Math.abs(window.syroPlayer.currentTime - 1) < 0.05", timeout=WAIT)
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.syroPlayer.currentTime >= window.syroPlayer.duration - 0.05", timeout=WAIT)
    page.evaluate("() => window.syroPlayer.seek(3)")
    page.wait_for_function("() => Math.abs(window.syroPlayer.currentTime - 3) < 0.05", timeout=WAIT)
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => window.syroPlayer.currentTime < 0.05", timeout=WAIT)
    page.keyboard.press("Space")
    page.wait_for_function("() => window.syroPlayer.playing", timeout=WAIT)

    page.keyboard.press("Shift+ArrowRight")
    wait_playing(page, "Bravo Hill", beyond=0)

    page.keyboard.press("Shift+ArrowDown")  # the player's own volume: from 100 % to 90 %
    assert page.evaluate("() => window.syroPlayer.audio.volume") == pytest.approx(0.9)
    assert page.locator("#player [data-player=volume]").input_value() == "90"
    page.keyboard.press("Shift+ArrowUp")
    assert page.evaluate("() => window.syroPlayer.audio.volume") == pytest.approx(1.0)
    page.keyboard.press("m")
    assert page.evaluate("() => window.syroPlayer.audio.muted")
    assert bar_control(page, "button", "Unmute").get_attribute("aria-pressed") == "true"
    page.keyboard.press("m")
    assert not page.evaluate("() => window.syroPlayer.audio.muted")

    help_button = bar_control(page, "button", "Keyboard shortcuts")
    help_button.focus()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.wait_for(timeout=WAIT)
    assert dialog.locator("dd").all_inner_texts() == [
        "Play or pause", "Back or forward 5 seconds", "Previous or next song", "Volume up or down",
        "Mute or unmute", "This list",
    ]
    assert page.evaluate("() => document.activeElement.closest('dialog') !== null")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden", timeout=WAIT)
    assert page.evaluate("() => document.activeElement.dataset.player") == "help"
