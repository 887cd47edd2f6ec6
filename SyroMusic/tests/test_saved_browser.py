"""Save for offline (static/syromusic/js/saved.js, the worker's static/syromusic/sw-saved.js), in a real headless
Chromium with the real service worker and real MP3s from the live server: save an album, go offline
(`context.set_offline`), play and seek it from the worker's copy (206 answers cut from the saved file), the
Saved page, removing, the server's rules when saving, refreshing on the next online visit, forgetting on
logout, and what was done offline (listens, queue changes) reaching the server once the network is back.

The songs last 32 s (mono 8 kHz: small files) so that a listen can count (past half: 16 s, played at 8 times
the speed)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from SyroMusic.audio.probe import probe
from SyroMusic.models import AudioFile, Listen, PlayQueue
from SyroMusic.services import song_pick_audio

from . import browser
from .audio_files import make_audio
from .factories import make_playlist, make_user
from .test_offline_browser import wait_until

WAIT = browser.WAIT_MS
TITLES = ["Saved Alpha", "Saved Bravo", "Saved Charlie"]
SPEED = 8
# What Chromium logs by itself for a request made while the network is off (the page's code handles it).
OFFLINE_NOISE = re.compile(r"net::ERR_INTERNET_DISCONNECTED|Failed to fetch|Failed to load resource")


@pytest.fixture
def songs(transactional_db, tmp_path):
    return browser.playable_songs(tmp_path, TITLES, seconds=32, sample_rate=8000, channels=1)


@pytest.fixture
def album(songs):
    return songs[0].album


@pytest.fixture
def dana(transactional_db):
    return make_user("dana")


def open_page(chromium, live_server, path, username="dana"):
    assert live_server.url.startswith("http://localhost:")  # a secure context: service workers may run
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, service_workers="allow")
    page = context.new_page()
    page.errors = browser.watch(page)
    page.audio_answers = []
    page.offline = False
    page.on(
        "response",
        lambda response: "/audio/" in response.url and page.audio_answers.append(
            (response.status, response.from_service_worker, response.request.headers.get("range"))
        ),
    )
    browser.log_in(page, live_server.url, username, next_path=path)
    # offline.js registers the worker; its activation claims the page.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=WAIT)
    page.wait_for_function("() => window.syroSaved && window.syroPlayer", timeout=WAIT)
    return page


@pytest.fixture
def page(chromium, live_server, album, dana):
    opened = open_page(chromium, live_server, album.get_absolute_url())
    yield opened
    # What the page logged while the network was off is Chromium's noise about it, not an error of ours.
    errors = [error for error in opened.errors if not (opened.offline and OFFLINE_NOISE.search(error))]
    browser.finish(opened)
    assert errors == []


def go_offline(page):
    page.offline = True
    page.context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine", timeout=WAIT)


def go_online(page):
    page.context.set_offline(False)
    page.wait_for_function("() => navigator.onLine", timeout=WAIT)


def save(page, title):
    page.get_by_role("button", name="Save for offline").click()
    expect(page.get_by_role("link", name="Saved ✓")).to_be_visible(timeout=WAIT)
    expect(page.locator("[data-save=status]")).to_contain_text(re.compile(r"^3 songs, [0-9.]+ MB\. This site uses "))
    assert page.get_by_role("button", name=f"Remove {title} from this browser").is_visible()
    page.wait_for_function("() => !window.syroSaved.busy", timeout=WAIT)


def saved_urls(page):
    """The paths in the listener's saved cache, sorted."""
    return page.evaluate(
        """async () => { const names = (await caches.keys()).filter(name => name.startsWith('syro-saved-'));
            const urls = [];
            for (const name of names) {
                for (const request of await (await caches.open(name)).keys()) {
                    const url = new URL(request.url); urls.push(url.pathname + url.search);
                }
            }
            return urls.sort(); }"""
    )


def records(page):
    return page.evaluate(
        "async () => (await window.syroSaved.records()).map(r => ({key: r.key, title: r.title, songs: r.tracks.length}))"
    )


