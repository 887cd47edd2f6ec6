"""Every page of the site, in a real headless Chromium, at 1280 and 375 px, light and dark, as an anonymous
visitor and as a listener with likes, playlists and listens: a screenshot of each into test-artifacts/look/
(<page>-<width>-<scheme>.png), no sideways scrolling at 375 px, a site header no taller than 64 px at 375 px,
no console error, and axe-core finds no serious or critical violation.

One test per visitor, width and scheme visits all its pages and collects every problem before it asserts once:
a page's failure does not hide the next page's. The pages are a list kept here; a test of the URL conf checks
that every named route is either visited or named below as no page of its own, so a new page cannot be
forgotten silently."""

import re
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection  # noqa: F401 (the skipif conditions below name it)
from django.db.models import Count
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone

from SyroMusic.demo import demo_listens_seed
from SyroMusic.models import Album, AppPassword, Artist, Like, Playlist, Profile, SearchHistory, Song

from . import browser
from .factories import make_playlist, make_user, seed_catalogue

WAIT = browser.WAIT_MS
LOOK = browser.ARTIFACTS / "look"
HEADER_MAX_PX = 64
ANONYMOUS, LISTENER = "anonymous", "listener"
# Pages both see: the anonymous visitor's copy differs from the listener's in the header's account part and the
# rows' personal actions, which a few pages show (home, songs, an album, a playlist, search, a profile, the 404);
# to keep the test's time in bounds the anonymous visitor sees those and its own pages, the listener every page.
BOTH = (ANONYMOUS, LISTENER)


@dataclass(frozen=True)
class Page:
    name: str  # the screenshot's name
    visitors: tuple
    path: object  # the path, or a function of the site's objects giving it


PAGES = [
    Page("home", BOTH, "/"),
    Page("artists", (LISTENER,), "/music/artists/"),
    Page("artist", (LISTENER,), lambda site: f"/music/artists/{site.artist.pk}/"),
    Page("albums-filtered", (LISTENER,), "/music/albums/?type=album&sort=newest"),
    Page("album", BOTH, lambda site: f"/music/albums/{site.album.pk}/"),
    Page("songs", BOTH, "/music/songs/"),
    Page("song", (LISTENER,), lambda site: f"/music/songs/{site.song.pk}/"),
    Page("playlists", (LISTENER,), "/music/playlists/"),
    Page("playlist-public", BOTH, lambda site: f"/music/playlists/{site.public_playlist.pk}/"),
    Page("search", BOTH, lambda site: f"/music/search/?q={site.artist.name.split()[0]}"),
    Page("search-nothing", (LISTENER,), "/music/search/?q=qqqzzzxxx"),
    Page("profile-other", BOTH, lambda site: f"/music/users/{site.public_playlist.owner.username}/"),
    Page("stats-public", (LISTENER,), "/music/users/dana/stats/"),
    Page("offline", (LISTENER,), "/offline/"),
    Page("not-found", BOTH, "/music/no-such-page/"),
    Page("login", (ANONYMOUS,), "/accounts/login/"),
    Page("signup", (ANONYMOUS,), "/accounts/signup/"),
    Page("password-reset", (ANONYMOUS,), "/accounts/password_reset/"),
    Page("password-reset-sent", (ANONYMOUS,), "/accounts/password_reset/done/"),
    Page("password-reset-bad-link", (ANONYMOUS,), "/accounts/reset/MQ/set-password/"),
    Page("password-reset-done", (ANONYMOUS,), "/accounts/reset/done/"),
    Page("playlist-own", (LISTENER,), lambda site: f"/music/playlists/{site.own_playlist.pk}/"),
    Page("playlist-empty", (LISTENER,), lambda site: f"/music/playlists/{site.empty_playlist.pk}/"),
    Page("playlist-new", (LISTENER,), "/music/playlists/new/"),
    Page("playlist-edit", (LISTENER,), lambda site: f"/music/playlists/{site.own_playlist.pk}/edit/"),
    Page("playlist-delete", (LISTENER,), lambda site: f"/music/playlists/{site.own_playlist.pk}/delete/"),
    Page("playlist-collaborators", (LISTENER,), lambda site: f"/music/playlists/{site.own_playlist.pk}/collaborators/"),
    Page("playlist-share", (LISTENER,), lambda site: f"/music/playlists/{site.own_playlist.pk}/share/"),
    Page("playlist-import", (LISTENER,), "/music/playlists/import/"),
    Page("add-to-playlist", (LISTENER,), lambda site: f"/music/songs/{site.song.pk}/add-to-playlist/"),
    Page("liked", (LISTENER,), "/music/liked/"),
    Page("saved", (LISTENER,), "/music/saved/"),
    Page("history", (LISTENER,), "/music/history/"),
    Page("history-clear", (LISTENER,), "/music/history/clear/"),
    Page("history-import", (LISTENER,), "/music/history/import/"),
    Page("stats", (LISTENER,), "/music/stats/"),
    Page("profile-own", (LISTENER,), "/music/users/dana/"),
    Page("profile-new-listener", (LISTENER,), "/music/users/newbie/"),
    Page("profile-settings", (LISTENER,), "/accounts/profile/"),
    Page("app-password-revoke", (LISTENER,), lambda site: f"/accounts/profile/apps/{site.app_password.pk}/revoke/"),
    Page("password-change", (LISTENER,), "/accounts/password_change/"),
    Page("password-change-done", (LISTENER,), "/accounts/password_change/done/"),
]

