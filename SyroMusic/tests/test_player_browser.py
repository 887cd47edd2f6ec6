"""A song plays in a real headless Chromium (Debian's): a listener logs in, opens the song's page, plays its
<audio> control, and seeks; the app alone sends the bytes (the live server), answering Chromium's range
requests. Skipped without Chromium, except under CI=true, where that is a failure."""

import os
import re
from http import HTTPStatus

import pytest

from SyroMusic.audio.probe import file_hash
from SyroMusic.models import AudioFile
from SyroMusic.services import song_pick_audio

from .audio_files import make_audio
from .factories import make_song, make_user
from .test_browser import ARGS, CHROMIUM, _missing

SECONDS = 10


@pytest.fixture(scope="module")
def chromium():
    reason = _missing()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # As in test_browser.py: Playwright's loop runs in this thread, and the tests' setup uses the database.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=[*ARGS, "--autoplay-policy=no-user-gesture-required"],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def playable_song(transactional_db, tmp_path):
    path = make_audio(tmp_path, "Ten seconds", format="mp3", seconds=SECONDS, sample_rate=22050, channels=2, seed=7)
    stat = path.stat()
    song = make_song("Ten Seconds", duration_ms=SECONDS * 1000)
    AudioFile.objects.create(
        song=song, path=str(path), format="mp3", codec="mp3", bitrate=128_000, sample_rate=22050, channels=2,
        duration_ms=SECONDS * 1000, size=stat.st_size, mtime_ns=stat.st_mtime_ns, content_hash=file_hash(path),
    )
    song_pick_audio(song_ids=[song.pk])
    song.refresh_from_db()
    return song


def test_a_listener_plays_a_song_on_its_page_and_seeks_to_the_middle(chromium, live_server, playable_song):
    make_user("dana")
    audio_url = playable_song.audio.get_absolute_url()
    page = chromium.new_page()
    errors, audio_answers = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    def record(response):
        if response.url.endswith(audio_url):
            audio_answers.append((response.status, response.request.headers.get("range"), response.headers.get("content-range")))

    page.on("response", record)
    try:
        page.goto(f"{live_server.url}/accounts/login/?next={playable_song.get_absolute_url()}")
        page.fill("#id_username", "dana")
        page.fill("#id_password", "correct horse battery")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"**{playable_song.get_absolute_url()}")
        player = page.get_by_label("Play Ten Seconds by")
        assert player.get_attribute("src") == audio_url
        player.evaluate("audio => { audio.muted = true; return audio.play(); }")
        page.wait_for_function("() => document.querySelector('audio').currentTime > 0.5", timeout=60_000)
        assert page.evaluate("() => document.querySelector('audio').duration") == pytest.approx(SECONDS, abs=0.2)
        player.evaluate("audio => { audio.currentTime = audio.duration / 2; }")
        page.wait_for_function(
            "() => { const audio = document.querySelector('audio'); return !audio.seeking && audio.currentTime > 5.3; }",
            timeout=60_000,
        )
        assert errors == []
        assert audio_answers, "Chromium fetched no audio"
        # Chromium asks for media by ranges (`bytes=0-` first, then where it seeks beyond what it has).
        for status, asked, answered in audio_answers:
            assert status == HTTPStatus.PARTIAL_CONTENT and re.fullmatch(r"bytes=\d+-\d*", asked), audio_answers
            first = int(asked[6:].split("-")[0])
            assert re.fullmatch(rf"bytes {first}-\d+/{os.stat(playable_song.audio.path).st_size}", answered)
    finally:
        page.close()
