"""The admin's song changelist in a real headless Chromium at 1280 px: its table fits without sideways
scrolling, with long titles and names in the catalogue. A screenshot goes to test-artifacts/."""

import pytest

from SyroMusic.admin import SongAdmin, duration

from . import browser
from .factories import make_album, make_artist, make_genre, make_song, seed_catalogue

WIDTH = 1280
# Long, unbroken-ish names as a real catalogue has them (classical works, compilations).
LONG_TITLE = "Symphony No. 9 in D minor, Op. 125 “Choral”: IV. Presto – Allegro assai – Andante maestoso"
LONG_ALBUM = "Beethoven: The Complete Symphonies, Overtures and Incidental Music (Remastered Anniversary Edition)"
LONG_ARTIST = "Berliner Philharmoniker, Rundfunkchor Berlin & Sir Simon Rattle"
# One word longer than any column.
LONG_WORD = "Taumatawhakatangihangakoauauotamateaturipukakapikimaungahoronukupokaiwhenuakitanatahu"


@pytest.fixture
def staff_page(chromium, live_server, transactional_db, django_user_model):
    seed_catalogue(120)
    album = make_album(LONG_ALBUM, make_artist(LONG_ARTIST))
    make_song(LONG_TITLE, album=album, disc_number=12, track_number=104, duration_ms=4_415_250, explicit=True,
              genre=make_genre("Contemporary Classical Crossover"))
    make_song(LONG_WORD, album=make_album(LONG_WORD, make_artist(LONG_WORD)), duration_ms=4_000_000)
    django_user_model.objects.create_superuser("root", "root@example.com", browser.PASSWORD)
    context = chromium.new_context(viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    page.errors = browser.watch(page)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/SyroMusic/song/")
    page.fill("#id_username", "root")
    page.fill("#id_password", browser.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#result_list", timeout=browser.WAIT_MS)
    yield page
    context.close()
    browser.server_idle()
    assert page.errors == []


def widths(page, selector):
    return page.locator(selector).evaluate("element => [element.scrollWidth, element.clientWidth]")


def test_the_song_changelist_fits_1280_px_without_sideways_scrolling(staff_page):
    page = staff_page
    # The longest song first, so that its row is on the page: sorted by the duration column, which widens its header.
    page.goto(page.url + f"?o=-{SongAdmin.list_display.index(duration) + 1}")
    titles = page.locator("#result_list tbody th").all_inner_texts()
    assert titles[:2] == [LONG_TITLE, LONG_WORD]
    results_width, results_visible = widths(page, "#changelist .results")
    page_width, page_visible = widths(page, "html")
    browser.shot(page, "admin-song-changelist-1280")
    assert results_width <= results_visible, (results_width, results_visible)
    assert page_width <= page_visible == WIDTH