# Named routes that are no page to look at, and why. Everything else in the URL conf (but the admin's, the
# API's and the Subsonic API's, which are no pages of the site) must be visited above.
NOT_PAGES = {
    # Answers for scripts and players, not pages.
    "music:service-worker": "the service worker's script",
    "music:player-tracks": "JSON for the player",
    "music:player-track": "JSON for the player",
    "music:search-suggest": "the header box's suggestions (a fragment)",
    "music:song-row-actions": "a fragment of the row menu (row-actions.js)",
    "music:audio-file": "audio",
    "music:audio-transcoded": "audio",
    "music:cover": "an image",
    "music:playlist-export": "a playlist file download",
    "music:history-export": "a history file download",
    "healthz": "a health check",
    "readyz": "a health check",
    "front-upload-allowed": "the front server's upload check",
    # POST only: actions, which answer with a redirect to a page above or with JSON.
    "music:playlist-add": "POST only",
    "music:playlist-add-chosen": "POST only",
    "music:entry-remove": "POST only",
    "music:entry-move": "POST only",
    "music:like": "POST only",
    "music:history-remove": "POST only",
    "music:search-history-clear": "POST only",
    "music:search-history-remove": "POST only",
    "music:user-follow": "POST only",
    "music:user-unfollow": "POST only",
    "app-password-create": "POST only (its form is on the profile settings page)",
    "logout": "POST only",
    "password_reset_confirm": "visited with a link that is no longer valid (password-reset-bad-link)",
}


def pages_for(visitor):
    return [page for page in PAGES if visitor in page.visitors]


def route_name(path):
    """The URL conf's name for a path ("music:song-detail"), or None for a path it does not know (the 404)."""
    try:
        match = resolve(path.split("?")[0])
    except Resolver404:
        return None
    return match.view_name


def named_routes(patterns=None, namespace=""):
    """Every route name of the site's URL conf, with its namespace, leaving out the admin and the two APIs."""
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if re.match(r"^\^?(admin|api|rest|__debug__|bench)/", str(pattern.pattern)):
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= named_routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def example_site():
    """Stand-ins for the site's objects: the pages' paths need no database (the test of the URL conf)."""
    one = SimpleNamespace(pk=1, name="Some Artist", owner=SimpleNamespace(username="someone"))
    return SimpleNamespace(
        artist=one, album=one, song=one, public_playlist=one, own_playlist=one, empty_playlist=one, app_password=one
    )


def path_of(page, site):
    return page.path(site) if callable(page.path) else page.path


def test_every_named_page_of_the_url_conf_is_visited_or_named_as_no_page():
    visited = {route_name(path_of(page, example_site())) for page in PAGES}
    assert named_routes() - set(NOT_PAGES) - visited == set()
    assert set(NOT_PAGES) - named_routes() == set()  # no stale entry


