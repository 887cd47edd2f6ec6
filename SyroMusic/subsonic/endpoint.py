"""The one view behind /rest/<method>: authenticate, dispatch to the registered method, wrap the answer.

Every failure is an envelope with HTTP 200, as Subsonic clients expect: a missing method is error 0, bad
credentials 40, and even a bug is logged and answered as error 0 rather than a 500 page the app cannot read.
"""

import logging
from urllib.parse import parse_qsl

from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseBase, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt

from . import auth, envelope
from .core import GENERIC, METHODS, PUBLIC, RAW, Params, SubsonicError

logger = logging.getLogger(__name__)
# A form post may carry a whole playlist (createPlaylist's songId, up to Playlist.MAX_ENTRIES) or a queue
# (savePlayQueue, by GET too): more fields than Django allows a web form (DATA_UPLOAD_MAX_NUMBER_FIELDS,
# 1,000), so /rest/ reads its query and form itself, with this cap. The body's size limit
# (DATA_UPLOAD_MAX_MEMORY_SIZE) still holds.
MAX_FIELDS = 12_000


def _fields(text):
    fields = MultiValueDict()
    for key, value in parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS):
        fields.appendlist(key, value)
    return fields


def _query(request):
    # The WSGI server hands the query over as latin-1 text: back to its bytes, read as UTF-8.
    return _fields(request.META.get("QUERY_STRING", "").encode("iso-8859-1", "replace").decode("utf-8", "replace"))


def _form(request):
    """The posted form's fields (url-encoded; any other body's, as Django reads it)."""
    if request.content_type != "application/x-www-form-urlencoded":
        return request.POST
    return _fields(request.body.decode(request.encoding or "utf-8", errors="replace"))


def _params(request):
    try:
        if request.method != "POST":
            return Params(_query(request))
        return Params(_query(request), _form(request))
    except (ValueError, LookupError, SuspiciousOperation, MultiPartParserError, UnreadablePostError) as error:
        raise SubsonicError(GENERIC, f"The form could not be read ({str(error)[:80]}): at most {MAX_FIELDS:,} fields "
                            "and the server's size limit") from None


@csrf_exempt
def endpoint(request, name):
    try:
        params = _params(request)
    except SubsonicError as error:
        return envelope.failure(error, as_json="f=json" in request.META.get("QUERY_STRING", ""))
    as_json = envelope.wants_json(params)
    try:
        if request.method not in ("GET", "HEAD", "POST"):
            raise SubsonicError(GENERIC, f"Method {request.method} is not allowed: use GET or POST")
        handler = METHODS.get(name)
        if handler is None:
            raise SubsonicError(GENERIC, f"Method not implemented: {name[:60]}")
        if name not in PUBLIC or params.get("u") or params.get("apiKey"):
            request.user = auth.authenticate(request, params)
        result = handler(request, params)
    except SubsonicError as error:
        return envelope.failure(error, as_json=as_json)
    except Exception:
        logger.exception("Subsonic method %s failed", name[:60])
        return envelope.failure(SubsonicError(GENERIC, "The server failed to answer; it has been logged."), as_json=as_json)
    if name in RAW and isinstance(result, HttpResponseBase):  # streaming answers (files) too
        return result
    return envelope.ok(result or {}, as_json=as_json)