def expected_urls(songs, tracks_url):
    urls = {tracks_url}
    for song in songs:
        song.refresh_from_db()
        urls.add(song.audio.get_absolute_url())
        urls.update(url for url in (song.album.cover_image_url(64), song.album.cover_image_url(600)) if song.album.cover_hash)
    return sorted(urls)


def quiet_and_fast(page):
    page.evaluate(
        """speed => window.syroPlayer.elements.forEach(element => {
            element.defaultPlaybackRate = speed; element.playbackRate = speed; element.volume = 0.0001; })""",
        SPEED,
    )


def wait_playing(page, title, beyond=0.2):
    page.wait_for_function(
        """([title, beyond]) => { const p = window.syroPlayer;
            return p.track && p.track.title === title && p.playing && p.currentTime > beyond; }""",
        arg=[title, beyond], timeout=WAIT,
    )


def fetch_range(page, url, range_header=None):
    return page.evaluate(
        """async ([url, range]) => {
            const response = await fetch(url, range ? {headers: {Range: range}} : {});
            const body = new Uint8Array(await response.arrayBuffer());
            return {status: response.status, range: response.headers.get('Content-Range'),
                    length: response.headers.get('Content-Length'), accept: response.headers.get('Accept-Ranges'),
                    saved: response.headers.get('X-Syro-Saved'), body: Array.from(body.slice(0, 64)), size: body.length};
        }""",
        [url, range_header],
    )


def test_a_saved_album_plays_and_seeks_offline_from_the_workers_copy(page, songs, album):
    save(page, album.title)
    assert records(page) == [{"key": f"album:{album.pk}", "title": album.title, "songs": 3}]
    assert saved_urls(page) == expected_urls(songs, f"/player/tracks/?album={album.pk}")

    go_offline(page)
    # The worker's own requests are cut too: a track list never saved cannot be had.
    assert page.evaluate("() => fetch('/player/tracks/?artist=1').then(() => 'answered', () => 'failed')") == "failed"
    audio = songs[1].audio
    data = Path(audio.path).read_bytes()
    size = len(data)
    url = audio.get_absolute_url()
    answer = fetch_range(page, url, "bytes=100-199")
    assert answer == {
        "status": 206, "range": f"bytes 100-199/{size}", "length": "100", "accept": "bytes", "saved": "1",
        "body": list(data[100:164]), "size": 100,
    }
    answer = fetch_range(page, url, f"bytes={size - 10}-")
    assert (answer["status"], answer["range"], answer["size"]) == (206, f"bytes {size - 10}-{size - 1}/{size}", 10)
    answer = fetch_range(page, url, "bytes=-20")
    assert (answer["status"], answer["range"], answer["body"]) == (206, f"bytes {size - 20}-{size - 1}/{size}", list(data[-20:]))
    answer = fetch_range(page, url, f"bytes={size}-")
    assert (answer["status"], answer["range"], answer["size"]) == (416, f"bytes */{size}", 0)
    answer = fetch_range(page, url)
    assert (answer["status"], answer["range"], answer["length"], answer["body"]) == (200, None, str(size), list(data[:64]))

    # "Play" asks for the album's track list: the worker answers with the saved one.
    page.audio_answers.clear()
    page.locator(".play-actions").get_by_role("button", name="Play", exact=True).click()
    wait_playing(page, TITLES[0])
    quiet_and_fast(page)
    page.evaluate("() => { window.syroPlayer.elements.forEach(e => { e.playbackRate = 1; e.defaultPlaybackRate = 1; }); }")
    page.evaluate("() => window.syroPlayer.seek(20)")
    page.wait_for_function("() => window.syroPlayer.currentTime > 20.3 && window.syroPlayer.playing", timeout=WAIT)
    page.evaluate("() => window.syroPlayer.next()")
    wait_playing(page, TITLES[1])
    # The media element's requests were answered by the worker, in ranges.
    assert {status for status, by_worker, _ in page.audio_answers if by_worker} == {206}
    assert all(by_worker for _, by_worker, _ in page.audio_answers)


