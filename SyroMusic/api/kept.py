"""Kept API answers for anonymous clients, answered before sessions, CSRF, authentication and DRF run.

An anonymous JSON read that api_read keeps (SyroMusic.web.page_cache) is the same bytes for every such
client until the catalogue or the playlists change. Answering it through the whole middleware stack and
DRF's dispatch (a Request, two authenticators, two throttles, permissions, content negotiation) cost
three times what answering a kept page costs (issue 19). KeptAnswerMiddleware, below the security, gzip
and conditional-GET middleware and above the rest, answers such a request itself:

- only a request DRF would answer anonymously in JSON: GET, no session or messages cookie, no
  Authorization header, no `format` parameter, and an Accept header that is absent, `*/*` or
  `application/json` (without parameters: `indent=4` changes the bytes);
- only for an address whose view it has seen answer a kept answer (api_read marks it), with that view's
  headers as the layers below gave them then, and only when that view's throttles are the API's own;
- counting the client against the same hourly limit as DRF would (SyroMusic.api.throttling), with the
  same X-RateLimit headers. A client over its limit, or a request with no current kept answer, goes
  down the stack as before: DRF answers the 429, or renders and keeps the answer.
"""

from django.urls import Resolver404, resolve
from rest_framework.settings import api_settings

from SyroMusic.web.limits import client_address
from SyroMusic.web.middleware import write_rate_limit
from SyroMusic.web.page_cache import is_clean, kept_api_answer

from .throttling import AnonymousRateThrottle, UserRateThrottle

API_PREFIX = "/api/"
JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})
# Headers each answer sets for itself (the rest are learned from the view's kept answer).
OWN_HEADERS = frozenset({
    "content-type", "content-length", "content-encoding", "etag", "allow", "x-ratelimit-limit",
    "x-ratelimit-remaining", "x-ratelimit-reset",
})


def _json_wanted(request):
    accept = request.META.get("HTTP_ACCEPT", "")
    return all(part.strip() in JSON_ACCEPTS for part in accept.split(","))


def _view(request):
    """The URL's match (PageCacheMiddleware's, when it resolved it already) and its DRF view class."""
    match = getattr(request, "syro_match", None)
    if match is None:
        try:
            match = request.syro_match = resolve(request.path_info)
        except Resolver404:
            return None, None
    return match, getattr(match.func, "cls", None)


class KeptAnswerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # URL name -> (the view's class, the areas its kept answers follow, the headers the layers below
        # this one gave its kept answer). Learned per process from answers api_read marked.
        self.learned = {}

    def __call__(self, request):
        if not (request.path_info.startswith(API_PREFIX) and request.method == "GET"):
            return self.get_response(request)
        anonymous = (
            is_clean(request) and "HTTP_AUTHORIZATION" not in request.META
            # DRF's test client logs a client in without a header (APIClient.force_authenticate).
            and getattr(request, "_force_auth_user", None) is None
        )
        if anonymous and "format" not in request.GET and _json_wanted(request):
            match, cls = _view(request)
            known = self.learned.get(match.view_name) if match else None
            if known is not None and known[0] is cls and self._throttled_as_usual(cls):
                response = kept_api_answer(request, known[1])
                if response is not None and AnonymousRateThrottle().count(request, client_address(request)):
                    for name, value in known[2]:
                        response[name] = value
                    response.syro_kept_answer = True  # for the tests: answered here
                    return write_rate_limit(request, response)
        response = self.get_response(request)
        areas = getattr(request, "syro_kept_api", None)
        if areas is not None and anonymous and response.status_code == 200 and not response.cookies:
            match, cls = _view(request)
            if match is not None and self._throttled_as_usual(cls):
                headers = [(name, value) for name, value in response.items() if name.lower() not in OWN_HEADERS]
                self.learned[match.view_name] = (cls, areas, headers)
        return response

    @staticmethod
    def _throttled_as_usual(cls):
        """The view counts an anonymous client as the API does by default, and nothing else."""
        throttles = getattr(cls, "throttle_classes", None)
        return throttles == api_settings.DEFAULT_THROTTLE_CLASSES and set(throttles) == {
            AnonymousRateThrottle, UserRateThrottle
        }
