"""Real audio files for tests, generated at test time (SyroMusic.audio.synth + encode), never downloaded.

Good files: make_audio (any format, tags, embedded cover, lyrics), make_cover (image bytes),
make_folder_cover and write_lrc (the sidecar files beside a song). Bad files, one builder per kind a
scan must report and skip: make_empty, make_truncated, make_corrupt, make_wrong_extension,
make_unreadable, make_dangling_symlink, make_absurd_tags.

Encoding costs tens of milliseconds a file, so each distinct file is encoded once per test session
into a cache folder (the tests' conftest.py points it into pytest's temporary directory) and copied
(never linked: tests change files) to where a test asks for it.
"""

import atexit
import functools
import hashlib
import io
import os
import pathlib
import random
import shutil
import tempfile

from PIL import Image, ImageDraw

from SyroMusic.audio.encode import write_audio
from SyroMusic.audio.synth import piece

EXTENSIONS = {"mp3": ".mp3", "flac": ".flac", "ogg": ".ogg", "opus": ".opus", "m4a": ".m4a", "wav": ".wav"}
FORMATS = tuple(EXTENSIONS)
RUNNING_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

# Tags with something to get wrong: accents, Cyrillic, CJK, an ampersand, MusicBrainz ids.
FULL_TAGS = {
    "title": "Ночь над Øresund — 東京の雨",
    "artist": "Søren Dvořák & the Zoës",
    "album_artist": "Søren Dvořák",
    "album": "Café Noir: Ça plane",
    "disc_number": 2,
    "track_number": 7,
    "year": 2019,
    "genre": "Bossa Nova",
    "composer": "Björn Ångström",
    "mb_track_id": "0f4f9e1c-3c8e-4a1b-9d43-2b8a0c6f1e21",
    "mb_album_id": "5e2b0b7a-6a52-4c1e-8f0b-7d3c2a1b9e84",
    "mb_artist_id": "9a1c7e3d-2f4b-4e6a-b8d0-1c5e7f9a3b62",
    "mb_album_artist_id": "3d6f8b2a-1e9c-4a7d-b5f0-6c8e2a4d7b19",
}
SYNCED_LYRICS = [(0, "Первая строка"), (450, "夜明けの二行目"), (900, "Troisième ligne, déjà")]
PLAIN_LYRICS = "Первая строка\n夜明けの二行目\nTroisième ligne, déjà"

_cache_directory = None


def use_cache_directory(path):
    """Encode into `path` from now on (the tests' conftest.py gives a session directory)."""
    global _cache_directory
    _cache_directory = pathlib.Path(path)
    _cached_file.cache_clear()


def _cache():
    global _cache_directory
    if _cache_directory is None:
        _cache_directory = pathlib.Path(tempfile.mkdtemp(prefix="syromusic-audio-"))
        atexit.register(shutil.rmtree, _cache_directory, ignore_errors=True)
    return _cache_directory


def make_audio(
    directory, name, *, format="mp3", seconds=1.0, sample_rate=22050, channels=1, seed=1, tags=None, cover=None,
    lyrics="", synced_lyrics=None, codec=None, bitrate=None,
):
    """A real audio file at directory/name (the format's extension is added when `name` has none).

    The music is synth.piece(seed): a different seed gives different bytes. tags: a dict as
    write_audio takes (None: untagged; FULL_TAGS has every tag). Returns the path.
    """
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    if not target.suffix:
        target = target.with_name(target.name + EXTENSIONS[format])
    source = _cached_file(
        format=format, seconds=seconds, sample_rate=sample_rate, channels=channels, seed=seed,
        tags=tuple(sorted((tags or {}).items())), cover=cover, lyrics=lyrics,
        synced_lyrics=tuple(tuple(line) for line in synced_lyrics) if synced_lyrics else None, codec=codec,
        bitrate=bitrate,
    )
    shutil.copyfile(source, target)
    return target


def audio_bytes(*, format="mp3", **options):
    """The bytes of the file make_audio would write with these options (for uploads in tests)."""
    with tempfile.TemporaryDirectory() as directory:
        return make_audio(directory, "song", format=format, **options).read_bytes()


@functools.cache
def _cached_file(*, format, seconds, sample_rate, channels, seed, tags, cover, lyrics, synced_lyrics, codec, bitrate):
    key = hashlib.sha256(
        repr((format, seconds, sample_rate, channels, seed, tags, cover, lyrics, synced_lyrics, codec, bitrate)).encode()
    ).hexdigest()[:24]
    path = _cache() / f"{key}{EXTENSIONS[format]}"
    if not path.exists():
        write_audio(
            path, samples=piece(seed, seconds=seconds, sample_rate=sample_rate, channels=channels),
            sample_rate=sample_rate, format=format, tags=dict(tags), cover=cover, lyrics=lyrics,
            synced_lyrics=list(synced_lyrics) if synced_lyrics else None, codec=codec, bitrate=bitrate,
        )
    return path


