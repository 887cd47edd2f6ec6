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
import json
import re
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.middleware.gzip import re_accepts_gzip
from django.template import RequestContext
from django.template.loader import get_template
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.html import format_html

from SyroMusic import caching

LOCK_SECONDS = 30
LOCK_WAIT_SECONDS = 10
LOCK_POLL_SECONDS = 0.02
# Headers of the rendered page that are not kept: each answer sets its own.
NOT_KEPT = frozenset(
    {"content-length", "content-encoding", "vary", "cache-control", "etag", "set-cookie", "expires", "x-accel-expires"}
)


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


def mark_public(response, max_age=0):
    """The same for every anonymous visitor: browsers revalidate (or keep it `max_age` seconds), shared
    caches may keep it PAGE_SHARED_SECONDS. X-Accel-Expires says so to the nginx front, which keeps
    only what carries it (deploy/nginx.conf: a file or a listener's answer is never its to keep)."""
    patch_cache_control(response, public=True, max_age=max_age, s_maxage=settings.PAGE_SHARED_SECONDS,
                        **({"must_revalidate": True} if not max_age else {}))
    response["X-Accel-Expires"] = str(settings.PAGE_SHARED_SECONDS)
    patch_vary_headers(response, ["Accept-Encoding", "Cookie"])


def _personal(request, response):
    """True when rendering made something of this visitor's: a cookie set, a CSRF token used (its cookie
    is set on the way out, when a view called from another view renders), a session written."""
    session = getattr(request, "session", None)
    return bool(
        response.cookies or response.has_header("Set-Cookie") or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        or (session is not None and session.modified)
    )


def _unshare(response):
    """A page marked public that turned out personal: for this visitor's browser only."""
    response.headers.pop("X-Accel-Expires", None)
    response.headers.pop("Cache-Control", None)
    patch_cache_control(response, private=True, no_cache=True)
    return response


def cached_areas(request):
    """The areas of the page-cached view this request goes to, or None."""
    try:
        match = request.syro_match = resolve(request.path_info)  # SyroMusic.api.kept reads it again
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
        if not getattr(response, "syro_shared", False):
            return response
        if _personal(request, response):
            return _unshare(response)  # something personal was made while rendering: answered, never kept
        if response.status_code != 200 or response.streaming:
            return response
        entry = make_entry(response, current)
        if entry is None:
            return response
        cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
        return respond(request, entry)
    finally:
        if locked:
            cache.delete(lock)


# A listener's own parts of a page (templates/base.html marks them), and the template each is made from.
LISTENER_PARTS = {
    "state": "syromusic/_page_state.html",
    "account": "syromusic/_account.html",
    "messages": "syromusic/_messages.html",
}
_PART = re.compile(rb"<!--syro:(state|account|messages)-->.*?<!--/syro:\1-->", re.S)
_SLOT = re.compile(rb"<!--syro:slot:(state|account|messages)-->")


def _listener_copy(content):
    """A listener's page with their parts taken out (slots left), or None if anything else in it is theirs."""
    generic, found = _PART.subn(lambda match: b"<!--syro:slot:" + match.group(1) + b"-->", content)
    if found != len(LISTENER_PARTS) or b"csrfmiddlewaretoken" in generic:
        return None  # a form of theirs outside the parts: not the same for every listener
    return generic


def _fill(request, content):
    """A kept listener copy with this listener's parts put in (their name, their CSRF token, their messages).

    The parts share one RequestContext, bound once: its context processors (the user, the messages) run once,
    not once a part; each part renders in a context level of its own."""
    context = RequestContext(request)
    templates = {name: get_template(template).template for name, template in LISTENER_PARTS.items()}
    parts = {}
    with context.bind_template(next(iter(templates.values()))):
        for name, template in templates.items():
            with context.push():
                html = template.render(context)
            parts[name.encode()] = f"<!--syro:{name}-->{html}<!--/syro:{name}-->".encode()
    return _SLOT.sub(lambda match: parts[match.group(1)], content)


