"""Fixtures for SyroMusic's tests beyond the project-wide ones in the root conftest.py."""

import pytest

from SyroMusic.tests import audio_files, browser
from SyroMusic.tests.factories import make_user


@pytest.fixture(autouse=True, scope="session")
def _audio_cache(tmp_path_factory):
    # Each generated audio file is encoded once per session, here, then copied where a test wants it.
    audio_files.use_cache_directory(tmp_path_factory.mktemp("audio-cache"))


@pytest.fixture
def music_folder(tmp_path):
    """An empty music folder for a test to fill with audio_files builders."""
    folder = tmp_path / "music"
    folder.mkdir()
    return folder


# The three listeners of the permission tests (STYLE.md): Alice owns, Bob collaborates, Charlie is a stranger.
@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def bob():
    return make_user("bob")


@pytest.fixture
def charlie():
    return make_user("charlie")


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium for the player's tests (one per test module): audio may start from script, and the
    speakers stay silent while the page still hears it (--mute-audio: an AnalyserNode sees the music)."""
    with browser.chromium([*browser.PLAYER_ARGS, "--mute-audio"]) as running:
        yield running