@pytest.fixture
def site(transactional_db):
    """A demo catalogue; Dana, a listener with likes, two playlists (one empty), listens, an app password and
    searches; Newbie, a listener with nothing yet."""
    seed_catalogue(36, artists=4, albums=6, playlists=3, users=2)
    dana, _ = make_user("dana"), make_user("newbie")
    Profile.objects.create(user=dana, stats_public=True, bio="Listens to everything twice.")
    site = SimpleNamespace()
    site.artist = Artist.objects.annotate(count=Count("albums")).order_by("-count", "id").first()
    site.album = Album.objects.annotate(count=Count("songs")).order_by("-count", "id").first()
    site.song = site.album.songs.order_by("disc_number", "track_number").first()
    site.public_playlist = (
        Playlist.objects.filter(is_public=True).annotate(count=Count("entries")).order_by("-count", "id")
        .select_related("owner").first()
    )
    songs = list(Song.objects.order_by("id")[:15])
    site.own_playlist = make_playlist(dana, "Road trip", songs=songs, description="For the long drive north.")
    site.empty_playlist = make_playlist(dana, "Nothing yet")
    now = timezone.now()
    Like.objects.bulk_create(
        Like(user=dana, song=song, liked_at=now - timedelta(days=number)) for number, song in enumerate(songs[:8])
    )
    Like.objects.create(user=dana, album=site.album)
    Like.objects.create(user=dana, artist=site.artist)
    demo_listens_seed(user=dana, count=80, days=40)
    site.app_password, _ = AppPassword.create(dana, "Phone (Symfonium)")
    SearchHistory.objects.create(user=dana, query=site.artist.name)
    return site


@pytest.fixture
def open_tabs(chromium, live_server, site):
    """Two tabs of one browser context for a visitor at a width and scheme (logged in as Dana for the listener),
    with axe-core in every page they load; closed, and the live server idle, at the end."""
    from axe_playwright_python.sync_playwright import Axe

    contexts = []

    def opener(visitor, width, scheme):
        context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
        context.add_init_script(Axe().axe_script)
        contexts.append(context)
        tabs = [context.new_page() for _ in range(2)]
        for tab in tabs:
            tab.errors = []
            tab.on("console", lambda message, tab=tab: message.type == "error" and tab.errors.append(message.text))
            tab.on("pageerror", lambda error, tab=tab: tab.errors.append(str(error)))
        if visitor == LISTENER:
            browser.log_in(tabs[0], live_server.url, "dana")
        return tabs

    yield opener
    for context in contexts:
        for page in context.pages:
            browser.leave(page)
        context.close()
    browser.server_idle()


# The widest element past the screen's right edge at its outermost (not one inside a box that scrolls or clips
# it, which the page itself does not scroll for), named as a CSS path with a bit of its text.
WIDEST_OFFENDER = """() => {
    const edge = window.innerWidth;
    const clipped = element => {
        for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
            if (getComputedStyle(parent).overflowX !== 'visible') return true;
        }
        return false;
    };
    const name = element => {
        const parts = [];
        for (let at = element; at && at !== document.body && parts.length < 4; at = at.parentElement) {
            let part = at.tagName.toLowerCase();
            if (at.id) part += '#' + at.id;
            else if (at.classList.length) part += '.' + [...at.classList].join('.');
            parts.unshift(part);
        }
        return parts.join(' > ');
    };
    let widest = null;
    for (const element of document.body.querySelectorAll('*')) {
        const box = element.getBoundingClientRect();
        if (box.width === 0 || box.right <= edge + 0.5 || clipped(element)) continue;
        // Not drawn (a closed menu's panel, content-visibility: hidden): no part of the page's width.
        if (!element.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true})) continue;
        if (!widest || box.right > widest.right) widest = {element, right: box.right, width: box.width};
    }
    if (!widest) return 'none found';
    const text = (widest.element.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    return `${name(widest.element)} ("${text}") reaches ${Math.round(widest.right)} px, ${Math.round(widest.width)} px wide`;
}"""

# The header's own bar: the offline indicator and the update notice take a row of their own under it while
# they have something to say (the offline page always shows the indicator), and are not counted.
HEADER_HEIGHT = """() => {
    const header = document.querySelector('header.site-header') || document.querySelector('body header');
    if (!header) return null;
    const notices = [...header.querySelectorAll('.offline-indicator, .update-notice')]
        .filter(notice => notice.checkVisibility())
        .reduce((sum, notice) => sum + notice.getBoundingClientRect().height
            + (parseFloat(getComputedStyle(header).rowGap) || 0), 0);
    return header.getBoundingClientRect().height - notices;
}"""

