"""Every middleware of the site, in the order settings.MIDDLEWARE runs them."""

import json
import logging
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers

from .problems import problem_response, wants_problem

request_log = logging.getLogger("syromusic.requests")
logger = logging.getLogger(__name__)


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
            "path": request.get_full_path(),
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
    """Refuse a request whose declared body is over MAX_REQUEST_BYTES with 413, before reading it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            detail = f"The request body is {length:,} bytes; the limit is {settings.MAX_REQUEST_BYTES:,}."
            if wants_problem(request):
                return problem_response(request, 413, detail)
            return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class RateLimitHeadersMiddleware:
    """Adds X-RateLimit-Limit/Remaining/Reset (and Retry-After on 429) to API responses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        rate_limit = getattr(request, "rate_limit", None)
        if rate_limit:
            response["X-RateLimit-Limit"] = str(rate_limit["limit"])
            response["X-RateLimit-Remaining"] = str(rate_limit["remaining"])
            response["X-RateLimit-Reset"] = str(rate_limit["reset"])
        return response


class RefuseNulCharactersMiddleware:
    """The API answers 400 to NUL characters in the query or the body, before any view sees them.

    PostgreSQL cannot store or even compare text containing NUL; letting one reach
    a query would be a 500 (and abort the transaction it ran in).
    """

    MARKERS = (b"\x00", b"\\u0000", b"%00")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if wants_problem(request) and self.has_nul(request):
            return problem_response(request, 400, "NUL characters are not allowed in the query string or body.")
        return self.get_response(request)

    def has_nul(self, request):
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            return True
        if request.method in ("POST", "PUT", "PATCH"):
            try:
                body = request.body
            except Exception:  # too large or unreadable: the view will answer that
                return False
            return any(marker in body for marker in self.MARKERS)
        return False


class DatabaseUnavailableMiddleware:
    """The database is unreachable: a 503 that says so, not a traceback. The next request retries."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DatabaseError) or not _is_connection_failure(exception):
            return None
        logger.error("database unavailable: %s", exception)
        connection.close()  # drop the broken connection: the next request opens a new one
        detail = "The catalogue database is unavailable. Please try again in a moment."
        if wants_problem(request):
            response = problem_response(request, 503, detail)
        else:
            response = render(None, "503.html", {"detail": detail}, status=503)
        response["Retry-After"] = "30"
        return response


def _is_connection_failure(exception):
    return isinstance(exception, (OperationalError, InterfaceError))
