"""DRF's errors as RFC 9457 problem details (the shape lives in SyroMusic.web.problems)."""


from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from SyroMusic.web.limits import LimitReached
from SyroMusic.web.problems import PROBLEM_JSON, problem


def exception_handler(exc, context):
    """DRF's handler, with the body rewritten as problem details; field errors go in `errors`."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, LimitReached):
        # A password guessed too often (the token endpoint), too many shares...: 429 with Retry-After, like a throttle.
        wait, exc = exc.wait, exceptions.Throttled(detail=str(exc))
        exc.wait = wait  # set after: the detail already says how long, in minutes
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
