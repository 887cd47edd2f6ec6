"""The player reports what was heard (static/syromusic/js/listens.js), in a real headless Chromium playing real
MP3s from the live server, to the real POST /api/v1/me/listens/: the Listen rows are the proof.

The songs last 32 s (a listen counts past half: 16 s) and play at 8 times their speed; what is heard is media
time, so a test plays "16 s" in two."""

from datetime import timedelta

import pytest
from django.utils import timezone

from SyroMusic.models import Listen

from . import browser
from .factories import make_user

WAIT = browser.WAIT_MS
TITLES = ["Long Alpha", "Long Bravo", "Long Charlie"]
SPEED = 8
ENDPOINT = "/api/v1/me/listens/"


@pytest.fixture
def songs(transactional_db, tmp_path):
    # Past the 30 s a song must last to count; mono 8 kHz keeps the files small and quick to make.
    return browser.playable_songs(tmp_path, TITLES, seconds=32, sample_rate=8000, channels=1)


@pytest.fixture
def dana(transactional_db):
    return make_user("dana")


def open_page(chromium, live_server, username=None):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = browser.watch(page)
    if username:
        browser.log_in(page, live_server.url, username, next_path="/music/songs/")
    else:
        page.goto(f"{live_server.url}/music/songs/")
    page.wait_for_function("() => window.syroPlayer && window.syroListens", timeout=WAIT)
    return page


@pytest.fixture
def page(chromium, live_server, songs, dana):
    opened = open_page(chromium, live_server, "dana")
    yield opened
    errors = opened.errors
    browser.finish(opened)
    assert errors == []


def is_listens_post(response):
    return response.url.endswith(ENDPOINT) and response.request.method == "POST"


def play_row(page, title, speed=SPEED):
    page.get_by_role("button", name=f"Play {title}", exact=True).click()
    page.wait_for_function(
        "title => window.syroPlayer.playing && window.syroPlayer.track.title === title", arg=title, timeout=WAIT
    )
    # Each song loads at the default rate: both elements get the test's speed (and play near silence).
    page.evaluate(
        """speed => window.syroPlayer.elements.forEach(element => {
            element.defaultPlaybackRate = speed; element.playbackRate = speed; element.volume = 0.0001; })""",
        speed,
    )


def wait_heard(page, ms):
    page.wait_for_function(
        "ms => { const now = window.syroListens.current(); return now && now.heard_ms >= ms; }", arg=ms, timeout=WAIT
    )


def pause(page):
    page.evaluate("() => window.syroPlayer.pause()")
    page.wait_for_function("() => !window.syroPlayer.playing", timeout=WAIT)
    return page.evaluate("() => window.syroPlayer.audio.currentTime")


def sent(page, action):
    """Does `action`, and waits for the listens it ends to reach the server and leave the pending list."""
    with page.expect_response(is_listens_post, timeout=WAIT) as answer:
        action()
    assert answer.value.status == 200, answer.value.text()
    page.wait_for_function("() => window.syroListens.pending().length === 0", timeout=WAIT)
    # What else the action sent (the queue's save) may still be writing: the test reads once the server is idle.
    browser.server_idle()
    return answer.value.json()


def test_a_song_played_past_half_then_skipped_is_one_counted_listen(page, songs):
    began = timezone.now()
    play_row(page, "Long Alpha")
    wait_heard(page, 17_000)
    played_s = pause(page)
    sent(page, lambda: page.get_by_role("button", name="Next", exact=True).click())

    listen = Listen.objects.get()
    assert listen.song == songs[0]
    assert listen.counted is True
    assert listen.client == "SyroMusic web"
    assert listen.source == Listen.Source.PLAYER
    # Heard from where it started (a few ms in, at most) to the pause.
    assert played_s * 1000 - 500 <= listen.heard_ms <= played_s * 1000 + 1
    assert began - timedelta(seconds=1) <= listen.started_at <= timezone.now()


