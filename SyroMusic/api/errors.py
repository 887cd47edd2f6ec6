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
