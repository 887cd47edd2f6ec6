"""Page caching for anonymous visitors, correct under writes, logins and stampedes, and cheap to hit.

- Pages are checked against the versions of what they show (SyroMusic.caching), so a write anywhere
  shows on the very next request to Django.
- Only "clean" requests (no session cookie, no messages cookie) are served from or stored in the
  cache. A page kept for them is the same for every visitor: it carries no CSRF token (the header's
  log-in is a link to the log-in page), and a page that set a cookie while rendering is never kept.
  Everyone else gets a fresh page, and a logged-in listener's says `Cache-Control: private`.
- A kept page is stored gzip-compressed (level 9, once), with every header the full stack gave it,
  in one entry that also names the versions it was made from. PageCacheMiddleware, near the top of
  the stack, answers a hit with one cache round trip (the entry and the current versions in one
  MGET) before sessions, CSRF or the view run. A browser without gzip gets it decompressed.
- Kept pages say `Cache-Control: public, max-age=0, must-revalidate, s-maxage=PAGE_SHARED_SECONDS`
  with `Vary: Accept-Encoding, Cookie`: browsers revalidate (a 304 from the ETag), and a shared
  cache (the nginx front, a CDN) may answer anonymous browsing for a few seconds without Django.
- On a miss, one request renders while concurrent ones for the same page wait for its result (a
  lock in the cache), instead of all running the queries.

API answers to anonymous clients (api_read) are kept the same way, after authentication and
throttling have run: every API request still counts against its client's rate limit.
"""

import functools
import gzip
import hashlib
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.middleware.gzip import re_accepts_gzip
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.html import format_html

from SyroMusic import caching

LOCK_SECONDS = 30
LOCK_WAIT_SECONDS = 10
LOCK_POLL_SECONDS = 0.02
# Headers of the rendered page that are not kept: each answer sets its own.
NOT_KEPT = frozenset({"content-length", "content-encoding", "vary", "cache-control", "etag", "set-cookie", "expires"})


def is_clean(request):
    """True when nothing about the visitor can appear in the page: no session, no pending messages."""
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES


def csrf_input(request):
    """The CSRF hidden input for this request, the same string however often a page asks for it.

    A page that asks for it sets the CSRF cookie, so it is never kept for other visitors."""
    html = getattr(request, "_syro_csrf_html", None)
    if html is None:
        html = request._syro_csrf_html = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
        )
    return html


def page_key(request, prefix="page"):
    # Parameters in any order are one page, but the values of a repeated one keep their order:
    # `?q=a&q=b` and `?q=b&q=a` are different pages (a view reads the last value).
    query = urlencode(sorted(request.GET.lists(), key=lambda item: item[0]), doseq=True)
    # Whether anonymous visitors may listen changes what a song page shows them (a player, or "Log in
    # to listen"): a server restarted with STREAM_ANONYMOUS flipped must not serve the other kind.
    listen = "listen" if settings.STREAM_ANONYMOUS else "no-listen"
    raw = f"{request.scheme}://{request.get_host()}{request.path}?{query}#{listen}"
    return f"{prefix}:{hashlib.sha256(raw.encode()).hexdigest()}"


def lookup(key, areas):
    """(the entry kept under key if it is still current, or None; the areas' current versions).

    One round trip to Redis: the entry and the versions in one MGET. A version missing from the cache
    (first use, or evicted) is created afresh, so no entry made before an eviction is ever current.
    """
    if settings.CACHE_VERSIONS_DIR:
        entry, current = cache.get(key), caching.versions(areas)
    else:
        version_keys = [caching.version_key(area) for area in areas]
        found = cache.get_many([key, *version_keys])
        entry = found.get(key)
        if all(version_key in found for version_key in version_keys):
            current = tuple(found[version_key] for version_key in version_keys)
        else:
            entry, current = None, caching.versions(areas)
    if entry is not None and entry["versions"] != current:
        entry = None
    return entry, current


def make_entry(response, current):
    """What is kept of a rendered 200: its body gzip-compressed once, its headers, an ETag of its content."""
    if response.has_header("Content-Encoding"):
        return None  # an encoding of its own: not ours to keep (GZipMiddleware leaves shared answers alone)
    plain = response.content
    compressed = gzip.compress(plain, compresslevel=9, mtime=0)
    return {
        "versions": current,
        "status": response.status_code,
        "headers": [(name, value) for name, value in response.items() if name.lower() not in NOT_KEPT],
        "gzip": compressed,
        "etag": f'W/"{hashlib.sha256(plain).hexdigest()[:32]}"',
    }


def respond(request, entry):
    """The kept page as this request's answer: gzip if accepted, 304 if the browser has it already."""
    if re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        body, encoding = entry["gzip"], "gzip"
    else:
        body, encoding = gzip.decompress(entry["gzip"]), None
    response = HttpResponse(body, status=entry["status"])
    for name, value in entry["headers"]:
        response[name] = value
    if encoding:
        response["Content-Encoding"] = encoding
    response["Content-Length"] = str(len(body))
    response["ETag"] = entry["etag"]
    mark_public(response)
    return get_conditional_response(request, etag=entry["etag"], response=response)


