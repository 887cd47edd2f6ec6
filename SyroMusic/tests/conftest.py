"""Fixtures for SyroMusic's tests beyond the project-wide ones in the root conftest.py."""

import pytest

from SyroMusic.tests import audio_files


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
