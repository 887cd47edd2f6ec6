"""The range and validator rules of RFC 9110 as a table of requests for one audio file, and the answer each
must get: asked of the app alone (test_streaming.py) and of nginx behind it (test_streaming_nginx.py).

A row's strings may name the file's facts: {size}, {etag}, {last_modified}, {earlier}, {later} (dates a
minute either side), {twice} and {thrice} (the size times two and three).
"""

import os
from dataclasses import dataclass, field
from http import HTTPStatus

from django.utils.http import http_date

from SyroMusic.audio.probe import file_hash
from SyroMusic.models import AudioFile

from .factories import make_song

WHOLE = slice(None)


@dataclass(frozen=True)
class Ask:
    name: str
    headers: dict
    status: int
    part: slice | None = None  # the bytes of the file the answer is about (206: its range; 200: WHOLE)
    method: str = "GET"
    # Where nginx answers otherwise, (status, part): each a choice RFC 9110 §14.2 leaves to the server.
    nginx: tuple | None = field(default=None)


ASKS = [
    Ask("no range: the whole file", {}, HTTPStatus.OK, WHOLE),
    Ask("the first byte", {"Range": "bytes=0-0"}, HTTPStatus.PARTIAL_CONTENT, slice(0, 1)),
    Ask("a closed range", {"Range": "bytes=100-199"}, HTTPStatus.PARTIAL_CONTENT, slice(100, 200)),
    Ask("an open range", {"Range": "bytes=100-"}, HTTPStatus.PARTIAL_CONTENT, slice(100, None)),
    Ask("a suffix range", {"Range": "bytes=-500"}, HTTPStatus.PARTIAL_CONTENT, slice(-500, None)),
    Ask("a suffix longer than the file is all of it", {"Range": "bytes=-{twice}"}, HTTPStatus.PARTIAL_CONTENT, WHOLE),
    Ask("a last byte past the end is clipped", {"Range": "bytes=100-{twice}"}, HTTPStatus.PARTIAL_CONTENT, slice(100, None)),
    Ask("the unit in capitals", {"Range": "BYTES=5-9"}, HTTPStatus.PARTIAL_CONTENT, slice(5, 10)),
    Ask("a first byte at the end is unsatisfiable", {"Range": "bytes={size}-"}, HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE),
    Ask("a range after the end is unsatisfiable", {"Range": "bytes={twice}-{thrice}"}, HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE),
    Ask("an empty suffix is unsatisfiable", {"Range": "bytes=-0"}, HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE),
    Ask("another unit is ignored", {"Range": "items=0-10"}, HTTPStatus.OK, WHOLE),
    Ask("several ranges get the whole file", {"Range": "bytes=0-0,-1"}, HTTPStatus.OK, WHOLE),
    Ask("a syntax error is ignored", {"Range": "bytes=abc"}, HTTPStatus.OK, WHOLE,
        nginx=(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, None)),
    Ask("a last byte before the first is ignored", {"Range": "bytes=200-100"}, HTTPStatus.OK, WHOLE,
        nginx=(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, None)),
    Ask("If-Range with the current ETag", {"Range": "bytes=5-9", "If-Range": "{etag}"}, HTTPStatus.PARTIAL_CONTENT, slice(5, 10)),
    Ask("If-Range with another ETag gets the whole file", {"Range": "bytes=5-9", "If-Range": '"1-1"'}, HTTPStatus.OK, WHOLE),
    Ask("If-Range with a weak ETag gets the whole file", {"Range": "bytes=5-9", "If-Range": "W/{etag}"}, HTTPStatus.OK, WHOLE),
    Ask("If-Range with the Last-Modified date", {"Range": "bytes=5-9", "If-Range": "{last_modified}"},
        HTTPStatus.PARTIAL_CONTENT, slice(5, 10)),
    Ask("If-Range with another date gets the whole file", {"Range": "bytes=5-9", "If-Range": "{later}"}, HTTPStatus.OK, WHOLE),
    Ask("If-None-Match with the ETag", {"If-None-Match": "{etag}"}, HTTPStatus.NOT_MODIFIED),
    Ask("If-None-Match with the weak ETag", {"If-None-Match": "W/{etag}"}, HTTPStatus.NOT_MODIFIED),
    Ask("If-None-Match with another ETag", {"If-None-Match": '"1-1"'}, HTTPStatus.OK, WHOLE),
    Ask("If-Modified-Since the Last-Modified date", {"If-Modified-Since": "{last_modified}"}, HTTPStatus.NOT_MODIFIED),
    Ask("If-Modified-Since an earlier date", {"If-Modified-Since": "{earlier}"}, HTTPStatus.OK, WHOLE),
    Ask("If-Match another ETag fails", {"If-Match": '"1-1"'}, HTTPStatus.PRECONDITION_FAILED),
    Ask("HEAD: the whole file's headers", {}, HTTPStatus.OK, WHOLE, method="HEAD"),
    # RFC 9110 §14.2: GET is the only method with ranges. nginx answers HEAD as the GET would be.
    Ask("HEAD ignores a range", {"Range": "bytes=5-9"}, HTTPStatus.OK, WHOLE, method="HEAD",
        nginx=(HTTPStatus.PARTIAL_CONTENT, slice(5, 10))),
]


