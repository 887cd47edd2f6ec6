"""Sending a file's bytes: whole, or one byte range of it, with the validators nginx would send.

Written here because nothing well kept does it for a Django view: Django 5.2's FileResponse always sends
the whole file and django.views.static.serve (development only) has no ranges either; django-sendfile2
and django-downloadview leave ranges to the web server, and WhiteNoise's range code is internal to its
static-file middleware. The rules are those of RFC 9110 §13 and §14, kept to the cases a media player
sends. nginx answers the same requests itself when the app hands it the file (X-Accel-Redirect, see
deploy/nginx.conf), so the validators here are in nginx's format: both paths give the same ETag.
"""

import os
import re
from http import HTTPStatus
from urllib.parse import quote

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date, parse_http_date_safe

CHUNK_BYTES = 64 * 1024
# What may not stand in a file name a browser offers to save (the rest of the title is kept, any script).
UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
UNSATISFIABLE = "unsatisfiable"
# One range, `first-last`, `first-` or `-suffix`; a longer header is nobody's player.
_ONE_RANGE = re.compile(r"[ \t]*([0-9]*)-([0-9]*)[ \t]*")
_RANGE_HEADER_MAX = 100


def download_name(title, extension):
    """A file name for `title` that every system can save: unsafe characters become spaces."""
    return f"{' '.join(UNSAFE_IN_FILENAME.sub(' ', title).split()) or 'audio'}.{extension}"


def file_seconds(stat):
    """The file's modification time in whole seconds, truncated as nginx does (st_mtime, a float, may
    round up to the next second near a whole one)."""
    return stat.st_mtime_ns // 1_000_000_000


def file_etag(stat):
    """nginx's ETag for a file, "<mtime hex>-<size hex>": the app and nginx agree on it."""
    return f'"{file_seconds(stat):x}-{stat.st_size:x}"'


def requested_range(header, size):
    """The byte range a Range header asks of `size` bytes: (first, last), both included, within the file;
    UNSATISFIABLE when none of its bytes exist (416); None when the header is to be ignored and the whole
    file sent (200): no header, another unit, a syntax error, or several ranges (RFC 9110 §14.2 lets a
    server ignore all of these; one range is what players ask for)."""
    if not header or len(header) > _RANGE_HEADER_MAX or size == 0:
        return None
    unit, _, ranges = header.partition("=")
    match = _ONE_RANGE.fullmatch(ranges)
    if unit.strip().lower() != "bytes" or not match or match[1] == match[2] == "":
        return None
    first, last = match[1], match[2]
    if first == "":  # the last N bytes; more than the file is the whole file
        suffix = int(last)
        return (max(size - suffix, 0), size - 1) if suffix else UNSATISFIABLE
    first, last = int(first), int(last) if last else None
    if last is not None and last < first:
        return None  # invalid, not unsatisfiable (RFC 9110 §14.1.1)
    if first >= size:
        return UNSATISFIABLE
    return first, size - 1 if last is None else min(last, size - 1)


def range_is_current(request, etag, mtime):
    """If-Range: the range holds only for the representation the client has (a strong ETag compared
    exactly, or the Last-Modified date); for any other, the whole file is sent (RFC 9110 §13.1.5)."""
    validator = request.headers.get("If-Range")
    if validator is None:
        return True
    if validator.startswith('"'):
        return validator == etag
    return parse_http_date_safe(validator) == mtime


class _WholeFile(FileResponse):
    block_size = CHUNK_BYTES  # read at a time when the server has no wsgi.file_wrapper


class _FileRange:
    """Bytes first..last of an open file, CHUNK_BYTES at a time: memory stays flat whatever the range.
    Django closes it (and so the file) when the response is done, read to the end or not."""

    def __init__(self, file, first, last):
        self.file, self.first, self.remaining = file, first, last - first + 1

    def __iter__(self):
        self.file.seek(self.first)
        while self.remaining > 0:
            chunk = self.file.read(min(CHUNK_BYTES, self.remaining))
            if not chunk:  # the file shrank under us: the client sees a short answer, never other bytes
                return
            self.remaining -= len(chunk)
            yield chunk

    def close(self):
        self.file.close()


def send_file(request, path, stat, *, content_type, cache_control, filename=None, accel_redirect=""):
    """The answer to GET or HEAD of a file the caller has found and may send (`stat` is its os.stat).

    Validators first (304, 412), then the range (206, 416, or 200 with the whole file). With an
    `accel_redirect` prefix (settings.AUDIO_ACCEL_REDIRECT) the body is nginx's to send: an empty 200
    naming the file, whose headers nginx keeps only in part (Content-Type, Content-Disposition,
    Cache-Control); it does the ranges and validators itself, from the same file."""
    etag, size = file_etag(stat), stat.st_size
    headers = {
        "Content-Type": content_type,
        "Cache-Control": cache_control,
        "ETag": etag,
        "Last-Modified": http_date(file_seconds(stat)),
        "X-Content-Type-Options": "nosniff",
    }
    if filename:
        headers["Content-Disposition"] = content_disposition_header(as_attachment=False, filename=filename)
    conditional = get_conditional_response(request, etag=etag, last_modified=file_seconds(stat))
    if conditional is not None:  # 304 (which keeps the validators and caching), or 412
        if conditional.status_code == HTTPStatus.NOT_MODIFIED:
            for name in ("Cache-Control", "ETag", "Last-Modified"):
                conditional[name] = headers[name]
        return conditional
    if accel_redirect:
        # The path percent-encoded, whatever its characters (nginx decodes it). The validators stay, as
        # nginx will send them, for the middleware that looks at them on the way out (ConditionalGet would
        # otherwise make an ETag of the empty body). No Accept-Ranges: nginx sends its own.
        headers["X-Accel-Redirect"] = accel_redirect.rstrip("/") + quote(os.fsencode(path))
        return HttpResponse(b"", headers=headers)
    headers["Accept-Ranges"] = "bytes"
    byte_range = requested_range(request.headers.get("Range"), size) if request.method == "GET" else None
    if byte_range is not None and not range_is_current(request, etag, file_seconds(stat)):
        byte_range = None
    if byte_range == UNSATISFIABLE:
        return HttpResponse(
            b"", status=HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, content_type="text/plain; charset=utf-8",
            headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
        )
    if request.method == "HEAD":
        return HttpResponse(b"", headers={**headers, "Content-Length": str(size)})
    file = open(path, "rb")  # noqa: SIM115 (the response closes it)
    opened = os.fstat(file.fileno())
    if (opened.st_size, opened.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
        # Replaced between the caller's check and the open: these bytes are not the ones the URL names.
        file.close()
        raise Http404("The file changed while it was being sent.")
    if byte_range is None:
        # The whole file: the server's wsgi.file_wrapper may send it with sendfile().
        response = _WholeFile(file, content_type=content_type)
        response.headers.pop("Content-Disposition", None)  # FileResponse's, from the name on disk
        for name, value in headers.items():
            response[name] = value
        return response
    first, last = byte_range
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1)
    return StreamingHttpResponse(_FileRange(file, first, last), status=HTTPStatus.PARTIAL_CONTENT, headers=headers)
