"""The key listener flows in a real headless Chromium (Debian's), driven by Playwright.

Screenshots land in test-artifacts/. Without Chromium these tests are skipped with a
message, except under CI=true, where that is a failure.
"""

import re

import pytest

from . import browser as chromium_tools
from .browser import shot, wait_for_page
from .factories import seed_catalogue


@pytest.fixture(scope="module")
def browser():
    with chromium_tools.chromium() as chromium:
        yield chromium


@pytest.fixture
def catalogue(transactional_db):
    seed_catalogue(2000)


@pytest.fixture
def open_page(browser, live_server, catalogue):
    pages = []

    def open_page(path="/", width=1280, color_scheme="light"):
        page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=color_scheme)
        page.errors = []
        page.on("console", lambda message: message.type == "error" and page.errors.append(f"{path}: {message.text}"))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("response", lambda response: response.status >= 400 and page.errors.append(f"{response.status} {response.url}"))
        page.goto(live_server.url + path)
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        assert page.errors == [], page.errors
        page.close()
    chromium_tools.server_idle()


def test_a_listener_browses_home_artists_artist_album_song(open_page):
    page = open_page("/")
    assert page.title() == "SyroMusic · the music catalogue"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Artists").click()
    wait_for_page(page, "**/music/artists/")
    assert page.locator("h1").inner_text() == "Artists"
    artist_link = page.locator(".artist-card > a").nth(3)
    artist_name = artist_link.locator(".artist-name").inner_text()
    artist_link.click()
    wait_for_page(page, re.compile(r"/music/artists/\d+/$"))
    assert page.locator("h1").inner_text() == artist_name
    assert page.title() == f"{artist_name} · SyroMusic"
    page.locator(".album-card > a").first.click()
    wait_for_page(page, re.compile(r"/music/albums/\d+/$"))
    album_title = page.locator("h1").inner_text()
    assert page.title().startswith(f"{album_title} by ")
    assert page.get_by_role("heading", name="Tracklist").is_visible()
    song_link = page.locator("table.tracklist tbody a").first
    song_title = song_link.inner_text()
    song_link.click()
    wait_for_page(page, re.compile(r"/music/songs/\d+/$"))
    assert page.locator("h1").inner_text().startswith(song_title)
    assert page.locator(".facts").get_by_text(album_title).is_visible()


def test_a_listener_pages_through_songs_and_filters_by_genre(open_page):
    page = open_page("/music/songs/")
    assert page.locator(".page-of").inner_text() == "Page 1 of 40"
    pagination = page.get_by_role("navigation", name="Song pages")
    pagination.get_by_role("link", name="Next ›").click()
    wait_for_page(page, "**/music/songs/?page=2")
    assert page.locator(".page-of").inner_text() == "Page 2 of 40"
    pagination.get_by_role("link", name="Last »").click()
    wait_for_page(page, "**/music/songs/?page=40")
    assert page.locator("table.songs tbody tr").count() == 50

    # Choosing a genre applies at once (JavaScript); the count and the pages follow the filter.
    page.select_option("#id_genre", "jazz")
    wait_for_page(page, re.compile(r"genre=jazz"))
    count = int(page.locator(".count").inner_text().split()[0].replace(",", ""))
    assert 0 < count < 2000
    genres = {cell.inner_text() for cell in page.locator("table.songs tbody tr td:nth-child(2) a").all()}
    assert genres  # rows are shown
    if count > 50:
        page.get_by_role("navigation", name="Song pages").get_by_role("link", name="Next ›").click()
        wait_for_page(page, re.compile(r"genre=jazz.*page=2|page=2.*genre=jazz"))