def mark_public(response):
    """The same for every anonymous visitor: browsers revalidate, shared caches may keep it briefly."""
    patch_cache_control(response, public=True, max_age=0, must_revalidate=True, s_maxage=settings.PAGE_SHARED_SECONDS)
    patch_vary_headers(response, ["Accept-Encoding", "Cookie"])


def cached_areas(request):
    """The areas of the page-cached view this request goes to, or None."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return getattr(match.func, "page_cache_areas", None)


class PageCacheMiddleware:
    """Serves and keeps the pages of views marked with cache_page_for_visitors, for clean requests.

    Sits near the top of the stack: a hit runs no other middleware (the kept headers are the ones they
    set), a miss runs the whole stack once and keeps what it answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or not is_clean(request):
            return self.get_response(request)
        areas = cached_areas(request)
        if areas is None:
            return self.get_response(request)
        request._syro_page_cached = True
        return serve(request, areas, self.get_response)


def serve(request, areas, render):
    """The kept page for this clean request, or render(request) kept (once, however many ask at once)."""
    key = page_key(request)
    entry, current = lookup(key, areas)
    if entry is not None:
        return respond(request, entry)
    lock = f"lock:{key}:{'-'.join(map(str, current))}"
    locked = cache.add(lock, 1, timeout=LOCK_SECONDS)
    try:
        if not locked and cache.get(lock) is not None:
            # Someone else is rendering: wait for its result.
            entry = _wait_for(key, lock, areas)
        else:
            # We render; or that lock went just now (page stored, or its request failed), or the cache is down.
            entry, current = lookup(key, areas)
        if entry is not None:
            return respond(request, entry)
        response = render(request)
        if not getattr(response, "syro_shared", False) or response.status_code != 200 or response.streaming:
            return response
        if response.cookies or response.has_header("Set-Cookie"):
            return response  # something personal was made while rendering: answered, never kept
        entry = make_entry(response, current)
        if entry is None:
            return response
        cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
        return respond(request, entry)
    finally:
        if locked:
            cache.delete(lock)


def cache_page_for_visitors(*areas):
    """Mark a GET view's page as the same for every anonymous visitor until one of `areas` changes.

    PageCacheMiddleware keeps and serves it (and this wrapper does, for a view another view calls).
    The page must not depend on who is asking when the request is clean; for anyone else it is
    rendered afresh, and private when they are logged in.
    """
    areas = areas or caching.AREAS

    def decorator(view):
        def shared(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response.syro_shared = True
            mark_public(response)
            return response

        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in ("GET", "HEAD") and is_clean(request):
                if getattr(request, "_syro_page_cached", False):
                    return shared(request, *args, **kwargs)
                request._syro_page_cached = True
                return serve(request, areas, lambda request: shared(request, *args, **kwargs))
            response = view(request, *args, **kwargs)
            if request.user.is_authenticated:
                patch_cache_control(response, private=True)
            patch_vary_headers(response, ["Cookie"])
            return response

        wrapper.page_cache_areas = areas
        return wrapper

    return decorator


def _wait_for(key, lock, areas):
    """Another request is rendering this page: wait for its result, up to a limit.

    Stop waiting as soon as the lock is gone without a page (that request failed,
    or the cache went away): then this request renders the page itself.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(LOCK_POLL_SECONDS)
        entry, _current = lookup(key, areas)
        if entry is not None:
            return entry
        if cache.get(lock) is None:
            return lookup(key, areas)[0]
    return None


def api_read(*areas):
    """Cache a DRF read of data every anonymous client sees alike, until one of `areas` changes.

    For a viewset method or (with `view=None` in the call) a function view under @api_view:
    authentication, permissions and throttling have run before it (every request still counts
    against the rate limit). Only anonymous reads are cached: a logged-in listener's answer says
    what they like (`liked`) and holds their private playlists. Only JSON is cached (the browsable
    API page carries the visitor's name and CSRF token). Kept gzip-compressed, like pages.
    """
    areas = areas or caching.AREAS

    def decorator(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            self, request = (None, args[0]) if not hasattr(args[0], "finalize_response") else args[:2]
            view = self or request.parser_context["view"]
            if (
                request.method != "GET"
                or request.user.is_authenticated
                or getattr(request.accepted_renderer, "format", None) != "json"
            ):
                return method(*args, **kwargs)
            key = page_key(request, prefix="api")
            entry, current = lookup(key, areas)
            if entry is not None:
                return _api_answer(request, entry)
            response = method(*args, **kwargs)
            if response.status_code != 200:
                return response
            response = view.finalize_response(request, response, *args[2 if self else 1:], **kwargs)
            response.render()
            entry = make_entry(response, current)
            if entry is None:
                return response
            cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
            return _api_answer(request, entry)

        return wrapper

    return decorator


def _api_answer(request, entry):
    if re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        response = HttpResponse(entry["gzip"])
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(entry["gzip"]))
    for name, value in entry["headers"]:
        if name.lower() in ("content-type", "allow"):
            response[name] = value
    response["ETag"] = entry["etag"]  # ConditionalGetMiddleware answers 304 with it, without hashing the body
    patch_vary_headers(response, ["Accept-Encoding"])
    return response
