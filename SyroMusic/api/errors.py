"""One error shape for the whole API: RFC 9457 problem details, `application/problem+json`."""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

PROBLEM_JSON = "application/problem+json"


def problem(status, detail, *, instance="", **extra):
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def exception_handler(exc, context):
    """DRF's handler, with the body rewritten as problem details; field errors go in `errors`."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    request = context["request"]
    data = response.data
    extra = {}
    if isinstance(data, dict) and set(data) == {"detail"}:
        detail = str(data["detail"])
    elif isinstance(data, list):
        detail = " ".join(str(item) for item in data)
    else:
        detail = "The request has invalid fields: see errors."
        extra["errors"] = data
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra["retry_after_seconds"] = int(exc.wait)
    response.data = problem(response.status_code, detail, instance=request.get_full_path(), **extra)
    response.content_type = PROBLEM_JSON
    return response


def problem_response(request, status, detail):
    """For errors raised outside DRF's views (unknown /api/ URLs, crashes)."""
    return JsonResponse(
        problem(status, detail, instance=request.get_full_path()), status=status, content_type=PROBLEM_JSON
    )


class RefuseNulCharactersMiddleware:
    """The API answers 400 to NUL characters in the query or the body, before any view sees them.

    PostgreSQL cannot store or even compare text containing NUL; letting one reach
    a query would be a 500 (and abort the transaction it ran in).
    """

    MARKERS = (b"\x00", b"\\u0000", b"%00")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and self.has_nul(request):
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
