"""A scan never takes an unmounted disk or an unreadable folder for a library whose files are gone."""

import io
import os

import pytest
from django.core.management import CommandError, call_command

from SyroMusic.models import AudioFile, Song

from .audio_files import make_audio

pytestmark = pytest.mark.django_db


def scan(path, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("scan_library", str(path), stdout=out, stderr=err, no_progress=True, workers=1, **options)
    return out.getvalue(), err.getvalue()


def library(folder):
    for number in (1, 2, 3):
        make_audio(folder / f"disc {number}", str(number), seed=number,
                   tags={"title": f"Song {number}", "artist": "Band", "album": "Album", "track_number": number})
    scan(folder)
    assert Song.objects.playable().count() == 3


def test_an_emptied_folder_stops_the_scan_and_changes_nothing(tmp_path):
    folder = tmp_path / "music"
    library(folder)
    for path in folder.rglob("*.mp3"):
        path.unlink()
    with pytest.raises(CommandError) as raised:
        scan(folder)
    assert raised.value.returncode == 2
    assert str(raised.value) == (
        f"{folder}: no audio file found, but the catalogue has 3 available there. Is the disk mounted? "
        "Nothing was changed; scan with --allow-empty to mark them all missing."
    )
    assert not AudioFile.objects.exclude(missing_since=None).exists()
    assert Song.objects.playable().count() == 3


def test_allow_empty_marks_every_file_of_an_emptied_folder_missing(tmp_path):
    folder = tmp_path / "music"
    library(folder)
    for path in folder.rglob("*.mp3"):
        path.unlink()
    out, _ = scan(folder, allow_empty=True)
    assert "files missing: 3" in out
    assert AudioFile.objects.filter(missing_since=None).count() == 0
    assert Song.objects.playable().count() == 0


def test_the_files_of_a_folder_that_cannot_be_read_are_not_marked_missing(tmp_path, monkeypatch):
    folder = tmp_path / "music"
    library(folder)
    unreadable = str(folder / "disc 2")
    real_scandir = os.scandir

    def scandir(path="."):
        # Root reads any folder whatever its permissions: refuse this one as an unreadable one is refused.
        if os.fspath(path) == unreadable:
            raise PermissionError(13, "Permission denied", unreadable)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(CommandError) as raised:
        scan(folder)
    assert raised.value.returncode == 1
    assert not AudioFile.objects.exclude(missing_since=None).exists()
    assert Song.objects.playable().count() == 3
