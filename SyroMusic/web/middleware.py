"""Every middleware of the site, in the order settings.MIDDLEWARE runs them."""

import gzip
import json
import logging
import secrets
import sqlite3
import time
from http import HTTPStatus
from urllib.parse import urlencode

import django.middleware.common
import django.middleware.gzip
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import escape_leading_slashes

from .limits import LoginBlocked
from .problems import problem_response, wants_problem

request_log = logging.getLogger("syromusic.requests")
logger = logging.getLogger(__name__)

# Credentials some clients send in the query string (Subsonic apps: p, t, apiKey): never written to a log.
SECRET_PARAMETERS = frozenset({"p", "t", "apiKey"})


def loggable_path(request):
    """The request's path and query, with the values of SECRET_PARAMETERS masked."""
    if not SECRET_PARAMETERS.intersection(request.GET):
        return request.get_full_path()
    query = urlencode(
        [(key, "***" if key in SECRET_PARAMETERS else value) for key, values in request.GET.lists() for value in values],
        safe="*",
    )
    return f"{request.path}?{query}"


class RequestLogMiddleware:
    """One line per request: method, path, status, duration and SQL query count.

    LOG_FORMAT=json writes JSON lines a log shipper can parse.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = [0]

        def count(execute, sql, params, many, context):
            queries[0] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        record = {
            "method": request.method,
            "path": loggable_path(request),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "queries": queries[0],
        }
        if settings.LOG_FORMAT == "json":
            request_log.info(json.dumps(record))
        else:
            request_log.info("%(method)s %(path)s %(status)s %(duration_ms)sms %(queries)sq", record)
        return response


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy header (Django 5.2 has none of its own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


def allow_inline_styles(view):
    """For third-party pages that set inline styles (Swagger UI): the site's policy plus 'unsafe-inline' styles."""

    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        policy = settings.CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        response.headers["Content-Security-Policy"] = policy
        return response

    return wrapper