def facts(stat):
    """What the rows' strings may name, for a file's os.stat; the validators as nginx makes them."""
    mtime = int(stat.st_mtime)
    return {
        "size": stat.st_size, "twice": stat.st_size * 2, "thrice": stat.st_size * 3,
        "etag": f'"{mtime:x}-{stat.st_size:x}"',
        "last_modified": http_date(mtime), "earlier": http_date(mtime - 60), "later": http_date(mtime + 60),
    }


def request_headers(ask, file_facts):
    return {name: value.format(**file_facts) for name, value in ask.headers.items()}


def expected(ask, path):
    """(status, part) the row expects of `path` ("django" or "nginx")."""
    if path == "nginx" and ask.nginx:
        return ask.nginx
    return ask.status, ask.part


def check_answer(ask, path, data, file_facts, status, headers, body, *, content_type, cache_control):
    """Assert one answer matches its row; headers is any mapping that ignores case."""
    want_status, part = expected(ask, path)
    size = file_facts["size"]
    assert status == want_status, (ask.name, status, body[:200])
    if status in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT):
        first, stop, _ = part.indices(size)
        assert headers["Content-Length"] == str(stop - first)
        assert body == (b"" if ask.method == "HEAD" else data[part])
        assert headers["Content-Type"] == content_type
        assert (headers["ETag"], headers["Last-Modified"]) == (file_facts["etag"], file_facts["last_modified"])
        assert headers["Cache-Control"] == cache_control
        assert headers.get("Content-Encoding") is None
        if status == HTTPStatus.PARTIAL_CONTENT:
            assert headers["Content-Range"] == f"bytes {first}-{stop - 1}/{size}"
        else:
            assert headers.get("Content-Range") is None
            assert headers["Accept-Ranges"] == "bytes"
    elif status == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE:
        assert headers["Content-Range"] == f"bytes */{size}"
    elif status == HTTPStatus.NOT_MODIFIED:
        assert body == b""
        assert headers["ETag"] == file_facts["etag"]
        assert headers["Cache-Control"] == cache_control


def audio_row(path, *, title="Première écoute", **fields):
    """The AudioFile a scan would make of a one-second 8 kHz WAV at `path` (facts written by hand; the size,
    time and hash read from the file)."""
    stat = os.stat(path)
    return AudioFile.objects.create(**{
        "song": make_song(title), "path": str(path), "format": "wav", "codec": "pcm_s16le", "bitrate": 128_000,
        "sample_rate": 8000, "channels": 1, "duration_ms": 1000, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
        "content_hash": file_hash(path), **fields,
    })