def test_seeking_to_the_end_of_a_song_is_a_short_listen_that_does_not_count(page, songs):
    play_row(page, "Long Charlie")  # the last row: its end is the end of the queue, nothing plays after
    # The seek comes as soon as 1.2 s were heard (from the element's own event, not a round trip from here).

    def seek_to_the_end():
        page.evaluate(
            """() => new Promise(done => {
                const audio = window.syroPlayer.audio;
                const check = () => {
                    const now = window.syroListens.current();
                    if (now && now.heard_ms >= 1200) {
                        audio.removeEventListener('timeupdate', check);
                        window.syroPlayer.seek(window.syroPlayer.duration - 1);
                        done();
                    }
                };
                audio.addEventListener('timeupdate', check);
            })"""
        )

    sent(page, seek_to_the_end)  # ... and the song ends a second later: the listen goes

    listen = Listen.objects.get()
    assert listen.song == songs[2]
    assert listen.counted is False
    # 1.2 s and a step before the seek, the last second after it; never the 30 s skipped.
    assert 2_000 <= listen.heard_ms <= 6_000


def test_a_pause_adds_nothing_and_the_same_listen_goes_on_after_it(page, songs):
    play_row(page, "Long Alpha")
    wait_heard(page, 2_000)
    pause(page)
    state = "() => ({time: window.syroPlayer.audio.currentTime, ...window.syroListens.current(), now: performance.now()})"
    paused = page.evaluate(state)
    # A second and a half of the page's own clock (not the test's) with the music paused.
    page.wait_for_function("since => performance.now() > since + 1500", arg=paused["now"], timeout=WAIT)
    later = page.evaluate(state)
    assert later["time"] == paused["time"]
    assert later["heard_ms"] == paused["heard_ms"]

    page.evaluate("() => window.syroPlayer.play()")
    wait_heard(page, paused["heard_ms"] + 2_000)
    assert page.evaluate("() => window.syroListens.current().client_id") == paused["client_id"]
    played_s = pause(page)
    sent(page, lambda: page.evaluate("() => window.syroPlayer.clear()"))

    listen = Listen.objects.get()
    assert listen.client_id == paused["client_id"]
    assert played_s * 1000 - 500 <= listen.heard_ms <= played_s * 1000 + 1


def test_a_song_repeated_is_a_new_listen_each_time(page, songs):
    play_row(page, "Long Alpha")
    page.evaluate("() => window.syroPlayer.setRepeat('one')")
    wait_heard(page, 1_500)
    first = page.evaluate("() => window.syroListens.current().client_id")
    page.evaluate("() => window.syroPlayer.seek(window.syroPlayer.duration - 1)")
    page.wait_for_function(
        "first => { const now = window.syroListens.current(); return now && now.client_id !== first && now.heard_ms >= 1200; }",
        arg=first, timeout=WAIT,
    )
    pause(page)
    sent(page, lambda: page.evaluate("() => window.syroPlayer.clear()"))

    assert Listen.objects.filter(song=songs[0]).count() == 2
    assert Listen.objects.filter(client_id=first).exists()


def test_a_failed_request_keeps_the_listen_and_the_next_flush_sends_it_once(page, songs):
    posts = []

    def refuse_the_first(route):
        posts.append(route.request.post_data_json)
        if len(posts) == 1:
            route.abort()  # the browser's network fails: our server never hears of it
        else:
            route.continue_()

    page.route(f"**{ENDPOINT}", refuse_the_first)
    play_row(page, "Long Alpha")
    wait_heard(page, 1_500)
    with page.expect_event("requestfailed", timeout=WAIT):
        page.evaluate("() => window.syroPlayer.clear()")
    pending = page.evaluate("() => window.syroListens.pending()")
    assert [item["song"] for item in pending] == [songs[0].pk]
    assert Listen.objects.count() == 0

    page.evaluate("() => window.syroListens.flush()")  # resolves once the server answered
    browser.server_idle()

    assert page.evaluate("() => window.syroListens.pending()") == []
    assert list(Listen.objects.values_list("client_id", flat=True)) == [pending[0]["client_id"]]
    assert posts == [{"listens": pending}, {"listens": pending}]
    page.errors[:] = [error for error in page.errors if "ERR_FAILED" not in error]


