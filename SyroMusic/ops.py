"""What an operator needs from the app: health endpoints, request logs, refusals that say why."""

import json
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .api.errors import problem_response

request_log = logging.getLogger("syromusic.requests")
logger = logging.getLogger(__name__)
_migrations_checked = False


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin, the API docs)."""
    return HttpResponsePermanentRedirect(static("syromusic/icon.svg"))


@never_cache
def healthz(request):
    """The process is up: no database, no cache."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def readyz(request):
    """Ready for traffic: the database answers, the cache answers, no migration is pending."""
    global _migrations_checked
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        if not _migrations_checked:  # once per process: migrations do not un-apply themselves
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            checks["migrations"] = f"{len(pending)} pending" if pending else "ok"
            _migrations_checked = not pending
        else:
            checks["migrations"] = "ok"
    except DatabaseError as error:
        checks["database"] = f"unreachable: {error.__class__.__name__}"
    probe = f"readyz:{time.monotonic_ns()}"
    try:
        cache.set(probe, 1, timeout=5)
        checks["cache"] = "ok" if cache.get(probe) == 1 else "unreachable"
    except Exception as error:  # a cache backend raising is the failure being reported
        checks["cache"] = f"unreachable: {error.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)


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
            if request.path.startswith("/api/"):
                return problem_response(request, 413, detail)
            return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


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
        if request.path.startswith("/api/"):
            response = problem_response(request, 503, detail)
        else:
            response = render(None, "503.html", {"detail": detail}, status=503)
        response["Retry-After"] = "30"
        return response


def _is_connection_failure(exception):
    from django.db import InterfaceError, OperationalError

    return isinstance(exception, (OperationalError, InterfaceError))
