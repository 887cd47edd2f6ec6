"""Offline mode in a real headless Chromium (Debian's) against the live server: the service worker
(static/syromusic/sw.js, served at /sw.js) and js/offline.js. A page visited before opens offline, one never
visited shows the offline page, the header says so; logging out clears the private caches; a listener's pages
last one browser session; a deploy's new worker replaces the old one and its caches.

Each test has a browser context of its own: workers and caches live per context. localhost is a secure
context, so the worker registers over plain http."""

import itertools
import re
import shutil

import pytest

from . import browser
from .browser import wait_for_page
from .factories import make_album, make_artist

WAIT = browser.WAIT_MS


@pytest.fixture
def site(transactional_db):
    artist = make_artist("Boards of Canada")
    return {
        "visited": make_album("Music Has the Right", artist=artist),
        "never": make_album("Geogaddi", artist=artist),
    }


@pytest.fixture
def base_url(live_server):
    # Service workers need a secure context: http://localhost is one, http://127.0.0.1 too, but say it plainly.
    return live_server.url.replace("127.0.0.1", "localhost")


@pytest.fixture
def open_page(chromium):
    """Open a page in a browser context of its own; at the end, no console error, no CSP violation."""
    opened = []

    def open_(url):
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, service_workers="allow")
        page = context.new_page()
        page.errors = browser.watch(page)
        page.goto(url)
        opened.append(page)
        return page

    yield open_
    for page in opened:
        errors = page.errors
        browser.finish(page)
        assert errors == [], errors