def test_the_saved_page_lists_the_album_and_plays_it_offline(page, live_server, album):
    save(page, album.title)
    page.get_by_role("link", name="Saved", exact=True).click()
    browser.wait_for_page(page, f"{live_server.url}/music/saved/")
    item = page.locator("[data-saved=items] li")
    expect(item).to_have_count(1, timeout=WAIT)
    expect(item.get_by_role("link", name=album.title)).to_have_attribute("href", album.get_absolute_url())
    expect(item).to_contain_text("3 songs")
    expect(page.locator("[data-saved=summary]")).to_contain_text(re.compile(r"^1 saved, [0-9.]+ MB\. This site uses "))

    go_offline(page)
    page.reload()  # the worker's copy of the page
    expect(page.locator("[data-saved=items] li")).to_have_count(1, timeout=WAIT)
    page.get_by_role("button", name=f"Play {album.title}").click()
    wait_playing(page, TITLES[0])
    page.evaluate("() => window.syroPlayer.pause()")


def test_removing_keeps_the_files_another_saved_collection_uses(page, live_server, songs, album, dana):
    playlist = make_playlist(owner=dana, name="Road trip", songs=[songs[2]])
    save(page, album.title)
    page.goto(f"{live_server.url}{playlist.get_absolute_url()}")
    page.get_by_role("button", name="Save for offline").click()
    expect(page.get_by_role("link", name="Saved ✓")).to_be_visible(timeout=WAIT)
    page.wait_for_function("() => !window.syroSaved.busy", timeout=WAIT)
    assert [record["key"] for record in records(page)] == [f"playlist:{playlist.pk}", f"album:{album.pk}"]

    page.goto(f"{live_server.url}{album.get_absolute_url()}")
    page.get_by_role("button", name=f"Remove {album.title} from this browser").click()
    expect(page.get_by_role("button", name="Save for offline")).to_be_visible(timeout=WAIT)
    expect(page.locator("[data-save=status]")).to_have_text("Removed from this browser.")
    page.wait_for_function("() => !window.syroSaved.busy", timeout=WAIT)  # this visit's refresh, if any
    assert records(page) == [{"key": f"playlist:{playlist.pk}", "title": "Road trip", "songs": 1}]
    assert saved_urls(page) == expected_urls([songs[2]], f"/player/tracks/?playlist={playlist.pk}")


def test_a_playlist_the_listener_may_no_longer_see_is_not_saved(page, live_server, songs):
    owner = make_user("alice")
    playlist = make_playlist(owner=owner, name="Alice's mix", songs=songs, is_public=True)
    page.goto(f"{live_server.url}{playlist.get_absolute_url()}")
    playlist.is_public = False
    playlist.save(update_fields=["is_public"])
    page.get_by_role("button", name="Save for offline").click()
    expect(page.locator("[data-save=status]")).to_have_text(
        f"Could not save for offline. The server answered 404. There is no playlist {playlist.pk} you may see.",
        timeout=WAIT,
    )
    # Chromium logs the 404 answer itself.
    page.errors[:] = [error for error in page.errors if "status of 404" not in error]
    assert records(page) == []
    assert saved_urls(page) == []
    assert page.get_by_role("button", name="Save for offline").is_visible()


