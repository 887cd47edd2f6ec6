"""Offline mode: the service worker's script and the page it shows for a page never visited.

The worker itself is static/syromusic/sw.js; what it is told (its version, the files to keep) is
SyroMusic.web.service_worker.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from SyroMusic.web.service_worker import worker_script


@require_safe
def service_worker(request):
    """/sw.js, so that its scope is the whole site. Never cached: a deploy's new worker must be seen at once."""
    response = HttpResponse(worker_script(), content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def offline(request):
    """What the worker shows for a page it never kept. The worker stores it for every visitor of this browser,
    so it is rendered without the request: no user, no messages (which it would consume), no CSRF token."""
    response = HttpResponse(render_to_string("syromusic/offline.html"))
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
def saved(request):
    """The music saved for offline in this browser. The server does not know what that is: saved.js lists it
    from the browser's storage, so the page is the same for everyone (and says so without JavaScript)."""
    return render(request, "syromusic/saved.html")