def test_the_keyboard_reaches_the_content_through_the_skip_link(open_page):
    page = open_page("/music/albums/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # visible when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"


def test_screenshots_at_desktop_and_phone_widths_in_light_and_dark(open_page):
    for width, name in ((1280, "desktop"), (375, "phone")):
        for scheme in ("light", "dark"):
            for path, label in (("/", "home"), ("/music/albums/1/", "album")):
                page = open_page(path, width=width, color_scheme=scheme)
                # Nothing wider than the screen: no sideways scrolling on a phone.
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                shot(page, f"{label}-{name}-{scheme}")
    light = open_page("/", color_scheme="light").evaluate("getComputedStyle(document.body).backgroundColor")
    dark = open_page("/", color_scheme="dark").evaluate("getComputedStyle(document.body).backgroundColor")
    assert (light, dark) == ("rgb(255, 255, 255)", "rgb(20, 18, 27)")


def test_a_listener_logs_in_creates_a_playlist_adds_songs_and_reorders_by_drag_and_drop(open_page, django_user_model):
    from SyroMusic.models import Playlist, Song

    django_user_model.objects.create_user("dana", password="violet-harbour-77")
    songs = list(Song.objects.order_by("id")[:3])
    page = open_page("/accounts/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", "violet-harbour-77")
    page.get_by_role("button", name="Log in").click()
    wait_for_page(page, "**/")
    page.get_by_role("link", name="New playlist").click()
    page.fill("#id_name", "Drag test")
    page.get_by_role("button", name="Create playlist").click()
    wait_for_page(page, re.compile(r"/music/playlists/\d+/$"))
    playlist_url = page.url
    for song in songs:
        page.goto(page.url.split("/music/")[0] + song.get_absolute_url())
        page.select_option("#add-playlist", label="Drag test")
        page.get_by_role("button", name="Add", exact=True).click()
        wait_for_page(page, re.compile(rf"/music/songs/{song.pk}/$"))
        assert "Added “" in page.locator(".messages").inner_text()
    page.goto(playlist_url)
    titles = lambda: page.locator("table.tracklist tbody tr td:nth-child(3) a").all_inner_texts()
    assert titles() == [song.title for song in songs]
    # Drag the last row onto the first: it becomes first.
    page.drag_and_drop("table.tracklist tbody tr:nth-child(3)", "table.tracklist tbody tr:nth-child(1)")
    page.wait_for_load_state("load")
    from playwright.sync_api import expect

    # A locator assertion, not page.wait_for_function: the page's CSP forbids evaluating strings.
    expect(page.locator("table.tracklist tbody tr").first.locator("td:nth-child(3) a")).to_have_text(songs[2].title)
    assert titles() == [songs[2].title, songs[0].title, songs[1].title]
    positions = list(Playlist.objects.get(name="Drag test").entries.order_by("position").values_list("song_id", flat=True))
    assert positions == [songs[2].pk, songs[0].pk, songs[1].pk]
    # The same with the keyboard-reachable buttons, no dragging.
    page.get_by_role("button", name=f"Move {songs[2].title} down").click()
    expect(page.locator("table.tracklist tbody tr").first.locator("td:nth-child(3) a")).to_have_text(songs[0].title)
    assert titles()[:2] == [songs[0].title, songs[2].title]


def test_pages_and_the_api_docs_satisfy_the_content_security_policy(open_page):
    # open_page fails the test on any console error, and CSP violations are console errors.
    for path in ("/", "/music/albums/1/", "/music/songs/", "/accounts/login/", "/admin/login/"):
        page = open_page(path)
        assert page.title(), path
    docs = open_page("/api/v1/docs/")
    docs.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "SyroMusic API" in docs.locator(".swagger-ui .info .title").inner_text()


def test_the_header_box_suggests_as_you_type_and_the_keyboard_picks_one(open_page):
    from playwright.sync_api import expect

    from SyroMusic.models import Artist

    artist = Artist.objects.create(name="Led Zeppelin")
    page = open_page("/")
    box = page.get_by_role("combobox", name="Search the catalogue")
    box.press_sequentially("led z", delay=40)
    options = page.get_by_role("listbox", name="Suggestions").get_by_role("option")
    expect(options.first).to_have_text("Led Zeppelin Artist")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Escape")
    expect(page.get_by_role("listbox", name="Suggestions")).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("led z")
    box.press("Backspace")
    box.press_sequentially("z", delay=40)
    expect(options.first).to_have_text("Led Zeppelin Artist")
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "site-search-suggestion-0")
    shot(page, "search-suggestions")
    box.press("Enter")
    wait_for_page(page, re.compile(rf"/music/artists/{artist.pk}/$"))
    expect(page.locator("h1")).to_have_text("Led Zeppelin")


def test_without_javascript_the_header_box_is_a_plain_search_form(browser, live_server, catalogue):
    from playwright.sync_api import expect

    from SyroMusic.models import Artist

    Artist.objects.create(name="Beyoncé")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("combobox", name="Search the catalogue").fill("beyonce")
    page.get_by_role("search").first.get_by_role("button", name="Search").click()
    wait_for_page(page, re.compile(r"/music/search/\?q=beyonce$"))
    expect(page.get_by_role("heading", name="Artists")).to_be_visible()
    expect(page.locator("#results-artist + ul li a").first).to_have_text("Beyoncé")
    context.close()


def test_the_scripts_run_again_after_new_content_without_binding_anything_twice(open_page):
    from playwright.sync_api import expect

    from SyroMusic.models import Artist

    Artist.objects.create(name="Led Zeppelin")
    page = open_page("/")
    suggestions = []
    page.on("request", lambda request: "/music/search/suggest/" in request.url and suggestions.append(request.url))
    modules = page.locator("script[type=module]").evaluate_all("scripts => scripts.map(script => script.src)")
    assert len(modules) >= 4
    # What boosted navigation (htmx) will do: run every module's init again, and announce swapped-in
    # content (here a fresh copy of the header search form) with htmx:load.
    # The page modules export init(root); the player's and navigation's run once, outside #page.
    initialised = [src for src in modules if page.evaluate("async src => { const m = await import(src); if (m.init) { m.init(document); return true; } return false; }", src)]
    assert len(initialised) == 6, initialised
    page.evaluate("""() => {
        const form = document.querySelector("form.site-search");
        const fresh = form.cloneNode(true);
        form.replaceWith(fresh);
        fresh.dispatchEvent(new CustomEvent("htmx:load", {bubbles: true, detail: {elt: fresh}}));
        document.body.dispatchEvent(new CustomEvent("htmx:load", {bubbles: true, detail: {elt: document.body}}));
    }""")
    box = page.get_by_role("combobox", name="Search the catalogue")
    box.press_sequentially("led z", delay=40)
    expect(page.get_by_role("listbox", name="Suggestions").get_by_role("option").first).to_have_text("Led Zeppelin Artist")
    assert len(suggestions) == 1  # one listener on the box, not one per run
    box.press("Escape")
    expect(page.get_by_role("listbox", name="Suggestions")).to_be_hidden()
    expect(box).to_have_value("led z")