def test_the_next_online_visit_brings_the_saved_copy_up_to_date(page, songs, album, tmp_path):
    save(page, album.title)
    old_audio = songs[0].audio.get_absolute_url()
    # On the server: the album is renamed, its last song deleted, its first one's file replaced.
    album.title = "Saved (Remastered)"
    album.save(update_fields=["title"])
    songs[2].delete()
    path = make_audio(tmp_path / "new", "alpha", format="mp3", seconds=32, sample_rate=8000, channels=1, seed=99)
    facts = probe(path)
    stat = path.stat()
    AudioFile.objects.filter(song=songs[0]).delete()
    AudioFile.objects.create(
        song=songs[0], path=str(path), format=facts.format, codec=facts.codec, bitrate=facts.bitrate,
        sample_rate=facts.sample_rate, channels=facts.channels, duration_ms=facts.duration_ms, size=stat.st_size,
        mtime_ns=stat.st_mtime_ns, content_hash=facts.content_hash, peaks=facts.peaks,
    )
    song_pick_audio(song_ids=[songs[0].pk])
    songs[0].refresh_from_db()
    assert songs[0].audio.get_absolute_url() != old_audio

    page.reload()
    page.wait_for_function("() => window.syroSaved && !window.syroSaved.busy", timeout=WAIT)
    wait_until(page, "async () => (await window.syroSaved.records())[0]?.title === 'Saved (Remastered)'")
    page.wait_for_function("() => !window.syroSaved.busy", timeout=WAIT)
    assert records(page) == [{"key": f"album:{album.pk}", "title": "Saved (Remastered)", "songs": 2}]
    assert saved_urls(page) == expected_urls(songs[:2], f"/player/tracks/?album={album.pk}")


def test_logging_out_forgets_the_saved_music(page, live_server, album, dana):
    save(page, album.title)
    page.get_by_role("button", name="Log out").click()
    browser.wait_for_page(page, f"{live_server.url}/")
    # Her cache goes; the visitor's page after may open an empty one of its own (saved.js's sweep): nothing in it.
    wait_until(
        page,
        """async (mine) => { for (const name of await caches.keys()) {
            if (name === mine) return false;
            if (name.startsWith('syro-saved-') && (await (await caches.open(name)).keys()).length) return false; }
        return true; }""",
        f"syro-saved-{dana.pk}",
    )
    assert page.evaluate(
        """() => new Promise(resolve => { const open = indexedDB.open('syro');
            open.onsuccess = () => { const all = open.result.transaction('saved').objectStore('saved').getAll();
            all.onsuccess = () => { resolve(all.result.length); open.result.close(); }; }; })"""
    ) == 0


def test_a_listen_and_a_queue_change_made_offline_reach_the_server_once_back_online(page, songs, album, dana):
    save(page, album.title)
    page.locator(".play-actions").get_by_role("button", name="Play", exact=True).click()
    wait_playing(page, TITLES[0])
    page.wait_for_function("() => window.syroListens", timeout=WAIT)
    page.evaluate("() => window.syroPlayer.sync()")
    go_offline(page)
    quiet_and_fast(page)
    # Past half of the song (16 s of media time, 2 s at 8 times the speed), then the next one: a counted listen.
    page.wait_for_function(
        "() => { const now = window.syroListens.current(); return now && now.heard_ms >= 17000; }", timeout=WAIT
    )
    page.evaluate("() => window.syroPlayer.next()")
    wait_playing(page, TITLES[1])
    page.evaluate("() => window.syroPlayer.pause()")
    page.wait_for_function("() => window.syroListens.pending().length === 1", timeout=WAIT)
    # The queue changes offline: the last song leaves it.
    page.evaluate("() => window.syroPlayer.remove(2)")
    assert Listen.objects.count() == 0

    # Both go at once: on SQLite one may meet the other's lock and be answered 503, and is sent again later.
    with page.expect_response(lambda r: r.url.endswith("/api/v1/me/queue/") and r.status == 200, timeout=WAIT):
        go_online(page)
    page.wait_for_function("() => window.syroListens.pending().length === 0", timeout=WAIT)
    listen = Listen.objects.get()
    assert (listen.user, listen.song_id, listen.counted) == (dana, songs[0].pk, True)
    page.evaluate("() => window.syroListens.flush()")
    assert Listen.objects.count() == 1
    queue = PlayQueue.objects.get(user=dana)
    assert (queue.song_ids, queue.current_index) == ([songs[0].pk, songs[1].pk], 1)
