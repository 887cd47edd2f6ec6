"""Page caching for anonymous visitors, correct under writes, logins and stampedes.

- Pages are keyed by the versions of what they show (SyroMusic.caching), so a write anywhere shows
  on the very next request.
- Only "clean" requests (no session cookie, no messages cookie) are served
  from or stored in the cache, so a page never carries one visitor's login,
  messages or playlists to another. Everyone else gets a fresh page, and a
  logged-in user's says `Cache-Control: private`.
- A cached page holds a slot where the CSRF token goes; each response fills
  it with the current visitor's own token, so forms on cached pages post.
- On a miss, one request renders while concurrent ones for the same page wait
  for its result (a lock in the cache), instead of all running the queries.
"""

import functools
import hashlib
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.html import format_html

from SyroMusic.caching import AREAS, versions

CSRF_SLOT = "<!--syro:csrf-token-->"
LOCK_SECONDS = 30
LOCK_WAIT_SECONDS = 10
LOCK_POLL_SECONDS = 0.02


def is_clean(request):
    """True when nothing about the visitor can appear in the page: no session, no pending messages."""
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES


def csrf_input(request):
    """The CSRF hidden input for this request, the same string however often a page asks for it."""
    html = getattr(request, "_syro_csrf_html", None)
    if html is None:
        html = request._syro_csrf_html = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
        )
    return html


def _page_key(request, area_versions):
    # Parameters in any order are one page, but the values of a repeated one keep their order:
    # `?q=a&q=b` and `?q=b&q=a` are different pages (a view reads the last value).
    query = urlencode(sorted(request.GET.lists(), key=lambda item: item[0]), doseq=True)
    # Whether anonymous visitors may listen changes what a song page shows them (a player, or "Log in
    # to listen"): a server restarted with STREAM_ANONYMOUS flipped must not serve the other kind.
    listen = "listen" if settings.STREAM_ANONYMOUS else "no-listen"
    raw = f"{request.scheme}://{request.get_host()}{request.path}?{query}#{listen}"
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return f"page:{'-'.join(map(str, area_versions))}:{digest}"


def _respond(request, entry):
    body = entry["content"]
    if CSRF_SLOT.encode() in body:
        body = body.replace(CSRF_SLOT.encode(), csrf_input(request).encode())
    response = HttpResponse(body, content_type=entry["content_type"], status=entry["status"])
    response["ETag"] = entry["etag"]
    _mark_shared(response)
    return response


def _mark_shared(response):
    # The body carries this visitor's CSRF token: browsers may keep it, shared caches must not.
    patch_cache_control(response, private=True, max_age=0, must_revalidate=True)
    patch_vary_headers(response, ["Cookie"])


def _store(request, key, response):
    content = response.content
    token_html = getattr(request, "_syro_csrf_html", None)
    if token_html:
        content = content.replace(token_html.encode(), CSRF_SLOT.encode())
    entry = {
        "content": content,
        "content_type": response["Content-Type"],
        "status": response.status_code,
        "etag": f'W/"{hashlib.sha256(content).hexdigest()[:32]}"',
    }
    cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
    return entry


def cache_page_for_visitors(*areas):
    """Cache a GET view's page for anonymous visitors until one of `areas` changes.

    The view's template writes `{% csrf_slot %}` wherever a form needs the CSRF
    token; the rest of the page must not depend on who is asking.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD") or not is_clean(request):
                response = view(request, *args, **kwargs)
                if request.user.is_authenticated:
                    patch_cache_control(response, private=True)
                patch_vary_headers(response, ["Cookie"])
                return response

            key = _page_key(request, versions(areas or AREAS))
            entry = cache.get(key)
            if entry is not None:
                return _respond(request, entry)

            lock = f"lock:{key}"
            locked = cache.add(lock, 1, timeout=LOCK_SECONDS)
            if locked:
                # Another request may have stored the page between our miss and our lock.
                entry = cache.get(key)
            elif cache.get(lock) is not None:
                # Someone else is rendering: wait for its result.
                entry = _wait_for(key, lock)
            else:
                # Its lock went just now (page stored, or that request failed), or the cache is down.
                entry = cache.get(key)
            if entry is not None:
                if locked:
                    cache.delete(lock)
                return _respond(request, entry)
            try:
                response = view(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming or response.cookies:
                    return response
                entry = _store(request, key, response)
                response["ETag"] = entry["etag"]
                _mark_shared(response)
                return response
            finally:
                if locked:
                    cache.delete(lock)

        return wrapper

    return decorator


def _wait_for(key, lock):
    """Another request is rendering this page: wait for its result, up to a limit.

    Stop waiting as soon as the lock is gone without a page (that request failed,
    or the cache went away): then this request renders the page itself.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(LOCK_POLL_SECONDS)
        entry = cache.get(key)
        if entry is not None:
            return entry
        if cache.get(lock) is None:
            return cache.get(key)
    return None


def api_read(*areas):
    """Cache a DRF read of public data (the catalogue) until one of `areas` changes.

    For a viewset method: authentication, permissions and throttling have run
    before it (every request still counts against the rate limit). Only anonymous
    reads are cached: a logged-in listener's answer says what they like (`liked`).
    Only JSON is cached (the browsable API page carries the visitor's name and CSRF token).
    """

    def decorator(method):
        @functools.wraps(method)
        def wrapper(self, request, *args, **kwargs):
            if (
                request.method != "GET"
                or request.user.is_authenticated
                or getattr(request.accepted_renderer, "format", None) != "json"
            ):
                return method(self, request, *args, **kwargs)
            key = "api-" + _page_key(request, versions(areas or AREAS))
            entry = cache.get(key)
            if entry is not None:
                return HttpResponse(entry["content"], content_type=entry["content_type"])
            response = method(self, request, *args, **kwargs)
            if response.status_code == 200:
                response = self.finalize_response(request, response, *args, **kwargs)
                response.render()
                entry = {"content": response.content, "content_type": response["Content-Type"]}
                cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
            return response

        return wrapper

    return decorator
