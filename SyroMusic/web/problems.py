"""One error shape for every machine-readable answer: RFC 9457 problem details, `application/problem+json`."""

from http import HTTPStatus

from django.http import JsonResponse

PROBLEM_JSON = "application/problem+json"


def problem(status, detail, *, instance="", **extra):
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(request, status, detail):
    """For errors raised outside DRF's views (unknown /api/ URLs, crashes, middleware refusals)."""
    return JsonResponse(
        problem(status, detail, instance=request.get_full_path()), status=status, content_type=PROBLEM_JSON
    )


def wants_problem(request):
    """Machine clients (the API) get problem details; people get pages."""
    return request.path.startswith("/api/")