class PrivateWhenLoggedInMiddleware:
    """What a logged-in listener is answered may be theirs alone (their profile, a private playlist's
    file): unless a view said otherwise, browsers may keep it and shared caches must not."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Only a request that could be logged in looks at its user: the others cost nothing.
        maybe_logged_in = settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META
        if maybe_logged_in and not response.has_header("Cache-Control") and request.user.is_authenticated:
            patch_cache_control(response, private=True)
            patch_vary_headers(response, ["Cookie", "Authorization"])
        return response


class BodyLimitMiddleware:
    """Refuse a request whose declared body is over MAX_REQUEST_BYTES with 413, before reading it.

    The admin pages that take an upload (UPLOAD_VIEWS) allow their own limit on top, to staff who may
    change what the page edits. Who is asking is known only after the session and authentication
    middleware, so that is checked in process_view: still before anything reads the body (the CSRF
    check, the first to read it, comes later in MIDDLEWARE)."""

    # view name -> (the setting that limits its upload, the permission the upload needs)
    UPLOAD_VIEWS = {
        "admin:SyroMusic_song_change": ("AUDIO_UPLOAD_MAX_BYTES", "SyroMusic.change_song"),
        "admin:SyroMusic_album_change": ("COVER_UPLOAD_MAX_BYTES", "SyroMusic.change_album"),
    }

    def __init__(self, get_response):
        self.get_response = get_response

    @classmethod
    def may_send(cls, request, *, path, method, length):
        """Whether this request's user may send a body of `length` bytes (None: unknown, as with a chunked
        body) with `method` to `path`: the rule this middleware keeps, for nginx to ask before it reads a
        large body (views.front.upload_allowed, nginx's auth_request)."""
        if length is not None and length <= settings.MAX_REQUEST_BYTES:
            return True
        try:
            upload = cls.UPLOAD_VIEWS.get(resolve(path).view_name) if method == "POST" else None
        except Resolver404:
            upload = None
        if upload is None:
            return False
        limit = settings.MAX_REQUEST_BYTES + getattr(settings, upload[0])
        user = request.user
        return (length is None or length <= limit) and user.is_active and user.is_staff and user.has_perm(upload[1])

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            upload = self.upload_view(request)
            limit = settings.MAX_REQUEST_BYTES + (getattr(settings, upload[0]) if upload else 0)
            if length > limit:
                return self.refuse(request, length, limit)
            request.body_limit_needs = upload[1]  # process_view checks it
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        permission = getattr(request, "body_limit_needs", None)
        if permission is None:
            return None
        user = request.user
        if user.is_active and user.is_staff and user.has_perm(permission):
            return None
        return self.refuse(request, int(request.META["CONTENT_LENGTH"]), settings.MAX_REQUEST_BYTES)

    def upload_view(self, request):
        if request.method != "POST":
            return None
        try:
            return self.UPLOAD_VIEWS.get(resolve(request.path_info).view_name)
        except Resolver404:
            return None

    def refuse(self, request, length, limit):
        detail = f"The request body is {length:,} bytes; the limit is {limit:,}."
        if wants_problem(request):
            return problem_response(request, 413, detail)
        return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")


# What a page made for one request is compressed at. Django's level 6 took 0.63 ms of a logged-in listener's
# 3 ms song list (93 KB of HTML) and saved 89.8%; level 3 takes 0.27 ms and saves 88.6% (level 1: 0.25 ms,
# 88.1%). Kept pages are compressed once, at 9 (SyroMusic.web.page_cache).
GZIP_LEVEL = 3


def compress(content, max_random_bytes, level=GZIP_LEVEL):
    """gzip at `level`, with django.utils.text.compress_string's defence against BREACH: a file name of a
    random length (up to max_random_bytes) in the header, so the answer's length tells less of its content."""
    compressed = gzip.compress(content, compresslevel=level, mtime=0)
    if not max_random_bytes:
        return compressed
    header = bytearray(compressed[:10])
    header[3] = gzip.FNAME
    return bytes(header) + b"a" * secrets.randbelow(max_random_bytes) + b"\x00" + compressed[10:]


class GZipMiddleware(django.middleware.gzip.GZipMiddleware):
    """Django's, at GZIP_LEVEL; and except for media: audio and images are compressed already, and a byte
    range (206) or its refusal (416) describes the file's own bytes, which a Content-Encoding would change
    under it; and except for pages the page cache keeps, which it compresses once (SyroMusic.web.page_cache)."""

    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if (
            getattr(response, "syro_shared", False)  # kept by the page cache, which compresses it once
            or response.status_code in (HTTPStatus.PARTIAL_CONTENT, HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            or content_type.startswith(("audio/", "video/"))
            or (content_type.startswith("image/") and not content_type.startswith("image/svg"))
        ):
            return response
        if response.streaming:
            return super().process_response(request, response)
        # Django's steps for a whole body, with its compress_string (level 6) replaced by compress().
        content = response.content
        if len(content) < 200 or response.has_header("Content-Encoding"):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not django.middleware.gzip.re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        compressed = compress(content, self.max_random_bytes)
        if len(compressed) >= len(content):
            return response
        response.content = compressed
        response.headers["Content-Length"] = str(len(compressed))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag  # RFC 9110 8.8.1, as Django does
        response.headers["Content-Encoding"] = "gzip"
        return response


class RateLimitHeadersMiddleware:
    """Adds X-RateLimit-Limit/Remaining/Reset (and Retry-After on 429) to API responses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return write_rate_limit(request, self.get_response(request))


def write_rate_limit(request, response):
    """The X-RateLimit headers of the client's count of this request (SyroMusic.api.throttling), if counted."""
    rate_limit = getattr(request, "rate_limit", None)
    if rate_limit:
        response["X-RateLimit-Limit"] = str(rate_limit["limit"])
        response["X-RateLimit-Remaining"] = str(rate_limit["remaining"])
        response["X-RateLimit-Reset"] = str(rate_limit["reset"])
    return response


class RefuseNulCharactersMiddleware:
    """NUL characters reach no view. PostgreSQL cannot store or even compare text containing NUL;
    letting one reach a query would be a 500 (and abort the transaction it ran in).

    An address holding one is a 404, for pages and API alike: no page or object has such an address.
    The API answers 400 to one in the query or the body, the body read as its content type says
    (in JSON, "100%00" is text and only a decoded \\u0000 is a NUL).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            raise Http404("No address holds a NUL character.")
        if wants_problem(request) and self.has_nul(request):
            return problem_response(request, 400, "NUL characters are not allowed in the query string or body.")
        return self.get_response(request)

    def has_nul(self, request):
        if _fields_have_nul(request.GET):
            return True
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return False
        try:
            body = request.body
            if request.content_type == "application/json" or request.content_type.endswith("+json"):
                return _json_has_nul(json.loads(body.decode(request.encoding or "utf-8")))
            if request.content_type == "application/x-www-form-urlencoded":
                return _fields_have_nul(request.POST)
            if request.content_type == "multipart/form-data":
                return b"\x00" in body  # the fields and the one upload, a playlist file: text without NUL
        except Exception:  # too large, unreadable, or not what its type says: the view or the parser answers
            return False
        return False  # any other type: the API answers 415 without reading it


def _fields_have_nul(query_dict):
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query_dict.lists())


def _json_has_nul(data):
    """Any NUL in the keys or strings of decoded JSON, however deep (without recursion)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class CommonMiddleware(django.middleware.common.CommonMiddleware):
    """Django's, except an API write to an address without its trailing slash: Django would redirect it
    (the client's retry is a GET without the body) or, with DEBUG on, raise (a 500). Here it is a 404
    problem naming the address."""

    WRITES = ("DELETE", "POST", "PUT", "PATCH")

    def process_response(self, request, response):
        if (
            response.status_code == 404
            and request.method in self.WRITES
            and wants_problem(request)
            and self.should_redirect_with_slash(request)
        ):
            address = escape_leading_slashes(request.get_full_path(force_append_slash=True))
            detail = f"There is no API endpoint at this address. Did you mean {address} (API addresses end with a slash)?"
            return problem_response(request, 404, detail)
        return super().process_response(request, response)


class ConflictMiddleware:
    """A write that lost a race to the database's unique rule (two requests creating one name at once)
    or to a delete of what it refers to: a 409, not a 500. Forms and serializers check these rules first;
    this answers for the moment between their check and the write."""

    DETAIL = "This conflicts with a change made at the same moment. Read it again, then retry."
    SQLSTATES = {"23505", "23503"}  # unique_violation, foreign_key_violation
    SQLITE_CODES = {
        getattr(sqlite3, name)
        for name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_FOREIGNKEY")
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, IntegrityError) or not self.is_race(exception):
            return None  # a check constraint, a missing value: a bug, and a 500
        logger.warning("conflict (409): %s %s: %s", request.method, loggable_path(request), exception)
        if wants_problem(request):
            return problem_response(request, 409, self.DETAIL)
        return render(None, "409.html", {"detail": self.DETAIL}, status=409)

    def is_race(self, exception):
        cause = exception.__cause__
        return getattr(cause, "sqlstate", None) in self.SQLSTATES or getattr(cause, "sqlite_errorcode", None) in self.SQLITE_CODES


class DatabaseUnavailableMiddleware:
    """The database is unreachable, or stopped a statement that ran too long: a 503 that says which, not a
    traceback. The next request retries. Any other database error is a bug, and stays a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DatabaseError):
            return None
        if _is_connection_failure(exception):
            logger.error("database unavailable: %s", exception)
            connection.close()  # drop the broken connection: the next request opens a new one
            detail = "The catalogue database is unavailable. Please try again in a moment."
        elif _is_timeout(exception):
            logger.warning("database statement stopped, too slow: %s %s", request.method, loggable_path(request))
            detail = (
                "The catalogue database took too long to answer, so the request was stopped. "
                "Please try again in a moment."
            )
        else:
            return None
        if wants_problem(request):
            response = problem_response(request, 503, detail)
        else:
            response = render(None, "503.html", {"detail": detail}, status=503)
        response["Retry-After"] = "30"
        return response


# PostgreSQL's SQLSTATEs (or their classes) for a server that cannot be reached or is going away:
# connection exceptions, too many connections, shut down, crashed, still starting.
UNREACHABLE_SQLSTATES = ("08", "53300", "57P01", "57P02", "57P03")
UNREACHABLE_SQLITE_CODES = {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_NOTADB}
# A statement stopped by statement_timeout (or lock_timeout); SQLite waited for a lock in vain.
TIMEOUT_SQLSTATES = ("57014", "55P03")
TIMEOUT_SQLITE_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def _driver_error(exception):
    """(SQLSTATE, SQLite primary result code) of the driver's error under Django's: either may be None."""
    cause = exception.__cause__
    code = getattr(cause, "sqlite_errorcode", None)
    if code is not None:
        code &= 0xFF  # an extended code (SQLITE_IOERR_READ...) keeps its primary one in the low byte
    return getattr(cause, "sqlstate", None), code


def _is_connection_failure(exception):
    """The database cannot be reached at all; not a statement it refused, stopped, or could not run
    (SQLite's "Expression tree is too large" is an OperationalError too)."""
    if isinstance(exception, InterfaceError):  # a connection already closed
        return True
    if not isinstance(exception, OperationalError):
        return False
    sqlstate, sqlite_code = _driver_error(exception)
    if sqlstate is not None:
        return sqlstate.startswith(UNREACHABLE_SQLSTATES)
    if sqlite_code is not None:
        return sqlite_code in UNREACHABLE_SQLITE_CODES
    return True  # no code at all: psycopg could not connect, or lost the connection mid-statement


def _is_timeout(exception):
    sqlstate, sqlite_code = _driver_error(exception)
    return sqlstate in TIMEOUT_SQLSTATES or sqlite_code in TIMEOUT_SQLITE_CODES


class LoginBlockedMiddleware:
    """A password login refused by the limiter (SyroMusic.web.limits) is a 429 with Retry-After, whichever
    page asked: the login page and the admin's show the login form with the wait; the API's token endpoint
    answers its own problem (SyroMusic.api.errors), and any other API path gets one here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, LoginBlocked):
            return None
        if wants_problem(request):
            response = problem_response(request, 429, str(exception))
        else:
            context = {
                "form": AuthenticationForm(request, initial={"username": request.POST.get("username", "")}),
                "blocked_minutes": exception.minutes,
                "next": request.POST.get("next") or request.GET.get("next", ""),
            }
            response = render(request, "registration/login.html", context, status=429)
        response["Retry-After"] = str(exception.wait)
        return response
