"""The demo plays: `seed_catalogue --audio` writes real files for the songs a newcomer sees first, tagged with
the catalogue's names, and scans them so those songs play (SyroMusic.demo_audio + the library scan)."""

import hashlib
import io
import os
import pathlib

import av
import pytest
from django.core.management import call_command
from PIL import Image

from SyroMusic import demo_audio
from SyroMusic.demo_audio import DemoFile, album_cover, demo_audio_plan, demo_lyrics
from SyroMusic.models import Album, Artist, AudioFile, Song

from .factories import make_song

pytestmark = pytest.mark.django_db

CODECS = {"mp3": "mp3", "ogg": "vorbis", "opus": "opus", "m4a": "aac", "flac": "flac"}


@pytest.fixture(autouse=True)
def _small_demo(monkeypatch):
    # The demo's plan in miniature: 3 albums x 2 tracks and the 2 most popular songs, a second or so each.
    monkeypatch.setattr(demo_audio, "DEMO_ALBUMS", 3)
    monkeypatch.setattr(demo_audio, "TRACKS_PER_ALBUM", 2)
    monkeypatch.setattr(demo_audio, "POPULAR_SONGS", 2)
    monkeypatch.setattr(demo_audio, "SECONDS", (1.0, 1.5))


def seed(folder, **options):
    out, err = io.StringIO(), io.StringIO()
    options = {"songs": 60, "no_progress": True, "audio": True, "audio_folder": str(folder), **options}
    call_command("seed_catalogue", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def newest_album_ids(count):
    return list(Album.objects.exclude(release_date=None).newest_first().values_list("id", flat=True)[:count])


def audio_files_state():
    return sorted(AudioFile.objects.values_list("song_id", "path", "content_hash", "size", "mtime_ns", "scanned_at"))


def test_seeding_with_audio_makes_the_first_tracks_of_the_newest_albums_and_the_popular_songs_play(tmp_path):
    seed(tmp_path / "music")
    newest = newest_album_ids(3)
    first_tracks = [
        song_id
        for album_id in newest
        for song_id in Song.objects.filter(album_id=album_id).in_tracklist_order().values_list("id", flat=True)[:2]
    ]
    popular = list(Song.objects.most_popular().values_list("id", flat=True)[:2])
    expected = set(first_tracks) | set(popular)
    assert set(Song.objects.playable().values_list("id", flat=True)) == expected
    for song in Song.objects.filter(id__in=expected).select_related("audio"):
        assert pathlib.Path(song.audio.path).is_relative_to((tmp_path / "music").resolve())
        assert 1000 <= song.duration_ms == song.audio.duration_ms <= 1600


def test_the_scan_matches_every_demo_file_to_its_song_and_creates_nothing(tmp_path):
    seed(tmp_path / "music", audio=False)
    counts = (Artist.objects.count(), Album.objects.count(), Song.objects.count())
    out, err = seed(tmp_path / "music", if_empty=True)
    assert (Artist.objects.count(), Album.objects.count(), Song.objects.count()) == counts
    assert "artists created" not in out and "songs created" not in out
    assert err == ""


def test_each_demo_song_has_a_file_of_its_own_that_decodes_in_its_format(tmp_path):
    seed(tmp_path / "music")
    hashes = set()
    formats = set()
    for audio in AudioFile.objects.all():
        with av.open(audio.path) as container:
            stream = container.streams.audio[0]
            decoded = sum(frame.samples for frame in container.decode(stream))
            assert stream.codec.canonical_name == CODECS[audio.format]
            assert (stream.channels, stream.sample_rate) == (2, 48000 if audio.format == "opus" else 44100)
        assert decoded / stream.sample_rate == pytest.approx(audio.duration_ms / 1000, abs=0.05)
        hashes.add(hashlib.sha256(pathlib.Path(audio.path).read_bytes()).hexdigest())
        formats.add(audio.format)
    assert len(hashes) == AudioFile.objects.count() == Song.objects.playable().count()
    # Three newest albums, one format each in turn; the popular songs' albums go on with the turn.
    assert {"mp3", "ogg", "opus"} <= formats


def test_the_albums_with_demo_audio_get_covers_that_differ(tmp_path):
    seed(tmp_path / "music")
    album_ids = set(Song.objects.playable().values_list("album_id", flat=True))
    covers = dict(Album.objects.filter(id__in=album_ids).values_list("id", "cover_hash"))
    assert all(covers.values())
    assert len(set(covers.values())) == len(covers)


def test_the_first_track_of_every_third_album_has_synced_lyrics(tmp_path):
    seed(tmp_path / "music")
    newest = newest_album_ids(1)[0]
    first = Song.objects.filter(album_id=newest).in_tracklist_order().first()
    second = Song.objects.filter(album_id=newest).in_tracklist_order()[1]
    assert first.synced_lyrics and first.synced_lyrics[0][0] == 0
    assert first.lyrics == "\n".join(line for _, line in first.synced_lyrics)
    assert second.synced_lyrics is None and second.lyrics == ""


def test_a_second_run_writes_nothing_and_scans_nothing(tmp_path):
    seed(tmp_path / "music")
    before = audio_files_state()
    files = {path: path.stat().st_mtime_ns for path in (tmp_path / "music").rglob("*")}
    out, _ = seed(tmp_path / "music", if_empty=True)
    assert "The catalogue already has data: nothing seeded." in out
    assert "0 files written" in out and "Scanned" not in out
    assert audio_files_state() == before
    assert {path: path.stat().st_mtime_ns for path in (tmp_path / "music").rglob("*")} == files


def test_if_empty_without_audio_still_skips_everything(tmp_path):
    seed(tmp_path / "music", audio=False)
    out, _ = seed(tmp_path / "music", audio=False, if_empty=True)
    assert out == "The catalogue already has data: nothing seeded.\n"
    assert not (tmp_path / "music").exists()
    assert not Song.objects.playable().exists()


def test_a_catalogue_seeded_without_audio_gets_it_on_the_next_run(tmp_path):
    seed(tmp_path / "music", audio=False)
    assert not Song.objects.playable().exists()
    seed(tmp_path / "music", if_empty=True)
    assert Song.objects.playable().count() == len(demo_audio_plan(folder=tmp_path / "music"))


def test_a_deleted_demo_file_is_made_again_and_attached(tmp_path):
    seed(tmp_path / "music")
    audio = AudioFile.objects.order_by("id").first()
    os.remove(audio.path)
    out, _ = seed(tmp_path / "music", if_empty=True)
    assert "1 files written" in out
    assert pathlib.Path(audio.path).exists()
    assert Song.objects.get(id=audio.song_id).audio.path == audio.path


def test_a_deleted_folder_cover_is_made_again_without_touching_the_songs(tmp_path):
    seed(tmp_path / "music")
    cover = sorted((tmp_path / "music").rglob(demo_audio.FOLDER_COVER))[0]
    data = cover.read_bytes()
    cover.unlink()
    out, _ = seed(tmp_path / "music", if_empty=True)
    assert "0 files written" in out
    assert cover.read_bytes() == data


def test_a_reseeded_catalogue_gets_its_own_files_and_the_old_ones_go(tmp_path):
    seed(tmp_path / "music")
    old_paths = set(AudioFile.objects.values_list("path", flat=True))
    seed(tmp_path / "music", flush=True, seed=2)
    new_paths = set(Song.objects.playable().values_list("audio__path", flat=True))
    assert new_paths and not new_paths & old_paths
    assert not any(pathlib.Path(path).exists() for path in old_paths)
    on_disk = {str(path) for path in (tmp_path / "music").rglob("*") if path.suffix in demo_audio.EXTENSIONS.values()}
    assert on_disk == new_paths


def test_the_demo_leaves_songs_with_files_of_their_own_alone(tmp_path):
    seed(tmp_path / "music", audio=False)
    newest_first_track = Song.objects.filter(album_id=newest_album_ids(1)[0]).in_tracklist_order().first()
    AudioFile.objects.create(
        song=newest_first_track, path="/srv/music/own.flac", format="flac", codec="flac", bitrate=900_000,
        sample_rate=44100, channels=2, duration_ms=1000, size=1, mtime_ns=1, content_hash="0" * 64,
    )
    plan = demo_audio_plan(folder=tmp_path / "music")
    assert newest_first_track.id not in {entry.song_id for entry in plan}
    assert len(plan) >= 5


def test_a_folder_the_demo_did_not_make_is_never_cleaned(tmp_path):
    folder = tmp_path / "music"
    (folder / "mine").mkdir(parents=True)
    (folder / "mine" / "song.mp3").write_bytes(b"a listener's own file")
    seed(folder, audio=False)
    plan = demo_audio_plan(folder=folder)
    demo_audio.demo_audio_write(folder=folder, plan=plan)
    assert (folder / "mine" / "song.mp3").read_bytes() == b"a listener's own file"


def test_demo_files_are_laid_out_by_album_artist_and_album(tmp_path):
    make_song(title="Ça/va", album=Album.objects.create(title="..Über", artist=Artist.objects.create(name="AC/DC")))
    (entry,) = demo_audio_plan(folder=tmp_path, albums=0, popular=1)
    assert entry.path == "AC-DC/Über/1-01 Ça-va.mp3"


def test_long_names_are_cut_to_fit_a_file_system():
    assert len(demo_audio._file_name("ü" * 300).encode()) <= demo_audio.NAME_BYTES
    assert demo_audio._file_name("\x00\n ") == "untitled"


def test_album_covers_are_600_pixel_jpegs_that_differ_from_album_to_album():
    first, second = album_cover(1, "Golden Harbour", "Søren"), album_cover(2, "Golden Harbour", "Søren")
    assert first != second
    image = Image.open(io.BytesIO(first))
    assert (image.format, image.size) == ("JPEG", (600, 600))
    assert album_cover(1, "Golden Harbour", "Søren") == first


def test_demo_lyrics_follow_the_melody_within_the_song():
    entry = DemoFile(
        song_id=5, album_id=1, path="a.mp3", format="mp3", seconds=28.0, tags={"title": "T"}, cover="embedded",
        lyrics="embedded", album_title="A", album_artist="B",
    )
    lines = demo_lyrics(entry)
    times = [ms for ms, _ in lines]
    assert len(lines) >= 4
    assert times == sorted(times) and times[-1] < 26_000
    assert all(ms % 10 == 0 for ms in times)
