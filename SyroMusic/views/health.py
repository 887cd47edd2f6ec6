"""What an operator's probes and a browser's icon request need: /favicon.ico, /healthz, /readyz."""

import time

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

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
