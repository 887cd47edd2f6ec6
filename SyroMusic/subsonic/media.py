"""The bytes behind the API: stream (the file, or a transcoded copy), download (the file) and getCoverArt.

stream's rule: the file itself unless the client asks for less than it is (maxBitRate under the file's
bit rate), for another format (format=mp3 or opus, not the file's), or for a start part way (timeOffset,
OpenSubsonic's transcodeOffset); format=raw is always the file. A client that limits the bit rate
without naming a format gets MP3, which every player plays. Files are sent with ranges (and by nginx
under `make serve`); transcoded copies as SyroMusic.web.transcoded sends them.
"""

import os
import stat as stat_kinds
from pathlib import Path

from django.conf import settings

from SyroMusic.audio.transcode import FORMATS, MAX_BITRATE, TranscodeError, target
from SyroMusic.models import COVER_SIZES, Album, Song, cover_file_name
from SyroMusic.web.files import send_file
from SyroMusic.web.transcoded import send_transcoded

from . import ids
from .core import GENERIC, NOT_FOUND, SubsonicError, method

# The URL carries the credentials and a fresh salt each time, and a song's file may be replaced by a
# scan: clients may keep what they fetched, but ask again (ETag) before using it.
CACHE_CONTROL = "private, no-cache"


@method("stream", raw=True)
def stream(request, params):
    audio = _audio(params)
    wanted = stream_target(audio, params)
    found = _song_file(audio)
    if wanted is None:
        return _send_file(request, audio, found)
    try:
        return send_transcoded(request, audio, wanted, cache_control=CACHE_CONTROL)
    except TranscodeError as error:
        raise SubsonicError(GENERIC, "The song could not be transcoded.") from error


@method("download", raw=True)
def download(request, params):
    audio = _audio(params)
    return _send_file(request, audio, _song_file(audio))


@method("getCoverArt", raw=True)
def get_cover_art(request, params):
    kind, pk = ids.kind(params.require("id"))
    size = params.int("size", None, minimum=0, maximum=100_000) or None  # 0: as large as there is
    if kind == "album":
        cover_hash = Album.objects.filter(pk=pk).values_list("cover_hash", flat=True).first()
    elif kind == "artist":
        # The artist's first album with a cover of its own, as getArtist's coverArt says.
        cover_hash = (
            Album.objects.filter(artist_id=pk).exclude(cover_hash="")
            .order_by("release_date", "id").values_list("cover_hash", flat=True).first()
        )
    else:
        cover_hash = Song.objects.filter(pk=pk).values_list("album__cover_hash", flat=True).first()
    if not cover_hash:
        raise SubsonicError(NOT_FOUND, "Cover art not found")
    width = cover_width(size)
    path = Path(settings.MEDIA_ROOT) / cover_file_name(cover_hash, width)
    found = _on_disk(path, "Cover art")
    return send_file(
        request, path, found, content_type="image/webp", cache_control=CACHE_CONTROL,
        accel_redirect=settings.AUDIO_ACCEL_REDIRECT,
    )


def cover_width(size):
    """The stored width (COVER_SIZES) for a requested size: the smallest at least as wide, else the largest."""
    if size is None:
        return COVER_SIZES[-1]
    return next((width for width in COVER_SIZES if width >= size), COVER_SIZES[-1])


def _audio(params):
    song_pk = ids.song(params.require("id"))
    song = (
        Song.objects.select_related("audio")
        .only("id", "title", *(f"audio__{name}" for name in (
            "path", "format", "bitrate", "content_hash", "size", "mtime_ns", "missing_since",
        )))
        .filter(pk=song_pk).first()
    )
    if song is None:
        raise SubsonicError(NOT_FOUND, "Song not found")
    if song.audio is None or song.audio.missing_since is not None:
        raise SubsonicError(NOT_FOUND, "The song has no audio file")
    song.audio.song = song
    return song.audio


def stream_target(audio, params):
    """The Target to make of the file for these parameters, or None to send the file itself."""
    format = (params.get("format") or "").strip().lower()
    max_kbps = params.int("maxBitRate", 0, minimum=0, maximum=100_000)
    offset = params.int("timeOffset", 0, minimum=0, maximum=24 * 60 * 60)
    if format == "raw":
        return None
    over_limit = bool(max_kbps) and max_kbps * 1000 < audio.bitrate
    if format in FORMATS and (format != audio.format or over_limit or offset):
        return target(format, max_kbps or _file_kbps(audio, format), offset)
    if over_limit or offset:
        same = audio.format if audio.format in FORMATS else "mp3"
        return target(same, max_kbps or _file_kbps(audio, same), offset)
    return None


def _file_kbps(audio, format):
    """No limit asked: a copy about as good as the file, up to the format's top rate."""
    return min(max(audio.bitrate // 1000, 32), MAX_BITRATE[format])


def _song_file(audio):
    found = _on_disk(audio.path, "Song file")
    if (found.st_size, found.st_mtime_ns) != (audio.size, audio.mtime_ns):
        # Its copies are named by the scanned bytes' hash: new bytes would be sent under the old name.
        raise SubsonicError(NOT_FOUND, "Song file changed since it was scanned")
    return found


def _on_disk(path, what):
    try:
        found = os.stat(path)
    except OSError:
        raise SubsonicError(NOT_FOUND, f"{what} is not on the server") from None
    if not stat_kinds.S_ISREG(found.st_mode):
        raise SubsonicError(NOT_FOUND, f"{what} is not on the server")
    return found


def _send_file(request, audio, found):
    return send_file(
        request, audio.path, found, content_type=audio.mime_type, cache_control=CACHE_CONTROL,
        filename=f"{audio.song.title}.{audio.format}", accel_redirect=settings.AUDIO_ACCEL_REDIRECT,
    )
