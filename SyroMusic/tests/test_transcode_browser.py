"""The web player's data saver in a real headless Chromium: with it on, songs play from the server's
transcoded copy (Opus at 96 kbps, which Chromium plays), streamed by the live server as it is made."""

import pytest

from SyroMusic.models import Profile

from . import browser
from .factories import make_user

WAIT = browser.WAIT_MS


@pytest.fixture
def page(chromium, live_server, transactional_db, tmp_path):
    browser.playable_songs(tmp_path, ["Alpha Tide", "Bravo Hill"], seconds=8)
    dana = make_user("dana")
    Profile.objects.update_or_create(user=dana, defaults={"data_saver": True})
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.errors = browser.watch(opened)
    browser.log_in(opened, live_server.url, "dana", next_path="/music/songs/")
    yield opened
    errors = opened.errors
    browser.finish(opened)
    assert errors == []


def test_with_the_data_saver_on_the_player_plays_a_96_kbps_opus_copy(page):
    page.get_by_role("button", name="Play Alpha Tide", exact=True).click()
    page.wait_for_function(
        """() => { const p = window.syroPlayer;
            return p && p.track && p.track.title === "Alpha Tide" && p.playing && p.currentTime > 0.5; }""",
        timeout=WAIT,
    )
    source = page.evaluate("() => window.syroPlayer.elements.find(element => !element.paused).src")
    song = page.evaluate("() => window.syroPlayer.track.audio")
    assert source.endswith(song.removesuffix(".mp3") + "/96.opus")