def _for_listener(request, areas, view, args, kwargs):
    """A list page for a logged-in listener: the page kept for every listener (keyed like the visitors'
    one, checked against the same versions) with this listener's own parts rendered into it."""
    key = page_key(request, prefix="listener")
    entry, current = lookup(key, areas)
    if entry is not None:
        response = HttpResponse(_fill(request, entry["content"]), content_type=entry["content_type"])
    else:
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            generic = _listener_copy(response.content)
            if generic is not None:
                entry = {"versions": current, "content": generic, "content_type": response["Content-Type"]}
                cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
    patch_cache_control(response, private=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def cache_page_for_visitors(*areas, listeners=False):
    """Mark a GET view's page as the same for every anonymous visitor until one of `areas` changes.

    PageCacheMiddleware keeps and serves it (and this wrapper does, for a view another view calls).
    The page must not depend on who is asking when the request is clean; for anyone else it is
    rendered afresh, and private when they are logged in. With listeners=True (a page whose only
    parts of a listener's own are the ones base.html marks) logged-in listeners share a kept copy too,
    with their own parts put in.
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
            if listeners and request.method == "GET" and request.user.is_authenticated:
                return _for_listener(request, areas, view, args, kwargs)
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


def api_read(*areas, listeners=False, like=None, own=False):
    """Cache a DRF read of data every anonymous client sees alike, until one of `areas` changes.

    For a viewset method or a function view under @api_view: authentication, permissions and
    throttling have run before it (every request still counts against the rate limit). Only JSON is
    cached (the browsable API page carries the visitor's name and CSRF token). Kept gzip-compressed,
    like pages.

    A logged-in listener's answer may hold their private playlists: it is rendered afresh, unless
    `listeners` says the answer is the same for everyone but for `liked` on its rows. Then they get
    the kept answer too, with their likes put in: one query for the rows they like among the kept
    ids. `like` names the Like column of the rows (for a viewset: its like_field by default).

    `listeners` may instead be a function of the request for an answer whose listener's parts are more
    than likes (search: their private playlists, their history). It returns None when this answer is
    not shared (rendered afresh), or `put_in(request, data)`, which makes the kept answer's data theirs
    in place. The kept answer is then the one an anonymous client gets: the view renders it for nobody
    when `request.syro_shared` is set.

    `own`: a listener's answer is theirs alone (their private playlists in order among the public ones):
    kept for them alone, under a key with their id, until one of `areas` changes. Never marked for a
    shared cache.
    """
    areas = areas or caching.AREAS

    def decorator(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            self, request = (None, args[0]) if not hasattr(args[0], "finalize_response") else args[:2]
            view = self or request.parser_context["view"]
            listener = request.user.is_authenticated
            put_in = listeners(request) if listener and callable(listeners) else None
            if (
                request.method != "GET"
                or (listener and not (listeners or own))
                or (listener and callable(listeners) and put_in is None)
                or getattr(request.accepted_renderer, "format", None) != "json"
            ):
                return method(*args, **kwargs)
            if listener and own:
                return _own_answer(request, areas, lambda: method(*args, **kwargs), lambda response: view.finalize_response(
                    request, response, *args[2 if self else 1:], **kwargs))
            like_field = like or getattr(self, "like_field", None)
            key = page_key(request, prefix="api")
            entry, current = lookup(key, areas)
            if entry is not None:
                if put_in is not None:
                    return _json_answer(put_in(request, json.loads(gzip.decompress(entry["gzip"]))))
                return _listener_answer(request, entry, like_field) if listener else _kept_answer(request, entry, areas)
            if put_in is not None:
                request.syro_shared = True
            response = method(*args, **kwargs)
            if response.status_code != 200:
                return response
            response = view.finalize_response(request, response, *args[2 if self else 1:], **kwargs)
            response.render()
            rows = _rows(response.data)
            if put_in is not None:
                _keep(key, response, current)
                return _json_answer(put_in(request, json.loads(response.content)))
            if listener:
                # What an anonymous client would get: the same rows, liking nothing.
                for row in rows:
                    if "liked" in row:
                        row["liked"] = False
                shared = HttpResponse(response.accepted_renderer.render(
                    response.data, response.accepted_media_type, response.renderer_context
                ), content_type=response["Content-Type"])
            else:
                shared = response
            entry = _keep(key, shared, current, ids=[row["id"] for row in rows if "id" in row])
            if entry is None:
                return response
            return response if listener else _kept_answer(request, entry, areas)

        return wrapper

    return decorator


def _own_answer(request, areas, answer, finalize):
    key = page_key(request, prefix=f"api-of-{request.user.pk}")
    entry, current = lookup(key, areas)
    if entry is None:
        response = answer()
        if response.status_code != 200:
            return response
        response = finalize(response)
        response.render()
        entry = _keep(key, response, current)
        if entry is None:
            return response
    response = _api_answer(request, entry)
    patch_cache_control(response, private=True)
    patch_vary_headers(response, ["Cookie", "Authorization"])
    return response


def _keep(key, response, current, **extra):
    """Keep a rendered answer under `key` (with `extra` fields) until the areas move on from `current`; the
    entry, or None when the answer cannot be kept (make_entry)."""
    entry = make_entry(response, current)
    if entry is not None:
        entry.update(extra)
        cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
    return entry


def _rows(data):
    """The objects of an API answer: a page's results, or the one object of a detail."""
    if isinstance(data, dict):
        results = data.get("results")
        return [row for row in results if isinstance(row, dict)] if isinstance(results, list) else [data]
    return []


def _listener_answer(request, entry, like_field):
    """The kept answer with `liked` set on the rows this listener likes (none: the kept bytes as they are)."""
    from SyroMusic.services import liked_among

    liked = liked_among(request.user, {like_field: entry["ids"]})[like_field] if like_field and entry.get("ids") else set()
    if not liked:
        return _api_answer(request, entry)
    data = json.loads(gzip.decompress(entry["gzip"]))
    for row in _rows(data):
        if row.get("id") in liked and "liked" in row:
            row["liked"] = True
    return _json_answer(data)


def _json_answer(data):
    """An API answer of data as DRF's JSONRenderer writes it (compact, UTF-8, U+2028/U+2029 escaped): the
    web layer knows no DRF."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    content = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
    response = HttpResponse(content, content_type="application/json")
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _kept_answer(request, entry, areas):
    """The kept answer for an anonymous client, marked (`syro_kept_api`, the areas it follows) so that
    SyroMusic.api.kept may answer the next such request itself, before the middleware below it and DRF."""
    http_request = getattr(request, "_request", request)
    http_request.syro_kept_api = areas
    return _api_answer(http_request, entry)


def kept_api_answer(request, areas):
    """The answer kept for this anonymous API request if it is still current (as _kept_answer gives it),
    else None: one cache round trip."""
    entry = lookup(page_key(request, prefix="api"), areas)[0]
    return None if entry is None else _api_answer(request, entry)


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
    response["Content-Length"] = str(len(response.content))
    # JSON was chosen from Accept (the browsable API answers HTML), and the encoding from Accept-Encoding.
    patch_vary_headers(response, ["Accept", "Accept-Encoding"])
    return response
