"""The 404 and 500 pages (problem details for API addresses)."""

import logging

from django.http import HttpResponseServerError
from django.shortcuts import render

from SyroMusic.web.problems import problem_response, wants_problem

PLAIN_500 = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong · SyroMusic</title>'
    "</head><body><h1>Something went wrong</h1><p>The server could not show this page. Please try again in a "
    'moment.</p><p><a href="/">Go to the home page</a></p></body></html>'
)

logger = logging.getLogger(__name__)


def page_not_found(request, exception):
    if wants_problem(request):
        return problem_response(request, 404, "There is no API endpoint at this address.")
    return render(request, "404.html", status=404)


def server_error(request):
    if wants_problem(request):
        return problem_response(request, 500, "The server failed to answer this request. It has been logged.")
    # No context processors: whatever failed may be what they would call. And if the
    # layout itself cannot render (say, static files were never collected), say so plainly.
    try:
        return render(None, "500.html", status=500)
    except Exception:
        logger.exception("the 500 page could not be rendered")
        return HttpResponseServerError(PLAIN_500, content_type="text/html; charset=utf-8")
