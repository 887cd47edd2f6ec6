"""Sending a transcoded copy of an audio file: the web player's data saver and the Subsonic API's stream.

A finished copy (SyroMusic.audio.transcode_cache) is a file like any other: ranges, validators, and nginx
sends it under `make serve` (X-Accel-Redirect, the same internal location as the songs' files). A copy
still being made is sent as it grows, without a length or ranges, so its first bytes leave within
milliseconds; a copy from an offset (a client seeking in a transcoded stream) is never kept, only sent.
"""

import os

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse

from SyroMusic.audio import transcode_cache
from SyroMusic.audio.transcode import transcode

from .files import send_file

# The listener's Profile.data_saver, kept in their session for the player (base.html's #page-state):
# read there on every page, it costs no query. Written at login and when the profile is saved.
DATA_SAVER_SESSION_KEY = "data_saver"


def remember_data_saver(request, on):
    request.session[DATA_SAVER_SESSION_KEY] = bool(on)


def data_saver_on(request):
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(DATA_SAVER_SESSION_KEY))


def send_transcoded(request, audio, target, *, cache_control):
    """The answer to GET or HEAD of `audio` (an AudioFile whose file the caller found on disk) made as
    `target`. `cache_control` is for a finished copy; one still growing is never stored.
    Raises SyroMusic.audio.transcode.TranscodeError when the file cannot be transcoded."""
    if target.offset or request.method == "HEAD":  # a HEAD starts no encode: the copy's type is all it learns
        return _growing(request, transcode(audio.path, target), target)
    for _ in range(2):  # a copy evicted between the look and the stat is looked for once more
        path, chunks = transcode_cache.fetch(audio.path, audio.content_hash, target)
        if path is None:
            return _growing(request, chunks, target)
        try:
            found = os.stat(path)
        except FileNotFoundError:
            continue
        return send_file(
            request, path, found, content_type=target.content_type, cache_control=cache_control,
            accel_redirect=settings.AUDIO_ACCEL_REDIRECT,
        )
    return _growing(request, transcode(audio.path, target), target)


def _growing(request, chunks, target):
    headers = {
        "Content-Type": target.content_type,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if request.method == "HEAD":
        chunks.close()
        return HttpResponse(b"", headers=headers)
    # The first bytes before the answer starts: a file that cannot be decoded fails here, as an error
    # the caller turns into an answer, not as a stream cut short.
    try:
        first = next(chunks)
    except StopIteration:
        first = b""
    return StreamingHttpResponse(_then(first, chunks), headers=headers)


def _then(first, chunks):
    """`first`, then the rest of `chunks`, closed when the answer is (a client that left: the copy's file
    and the decoder are let go at once, not whenever the garbage collector comes by)."""
    try:
        yield first
        yield from chunks
    finally:
        chunks.close()
