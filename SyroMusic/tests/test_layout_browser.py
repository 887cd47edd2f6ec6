"""The #18 layout in real headless Chromium: the phone header (one short row, search and menu behind buttons that
work by mouse, keyboard and without JavaScript), no sideways scrolling at 375 px, the A–Z bar on one line."""

import pytest

from SyroMusic.models import Album, Artist, Playlist

from . import browser as chromium_tools
from .browser import shot
from .factories import seed_catalogue

PHONE = {"width": 375, "height": 800}


@pytest.fixture(scope="module")
def browser():
    with chromium_tools.chromium() as chromium:
        yield chromium


@pytest.fixture
def site(browser, live_server, transactional_db):
    seed_catalogue(300)
    contexts = []

    def open_page(path, *, viewport=PHONE, javascript=True):
        context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        page.errors = chromium_tools.watch(page)
        page.goto(live_server.url + path)
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            assert page.errors == [], page.errors
        context.close()
    chromium_tools.server_idle()


def header_height(page):
    return page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")


def overflow(page):
    """How far the page reaches past the viewport's width, in CSS pixels (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_at_375_px_the_header_is_one_short_row_and_no_page_scrolls_sideways(site):
    album = Album.objects.order_by("pk").first()
    playlist = Playlist.objects.filter(is_public=True).order_by("pk").first()
    artist = Artist.objects.order_by("pk").first()
    paths = ["/music/songs/", album.get_absolute_url(), playlist.get_absolute_url(), "/music/search/?q=the",
             artist.get_absolute_url()]
    measured = {}
    for path in paths:
        page = site(path)
        measured[path] = (header_height(page) <= 64, overflow(page))
        shot(page, "layout-375" + path.replace("/", "-").replace("?", "-"))
    assert measured == dict.fromkeys(paths, (True, 0))


def test_the_phone_menu_and_search_open_from_their_buttons(site):
    from playwright.sync_api import expect

    page = site("/music/songs/")
    nav_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Artists")
    search_field = page.get_by_role("combobox", name="Search the catalogue")
    assert not nav_link.is_visible() and not search_field.is_visible()

    page.locator(".header-menu > summary").click()
    assert nav_link.is_visible()
    assert page.get_by_role("link", name="Sign up").is_visible()
    assert header_height(page) <= 64  # the menu drops over the page, the header keeps its height
    assert overflow(page) == 0
    shot(page, "layout-375-menu-open", full_page=False)

    page.locator(".header-search > summary").click()
    assert search_field.is_visible()
    expect(nav_link).to_be_hidden(timeout=chromium_tools.WAIT_MS)  # opening one closes the other (header.js, on "toggle")
    page.wait_for_function("document.activeElement?.id === 'site-search-q'")
    assert overflow(page) == 0


def test_the_phone_menu_opens_and_closes_by_keyboard(site):
    page = site("/music/songs/")
    menu = page.locator(".header-menu > summary")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.querySelector('.header-menu > summary')"):
            break
    assert page.evaluate("document.activeElement.textContent") == "Menu"
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") is None  # a native disclosure: the browser reports its state
    assert page.locator(".header-menu").evaluate("details => details.open") is True
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Artists"
    page.keyboard.press("Escape")
    assert page.locator(".header-menu").evaluate("details => details.open") is False
    assert page.evaluate("document.activeElement.textContent") == "Menu"


def test_the_phone_menu_works_without_javascript(site):
    page = site("/music/songs/", javascript=False)
    page.locator(".header-menu > summary").click()
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Albums").is_visible()
    page.locator(".header-search > summary").click()
    assert page.get_by_role("combobox", name="Search the catalogue").is_visible()


def test_at_1280_px_the_header_shows_everything_and_the_a_to_z_bar_is_one_line(site):
    page = site("/music/artists/", viewport={"width": 1280, "height": 900})
    assert page.locator(".header-toggle").evaluate_all("toggles => toggles.map(t => t.offsetParent)") == [None, None]
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Songs").is_visible()
    assert page.get_by_role("combobox", name="Search the catalogue").is_visible()
    tops = page.locator(".letters a").evaluate_all("keys => keys.map(key => key.getBoundingClientRect().top)")
    assert len(tops) == 28
    assert set(tops) == {tops[0]}
    shot(page, "layout-1280-artists")