# axe-core runs in the page while the test goes on with the other tab; the answer is kept short.
# Colour contrast, axe's slowest rule by far, is checked at 1280 px in both schemes: the phone layout changes
# sizes and places, not colours. Every other rule runs at both widths.
START_AXE = """phone => { window.lookAxe = axe.run(document, {
    resultTypes: ['violations'], rules: phone ? {'color-contrast': {enabled: false}} : {}}); }"""
AXE_FOUND = """async () => (await window.lookAxe).violations
    .filter(violation => violation.impact === 'serious' || violation.impact === 'critical')
    .map(violation => `axe ${violation.id} (${violation.impact}): ${violation.help} at `
        + violation.nodes.slice(0, 6).map(node => node.target.join(' ')).join('; ')
        + (violation.nodes.length > 6 ? ` and ${violation.nodes.length - 6} more` : ''))"""


class Visit:
    """One page in a tab: what it found at once (answer, overflow, header), then, when asked, axe-core's."""

    def __init__(self, tab, base_url, path, name, width, scheme):
        self.tab, self.where = tab, f"{name} ({path}) at {width} px, {scheme}"
        self.problems = []
        tab.errors.clear()
        response = tab.goto(base_url + path, timeout=WAIT)
        expected = 404 if name.startswith("not-found") else 200
        if response.status != expected:
            self.problems.append(f"answered {response.status}, not {expected}")
        tab.wait_for_function(
            "() => { const page = document.getElementById('page'); return !page || !page.hasAttribute('aria-busy'); }",
            timeout=WAIT,
        )
        LOOK.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(LOOK / f"{name}-{width}-{scheme}.png"), full_page=True)
        if width == 375:
            scroll_width = tab.evaluate("() => document.documentElement.scrollWidth")
            if scroll_width > tab.evaluate("() => window.innerWidth"):
                self.problems.append(
                    f"scrolls sideways: {scroll_width} px wide; widest: {tab.evaluate(WIDEST_OFFENDER)}"
                )
            header = tab.evaluate(HEADER_HEIGHT)
            if header is None or header > HEADER_MAX_PX:
                self.problems.append(f"site header {header} px tall (at most {HEADER_MAX_PX})")
        tab.evaluate(START_AXE, width == 375)

    def finish(self):
        """Every problem of the page, each a line naming the page, width and scheme."""
        self.problems += self.tab.evaluate(AXE_FOUND)
        self.problems += [
            f"console: {error}" for error in self.tab.errors
            if not (self.where.startswith("not-found") and "status of 404" in error)  # the page's own answer
        ]
        return [f"{self.where}: {problem}" for problem in self.problems]


# The pages' looks do not depend on the database, and the eight runs take minutes: all of them run in the
# SQLite half of make test, one (the listener on a phone: every page, every check but contrast) in the other.
ON_POSTGRESQL_TOO = (LISTENER, 375, "light")
RUNS = [
    pytest.param(
        visitor, width, scheme, id=f"{visitor}-{width}-{scheme}",
        marks=() if (visitor, width, scheme) == ON_POSTGRESQL_TOO else pytest.mark.skipif(
            "connection.vendor == 'postgresql'", reason="runs in the SQLite half: the looks do not depend on the database"
        ),
    )
    for visitor in BOTH for width in (1280, 375) for scheme in ("light", "dark")
]


@pytest.mark.parametrize(("visitor", "width", "scheme"), RUNS)
def test_every_page_looks_right_fits_the_screen_and_passes_axe(open_tabs, live_server, site, visitor, width, scheme):
    # Two tabs take turns: axe-core checks one page while the other tab loads the next.
    tabs = open_tabs(visitor, width, scheme)
    problems, running = [], [None, None]
    for number, entry in enumerate(pages_for(visitor)):
        turn = number % 2
        if running[turn]:
            problems += running[turn].finish()
        name = entry.name if visitor == LISTENER or LISTENER not in entry.visitors else f"{entry.name}-anonymous"
        running[turn] = Visit(tabs[turn], live_server.url, path_of(entry, site), name, width, scheme)
    for visit in filter(None, running):
        problems += visit.finish()
    # Also next to the screenshots, for whoever reads the artifacts of a CI run.
    (LOOK / f"problems-{visitor}-{width}-{scheme}.txt").write_text("".join(f"{line}\n" for line in problems))
    assert problems == [], "\n" + "\n".join(problems)
