"""What the tests in real headless Chromium (Debian's, driven by Playwright) share: launching it, watching a
page for errors, logging in, and songs with real audio to play.

Without Chromium the browser tests are skipped with a message, except under CI=true, where that is a failure.
"""

import contextlib
import os
import shutil
import threading
from pathlib import Path

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler
from django.db import connection

from SyroMusic.audio.probe import probe
from SyroMusic.models import AudioFile
from SyroMusic.services import song_pick_audio

from .audio_files import make_audio
from .factories import make_album, make_song

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
# The player's tests start audio from script, as a listener's click would.
PLAYER_ARGS = [*ARGS, "--autoplay-policy=no-user-gesture-required"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"
WAIT_MS = 60_000


# Requests the live server is answering now. A browser's request may still be in a server thread when its
# test ends, and SQLite's shared in-memory database then refuses the flush between tests ("database table
# is locked"): the tests' teardown waits for the count to reach 0 (server_idle) after closing the browser.
_answering = threading.Condition()
_in_flight = [0]
_wsgi_call = WSGIHandler.__call__


# The live server's threads share SQLite's one in-memory connection, and two writes meeting on it fail at once
# (a 503 the browser logs as a console error): on SQLite the live server answers one request at a time. A
# streamed answer (audio) holds the lock only until its view returns. PostgreSQL keeps real concurrency.
_one_at_a_time = threading.Lock()


def _answered():
    with _answering:
        _in_flight[0] -= 1
        _answering.notify_all()


# Only the live server's requests are counted (its request handler marks their environ): other callers of
# the WSGI app (schemathesis's, in the API fuzz tests) need not close what they are answered.
_LIVE = "syromusic.tests.live_server"
_get_environ = WSGIRequestHandler.get_environ


def _marked_environ(self):
    environ = _get_environ(self)
    environ[_LIVE] = True
    return environ


WSGIRequestHandler.get_environ = _marked_environ


def _counted_call(self, environ, start_response):
    if not environ.get(_LIVE):
        return _wsgi_call(self, environ, start_response)
    with _answering:
        _in_flight[0] += 1
    result, whole = None, False
    try:
        if connection.vendor == "sqlite":
            with _one_at_a_time:
                result = _wsgi_call(self, environ, start_response)
        else:
            result = _wsgi_call(self, environ, start_response)
        whole = getattr(result, "streaming", True) is False
    finally:
        if not whole:
            _answered()
    if not whole:
        return result
    # A whole answer counts until the server closes it once sent: its close() may still work (the listens
    # API adds a batch to the rollups there, FoldAfterAnswer). A streamed one (audio) counts until its view
    # returned, as a browser may leave it unread for a while.
    return _CountedUntilClosed(result)


class _CountedUntilClosed:
    """An answer as the WSGI server sees it, which counts as answered once closed. (A wrapper, not a patched
    close(): a view may give the same answer object to many requests.)"""

    def __init__(self, result):
        self.result, self.closed = result, False

    def __iter__(self):
        return iter(self.result)

    def close(self):
        try:
            if connection.vendor == "sqlite":
                # Its close() may write (FoldAfterAnswer): on SQLite's shared connection, one at a time too
                # (a fold meeting another request's write broke both: a 503 and a TransactionManagementError).
                with _one_at_a_time:
                    self.result.close()
            else:
                self.result.close()
        finally:
            if not self.closed:  # a server may close an answer twice (after an error in sending it)
                self.closed = True
                _answered()


WSGIHandler.__call__ = _counted_call


def server_idle(timeout=WAIT_MS / 1000):
    """Wait until the live server answers no request (its views have returned)."""
    with _answering:
        assert _answering.wait_for(lambda: _in_flight[0] == 0, timeout=timeout), f"{_in_flight[0]} requests still running"


def server_answered(condition, timeout=WAIT_MS / 1000):
    """Wait until condition() holds, asked when the live server answers no request (so a query here never
    meets one of its writes), after each answer: for what a page sends as it goes, which it cannot report."""
    with _answering:
        assert _answering.wait_for(lambda: _in_flight[0] == 0 and condition(), timeout=timeout), "never answered"


def missing():
    """Why Chromium cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements-dev.txt)"
    if not os.access(CHROMIUM, os.X_OK):
        return "Chromium is not installed (apt-get install chromium)"
    return None


@contextlib.contextmanager
def chromium(args=ARGS):
    """A running Chromium for a fixture to yield; skips (fails under CI=true) when there is none."""
    reason = missing()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, and Django refuses database work
    # in a thread with a running loop. The tests' own database work is synchronous setup: let it through.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(args))
            yield NoServiceWorkers(browser)
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class NoServiceWorkers:
    """The browser, whose new contexts and pages leave service workers out unless asked (service_workers="allow").

    A worker that controls a page takes its requests out of page.route's sight: a test that holds or refuses a
    request would then see it reach the server after all, or not, by how soon the worker took over. Only the
    tests of the worker itself (offline, saved for offline) let it in."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **options):
        options.setdefault("service_workers", "block")
        return self._browser.new_context(**options)

    def new_page(self, **options):
        options.setdefault("service_workers", "block")
        return self._browser.new_page(**options)

    def __getattr__(self, name):
        return getattr(self._browser, name)


def watch(page):
    """A list that collects the page's console errors, uncaught exceptions and CSP violations from now on."""
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def shot(page, name, *, full_page=True):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def log_in(page, base_url, username, *, password=PASSWORD, next_path="/"):
    """Log in through the login page, and land on next_path."""
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main").get_by_role("button", name="Log in").click()
    wait_for_page(page, f"{base_url}{next_path}")


def wait_for_page(page, url, *, timeout=WAIT_MS):
    """Wait until the page at `url` is in. htmx changes the address before it swaps the new page in, and
    keeps #page aria-busy until it has."""
    page.wait_for_url(url, timeout=timeout)
    page.wait_for_function(
        "() => { const page = document.getElementById('page'); return !page || !page.hasAttribute('aria-busy'); }",
        timeout=timeout,
    )


def playable_songs(directory, titles, *, seconds=4, album=None, sample_rate=22050, channels=2, **song_fields):
    """Songs on one album, in this order, each with a real MP3 of `seconds` (22 kHz stereo unless told),
    peaks included."""
    album = album or make_album("Test Pressing")
    songs = []
    for number, title in enumerate(titles, start=1):
        path = make_audio(
            directory, f"{number:02d} {title}", format="mp3", seconds=seconds, sample_rate=sample_rate,
            channels=channels, seed=number,
        )
        facts = probe(path)
        stat = path.stat()
        song = make_song(title, album=album, track_number=number, duration_ms=facts.duration_ms, **song_fields)
        AudioFile.objects.create(
            song=song, path=str(path), format=facts.format, codec=facts.codec, bitrate=facts.bitrate,
            sample_rate=facts.sample_rate, channels=facts.channels, duration_ms=facts.duration_ms, size=stat.st_size,
            mtime_ns=stat.st_mtime_ns, content_hash=facts.content_hash, peaks=facts.peaks,
        )
        songs.append(song)
    song_pick_audio(song_ids=[song.pk for song in songs])
    for song in songs:
        song.refresh_from_db()
    return songs



def leave(page):
    """Before the test's database is flushed: pause the player, wait for its queue to reach the server, and
    refuse every later request (a page closing saves its queue), so none meets a database being torn down."""
    if not page.is_closed() and page.url.startswith("http"):
        page.evaluate("async () => { const p = window.syroPlayer; if (!p) return; p.pause(); await p.sync(); }")
    page.context.route("**/*", lambda route: route.abort())


def finish(page):
    """The end of a test with a player page: leave it, close its browser context, and wait until the live
    server has answered everything the page had asked."""
    if not page.is_closed():
        leave(page)
    page.context.close()
    server_idle()