@functools.lru_cache(maxsize=64)
def make_cover(color=(200, 60, 40), size=(300, 300), format="PNG"):
    """Image bytes (PNG by default, or JPEG, WEBP, GIF): a square of `color` with a lighter disc in it."""
    image = Image.new("RGB", size, color)
    light = tuple(min(255, channel + 80) for channel in color)
    width, height = size
    ImageDraw.Draw(image).ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=light)
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def make_folder_cover(directory, name="cover.jpg", *, color=(40, 90, 200), size=(300, 300)):
    """An image file beside the songs (cover.jpg, folder.png, Front.JPG ...), its format from the extension."""
    path = pathlib.Path(directory) / name
    kind = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".gif": "GIF"}[path.suffix.lower()]
    path.write_bytes(make_cover(color, size, kind))
    return path


def write_lrc(audio_path, lines, *, offset_ms=None, tags=()):
    """A sidecar <stem>.lrc beside `audio_path`: lines are [(ms, text), ...]; offset_ms adds an [offset:] tag
    (LRC's sign: a positive offset makes the lines come sooner); tags are other (name, value) header tags."""
    path = pathlib.Path(audio_path).with_suffix(".lrc")
    header = [f"[{name}:{value}]" for name, value in tags]
    if offset_ms is not None:
        header.append(f"[offset:{offset_ms:+d}]")
    body = []
    for ms, text in lines:
        minutes, rest = divmod(ms, 60_000)
        body.append(f"[{minutes:02d}:{rest // 1000:02d}.{rest % 1000 // 10:02d}]{text}")
    path.write_text("\n".join(header + body) + "\n", encoding="utf-8")
    return path


def make_empty(directory, name="empty.mp3"):
    """A file of zero bytes with an audio extension."""
    path = pathlib.Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def make_truncated(directory, name="truncated.flac", format="flac", *, seconds=2.0, fraction=0.5):
    """A real file cut short: its first `fraction` of bytes, as an interrupted copy leaves it."""
    path = make_audio(directory, name, format=format, seconds=seconds, seed=2)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def make_corrupt(directory, name="corrupt.mp3", *, size=8192, seed=3):
    """Random bytes (no audio in them) under an audio extension."""
    path = pathlib.Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def make_wrong_extension(directory, name="really-flac.mp3", *, format="flac", tags=None):
    """A good file of one format named with another's extension (FLAC bytes called .mp3 by default)."""
    path = pathlib.Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(audio_bytes(format=format, tags=tags))
    return path


def make_unreadable(directory, name="locked.mp3", *, format="mp3"):
    """A file the scan cannot open, as the current user.

    Not root: a real audio file with permissions 000 (PermissionError). Root reads any file whatever
    its permissions, so as root: a symbolic link to itself, which nobody can open (OSError ELOOP,
    "Too many levels of symbolic links"). Either way `open(path, "rb")` raises OSError, and a scan
    must report the path and the reason. (Path.is_file() is False for the link: a scan that only
    looks at regular files skips it silently.)
    """
    path = pathlib.Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if RUNNING_AS_ROOT:
        path.symlink_to(path.name)
    else:
        make_audio(directory, name, format=format)
        path.chmod(0)
    return path


def make_dangling_symlink(directory, name="gone.mp3"):
    """A symbolic link to a file that does not exist (a moved music drive leaves these)."""
    path = pathlib.Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(f"missing-{path.name}")
    return path


ABSURD_TAGS = {
    "title": "Ab" * 2500,  # 5,000 characters
    "artist": "Absurd Artist",
    "album": "Absurd Album",
    "track_number": 99999,
    "disc_number": -1,
    "year": 0,
}


def make_absurd_tags(directory, name="absurd.mp3", *, format="mp3", tags=None):
    """A good file whose tags a database cannot take as they are: track 99999, disc -1, year 0 and a
    5,000-character title (ABSURD_TAGS, updated with `tags`). Formats with text tags only (not m4a,
    whose numbers are 16-bit in the file)."""
    if format == "m4a":
        raise ValueError("m4a holds track and disc numbers in 16 bits: no absurd values to write")
    return make_audio(directory, name, format=format, tags={**ABSURD_TAGS, **(tags or {})})