def wait_controlled(page):
    """The worker controls the page (its first visit: once it has activated and claimed the page)."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=WAIT)


def cache_names(page):
    return page.evaluate("async () => (await caches.keys()).sort()")


def cached_urls(page, name):
    return page.evaluate(
        "async (name) => (await (await caches.open(name)).keys()).map((request) => request.url).sort()", name
    )


_waits = itertools.count()


def wait_until(page, check, arg=None):
    """Wait until the async function `check` (JavaScript source) answers true. wait_for_function does not wait
    for a promise: each poll starts a check, and reads the answer of the one before. Each wait has a key of its
    own: an answer left by an earlier wait (the same check, another arg) never ends this one."""
    page.wait_for_function(
        f"""(arg) => {{ const key = {next(_waits)};
            ({check})(arg).then((answer) => {{ (window.syroTestChecks ??= {{}})[key] = answer; }});
            return window.syroTestChecks?.[key] === true; }}""",
        arg=arg, timeout=WAIT,
    )


NONE_OF = """async (prefixes) => (await caches.keys()).every((name) => !prefixes.some((p) => name.startsWith(p)))"""


def wait_gone(page, *prefixes):
    """No cache whose name starts with one of prefixes is left (the worker deletes them after answering)."""
    wait_until(page, NONE_OF, list(prefixes))


KEPT = """async (url) => { for (const name of await caches.keys()) {
        if (name.startsWith('syro-pages-') && await (await caches.open(name)).match(url)) return true; }
    return false; }"""


def wait_kept(page, url):
    """The worker has kept the page at url (it stores it after answering)."""
    wait_until(page, KEPT, url)


def follow(page, path, base_url):
    """Click a link to path (htmx swaps the page in) and wait for the page."""
    page.locator(f'#content a[href="{path}"]').first.click()
    wait_for_page(page, f"{base_url}{path}")


def test_offline_a_page_visited_before_opens_and_one_never_visited_shows_the_offline_page(open_page, base_url, site):
    visited = f"{base_url}{site['visited'].get_absolute_url()}"
    never = f"{base_url}{site['never'].get_absolute_url()}"
    page = open_page(f"{base_url}/music/albums/")
    wait_controlled(page)
    follow(page, site["visited"].get_absolute_url(), base_url)
    wait_kept(page, visited)
    page.context.set_offline(True)
    indicator = page.locator("[data-offline-indicator]")
    indicator.wait_for(state="visible", timeout=WAIT)
    assert indicator.inner_text() == "Offline: showing the pages and music kept on this device"
    # A link (htmx) to a page never visited: the offline page is swapped in, at the address asked for.
    artist = site["visited"].artist.get_absolute_url()
    page.locator(f'#content a[href="{artist}"]').first.click()
    wait_for_page(page, f"{base_url}{artist}")
    page.get_by_role("heading", name="You are offline").wait_for(timeout=WAIT)
    indicator.wait_for(state="visible", timeout=WAIT)
    # A full load of the page visited before: the worker's copy.
    page.goto(visited)
    assert page.locator("h1").inner_text() == "Music Has the Right"
    indicator.wait_for(state="visible", timeout=WAIT)
    # A page never visited, loaded in full: the offline page.
    page.goto(never)
    assert page.locator("h1").inner_text() == "You are offline"
    assert page.url == never
    page.context.set_offline(False)
    page.goto(never)
    assert page.locator("h1").inner_text() == "Geogaddi"
    indicator.wait_for(state="hidden", timeout=WAIT)


def test_a_listeners_pages_are_kept_apart_and_logging_out_clears_them_and_their_saved_music(
    open_page, base_url, site, alice
):
    page = open_page(f"{base_url}/music/albums/")
    wait_controlled(page)
    browser.log_in(page, base_url, "alice", next_path="/music/albums/")
    follow(page, site["visited"].get_absolute_url(), base_url)
    page.get_by_role("link", name="Liked songs").click()
    liked = f"{base_url}/music/liked/"
    wait_for_page(page, liked)
    wait_kept(page, liked)
    names = cache_names(page)
    version = re.fullmatch(r"syro-static-([0-9a-f]{16})", names[-1]).group(1)
    mine = f"syro-pages-{alice.pk}-{version}"
    assert mine in names
    assert liked in cached_urls(page, mine)
    # Nothing of Alice's went to the cache of anonymous pages.
    assert f"syro-pages-anon-{version}" not in names or liked not in cached_urls(page, f"syro-pages-anon-{version}")
    # Her saved music (sw-saved.js keeps it in syro-saved-<listener>) goes with her too.
    page.evaluate(
        "async (name) => (await caches.open(name)).put('/audio/1/abc.mp3', new Response('x'))", f"syro-saved-{alice.pk}"
    )
    page.get_by_role("button", name="Log out").click()
    page.locator(".account").get_by_role("link", name="Sign up").wait_for(timeout=WAIT)
    wait_gone(page, f"syro-pages-{alice.pk}-", f"syro-saved-{alice.pk}")
    # Offline, her private page is not there to see: the offline page is.
    page.context.set_offline(True)
    page.goto(liked)
    assert page.locator("h1").inner_text() == "You are offline"


def test_a_listeners_pages_last_one_browser_session_while_anonymous_pages_stay(open_page, base_url, site, alice):
    page = open_page(f"{base_url}/music/albums/")
    wait_controlled(page)
    albums = f"{base_url}/music/albums/"
    page.reload()  # now through the worker: kept
    wait_kept(page, albums)
    browser.log_in(page, base_url, "alice", next_path="/music/albums/")
    page.get_by_role("link", name="Liked songs").click()
    liked = f"{base_url}/music/liked/"
    wait_for_page(page, liked)
    wait_kept(page, liked)
    # The browser closes and opens again: its session cookies are gone (the login lasts: it has an expiry).
    page.context.clear_cookies(name="syro_sw_session")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Albums").click()
    wait_for_page(page, albums)  # an htmx swap: not a new page load, no new session
    assert liked in [url for name in cache_names(page) if name.startswith(f"syro-pages-{alice.pk}-")
                     for url in cached_urls(page, name)]
    page.reload()
    wait_until(page, f"async (url) => !(await ({KEPT})(url))", liked)
    assert page.evaluate("() => document.cookie").count("syro_sw_session=1") == 1
    # The anonymous pages are nobody's: they stay.
    assert any(albums in cached_urls(page, name) for name in cache_names(page) if name.startswith("syro-pages-anon-"))


def test_offline_the_first_page_of_a_new_browser_session_is_not_the_last_sessions_private_page(
    open_page, base_url, site, alice
):
    page = open_page(f"{base_url}/music/albums/")
    wait_controlled(page)
    browser.log_in(page, base_url, "alice", next_path="/music/albums/")
    page.get_by_role("link", name="Liked songs").click()
    liked = f"{base_url}/music/liked/"
    wait_for_page(page, liked)
    wait_kept(page, liked)
    saved = f"syro-saved-{alice.pk}"
    page.evaluate("async (name) => (await caches.open(name)).put('/audio/1/abc.mp3', new Response('x'))", saved)
    # The browser closes and opens again, offline: the first page loads before offline.js could say so.
    page.context.clear_cookies(name="syro_sw_session")
    page.context.set_offline(True)
    page.goto(liked)
    assert page.locator("h1").inner_text() == "You are offline"
    wait_gone(page, f"syro-pages-{alice.pk}-")
    # Her login lasts (its cookie has an expiry): she is still the one listening, her saved music stays.
    assert "sessionid" in [cookie["name"] for cookie in page.context.cookies()]
    assert saved in cache_names(page)


@pytest.fixture
def static_copy(settings, tmp_path):
    """The project's static files in a directory of the test's own, to change as a deploy would."""
    copy = tmp_path / "static"
    shutil.copytree(settings.BASE_DIR / "static", copy)
    settings.STATICFILES_DIRS = [copy]
    return copy


def worker_version(page):
    return page.evaluate(
        """() => new Promise((resolve) => { const channel = new MessageChannel();
            channel.port1.onmessage = (event) => resolve(event.data.version);
            navigator.serviceWorker.controller.postMessage({type: 'version'}, [channel.port2]); })"""
    )


def test_a_deploys_new_worker_replaces_the_old_one_and_its_caches_when_the_listener_says_update_now(
    open_page, base_url, site, static_copy
):
    page = open_page(f"{base_url}/music/albums/")
    wait_controlled(page)
    old = worker_version(page)
    page.reload()
    wait_kept(page, f"{base_url}/music/albums/")
    page.evaluate("async () => (await caches.open('syro-saved-anon')).put('/audio/1/abc.mp3', new Response('x'))")
    assert page.locator("[data-update-notice]").is_hidden()
    css = static_copy / "syromusic" / "site.css"
    css.write_text(css.read_text() + "\n.deployed { color: inherit; }\n")
    # The next page loaded in full checks /sw.js: a new worker installs and waits for the old one's pages.
    page.reload()
    notice = page.locator("[data-update-notice]")
    notice.wait_for(state="visible", timeout=WAIT)
    assert worker_version(page) == old  # still the old one, until the listener says
    # The old page is marked: the new worker takes over, and offline.js reloads the page (a page without the mark).
    page.evaluate("() => { window.syroBeforeUpdate = true; }")
    with page.expect_navigation(timeout=WAIT):
        notice.get_by_role("button", name="Update now").click()
    page.wait_for_function("() => !window.syroBeforeUpdate && navigator.serviceWorker.controller", timeout=WAIT)
    page.wait_for_load_state()
    new = worker_version(page)
    assert new != old
    wait_until(page, "async (old) => (await caches.keys()).every((name) => !name.endsWith(old))", old)
    names = cache_names(page)
    assert f"syro-static-{new}" in names
    assert "syro-saved-anon" in names  # saved music outlives a deploy
    assert notice.is_hidden()
    assert "/static/syromusic/site.css" in [url.removeprefix(base_url) for url in cached_urls(page, f"syro-static-{new}")]