def test_an_event_the_server_refuses_is_dropped_and_the_rest_are_recorded(page, songs):
    good = {"client_id": "good-1", "song": songs[0].pk, "started_at": "2026-01-02T03:04:05.000Z", "heard_ms": 20_000,
            "client": "SyroMusic web"}
    bad = {**good, "client_id": "bad-1", "heard_ms": -5}
    listener = page.evaluate("() => document.getElementById('page-state').dataset.listener")
    page.evaluate("([who, list]) => window.syroOfflineStore.write(who, list)", [listener, [bad, good]])

    page.evaluate("() => window.syroListens.flush()")  # resolves once the server answered
    browser.server_idle()

    assert page.evaluate("() => window.syroListens.pending()") == []
    assert list(Listen.objects.values_list("client_id", "heard_ms")) == [("good-1", 20_000)]
    # The refusal is the test's doing: the browser logs the 400.
    page.errors[:] = [error for error in page.errors if "400" not in error]


def test_leaving_the_page_sends_what_was_heard_so_far(page, live_server, songs):
    play_row(page, "Long Bravo")
    wait_heard(page, 1_500)
    page.goto("about:blank")  # pagehide: the listen ends and goes (fetch keepalive), the music with the page
    # Should Chromium drop the keepalive request (it may, under a service worker: test_offline_browser), the
    # listen waits in the browser (offline-store.js) and the next page sends it. Either way it is recorded, once.
    page.goto(f"{live_server.url}/music/songs/")
    page.wait_for_function("() => window.syroListens && window.syroListens.pending().length === 0", timeout=WAIT)
    browser.server_answered(Listen.objects.exists)

    listen = Listen.objects.get()
    assert listen.song == songs[1]
    assert listen.heard_ms >= 1_500


def test_logging_out_sends_what_was_heard_before_the_session_ends(page, live_server, songs, dana):
    play_row(page, "Long Alpha")
    wait_heard(page, 1_500)
    page.get_by_role("button", name="Log out").click()
    browser.wait_for_page(page, f"{live_server.url}/")
    # The logout waits for the keepalive POST only so long (player.js): wait for the server to have answered it.
    browser.server_answered(Listen.objects.exists)

    listen = Listen.objects.get()
    assert (listen.user, listen.song) == (dana, songs[0])
    # The next page learns the listener left (htmx:afterSettle, pageshow), then empties the store: wait for it.
    page.wait_for_function(
        "() => Object.keys(localStorage).filter(key => key.startsWith('syro:listens')).length === 0", timeout=WAIT
    )
    assert page.evaluate(
        """async () => { await window.syroOfflineStore.written();
            return new Promise(resolve => { const open = indexedDB.open('syro'); open.onsuccess = () => {
                const all = open.result.transaction('listens').objectStore('listens').getAll();
                all.onsuccess = () => { resolve(all.result); open.result.close(); }; }; }); }"""
    ) == []


def test_an_anonymous_visitor_sends_nothing(chromium, live_server, songs, settings):
    settings.STREAM_ANONYMOUS = True
    page = open_page(chromium, live_server)
    posts = []
    page.on("request", lambda request: request.url.endswith(ENDPOINT) and posts.append(request))
    try:
        play_row(page, "Long Alpha")
        page.wait_for_function("() => window.syroPlayer.currentTime > 3", timeout=WAIT)
        page.evaluate("() => window.syroPlayer.clear()")
        assert page.evaluate("() => [window.syroListens.current(), window.syroListens.pending()]") == [None, []]
        page.goto("about:blank")
        assert posts == []
        assert page.errors == []
    finally:
        browser.finish(page)
    assert Listen.objects.count() == 0


def test_a_song_played_past_half_is_in_recently_played_and_in_the_stats(page, live_server, songs):
    play_row(page, "Long Bravo")
    wait_heard(page, 17_000)
    pause(page)
    sent(page, lambda: page.evaluate("() => window.syroPlayer.clear()"))

    page.get_by_role("link", name="Recently played").click()
    browser.wait_for_page(page, f"{live_server.url}/music/history/")
    rows = page.locator("table[data-play-list] tr[data-song-id]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-song-id") == str(songs[1].pk)
    assert "Long Bravo" in rows.first.inner_text()

    page.goto(f"{live_server.url}/music/stats/")
    figures = page.locator(".stat-figures")
    assert figures.locator("div", has_text="Listens").locator("dd").inner_text() == "1"
    assert figures.locator("div", has_text="Songs").locator("dd").inner_text() == "1"
    top_song = page.locator("section[aria-labelledby=top-songs] li")
    assert top_song.count() == 1
    assert top_song.first.inner_text().startswith("Long Bravo by ")
    assert " · 1 listen · " in top_song.first.inner_text()
