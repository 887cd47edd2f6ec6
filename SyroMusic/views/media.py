"""The bytes behind the catalogue: a song's audio (streamed, with ranges) and album covers.

Audio URLs and cover URLs are content-addressed (a hash in the name), so an answer never changes and
browsers keep it for a year. The app decides who may listen and which file a URL names, in both ways of
serving: alone it sends the bytes itself (SyroMusic.web.files); behind nginx (`make serve` sets
AUDIO_ACCEL_REDIRECT) it names the file and nginx sends it, so no worker is held while a song plays.
"""

import logging
import os
import re
import stat as stat_kinds
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_safe

from SyroMusic.audio import transcode
from SyroMusic.models import COVER_SIZES, AudioFile, cover_file_name, may_listen
from SyroMusic.web.files import download_name, send_file
from SyroMusic.web.transcoded import send_transcoded

logger = logging.getLogger(__name__)

A_YEAR = 365 * 24 * 60 * 60
# Only the sized WebPs are served: the original (saved without an extension, in whatever format it came)
# is the source they are made from, and nginx could not name its type.
COVER_NAME = re.compile(r"(?P<hash>[0-9a-f]{64})-(?P<size>[0-9]{1,4})\.webp")


@require_safe
def audio_file(request, pk, hash, ext):
    if not may_listen(request.user):
        return _log_in_to_listen()
    audio, found = _playable(pk, hash, format=ext)
    return send_file(
        request, audio.path, found,
        content_type=audio.mime_type,
        cache_control=_audio_cache_control(),
        filename=download_name(audio.song.title, audio.format),
        accel_redirect=settings.AUDIO_ACCEL_REDIRECT,
    )


@require_safe
def audio_transcoded(request, pk, hash, kbps, ext):
    """A smaller copy of a song's file (the player's data saver, or a format the browser cannot play):
    the file's hash, bit rate and format in the URL, so it is content-addressed like the file's."""
    if not may_listen(request.user):
        return _log_in_to_listen()
    if ext not in transcode.FORMATS or transcode.target(ext, kbps).kbps != kbps:
        raise Http404("No such transcoded copy.")
    audio, _ = _playable(pk, hash)
    try:
        return send_transcoded(request, audio, transcode.target(ext, kbps), cache_control=_audio_cache_control())
    except transcode.TranscodeError:
        logger.warning("audio file %s (id %s) could not be transcoded to %s", audio.path, audio.pk, ext, exc_info=True)
        raise Http404("The audio file could not be transcoded.") from None
    except OSError as error:  # the copies' disk (full, unwritable): the original file still plays
        logger.error("transcoded copy of audio file %s (id %s) not made: %s", audio.path, audio.pk, error)
        return HttpResponse("The server cannot make a smaller copy now.", status=503,
                            content_type="text/plain; charset=utf-8", headers={"Retry-After": "60"})


def _log_in_to_listen():
    return HttpResponseForbidden("Log in to listen.", content_type="text/plain; charset=utf-8")


def _audio_cache_control():
    return f"{'public' if settings.STREAM_ANONYMOUS else 'private'}, max-age={A_YEAR}, immutable"


def _playable(pk, hash, format=None):
    """The available AudioFile a content-addressed URL names, and its os.stat; Http404 when the URL no
    longer names the file on disk (gone, or changed since it was scanned)."""
    files = AudioFile.objects.available().select_related("song").only(
        "path", "format", "content_hash", "size", "mtime_ns", "song__title"
    )
    audio = files.filter(pk=pk, **({"format": format} if format else {})).first()
    # A content-addressed URL that no longer names these bytes is gone, not another file's.
    if audio is None or len(hash) != 16 or audio.content_hash[:16] != hash:
        raise Http404("No such audio file.")
    found = _file_stat(audio.path)
    if found is None:
        logger.warning("audio file %s (id %s) is not on disk: a scan will mark it missing", audio.path, audio.pk)
        raise Http404("The audio file is not on the server.")
    if (found.st_size, found.st_mtime_ns) != (audio.size, audio.mtime_ns):
        # Served under this URL, the new bytes would replace the old ones in browsers' caches for a year.
        logger.warning("audio file %s (id %s) changed since it was scanned: scan again to serve it", audio.path, audio.pk)
        raise Http404("The audio file changed since it was scanned.")
    return audio, found


@require_safe
def cover(request, shard, name):
    """An album cover's sized WebP under MEDIA_ROOT/covers/ (nginx serves these itself under `make serve`).
    The name is checked whole, so no other file under MEDIA_ROOT (uploaded audio) can be reached."""
    match = COVER_NAME.fullmatch(name)
    if not match or shard != match["hash"][:2] or int(match["size"]) not in COVER_SIZES:
        raise Http404("No such cover.")
    path = Path(settings.MEDIA_ROOT) / cover_file_name(match["hash"], int(match["size"]))
    found = _file_stat(path)
    if found is None:
        raise Http404("No such cover.")
    return send_file(request, path, found, content_type="image/webp", cache_control=f"public, max-age={A_YEAR}, immutable")


def _file_stat(path):
    """os.stat of a regular file we may read, or None (gone, unreadable, or a directory)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    if not stat_kinds.S_ISREG(found.st_mode) or not os.access(path, os.R_OK):
        return None
    return found
