"""Rate limits that hold for the whole deployment.

DRF's stock throttles read a history from the cache, decide and write it back,
so concurrent requests in several processes each see the old history and slip
through. Here each request is one atomic increment of a counter per client and
window (Redis INCR through django-redis; the in-memory cache's incr holds a
lock), so with 4 gunicorn workers a client still gets exactly its limit.

Policy when the cache (Redis) is unreachable: the API keeps answering, without
limits, and logs a warning. Refusing every request because the rate limiter is
down would turn a cache outage into an API outage.
"""

import logging
import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from SyroMusic.web.limits import client_address, count_up

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 3600


class HourlyRateThrottle(BaseThrottle):
    """A fixed one-hour window: `limit` requests from each client, counted atomically."""

    scope = None

    def limit(self):
        return settings.API_THROTTLE_RATES[self.scope]

    def identity(self, request):
        raise NotImplementedError

    def allow_request(self, request, view):
        return self.count(request._request, self.identity(request))

    def count(self, http_request, identity):
        """Count a request of `identity` (None: not one this throttle limits); whether it is within the limit.
        Also what SyroMusic.api.kept counts an anonymous client's kept answer with, before DRF runs."""
        if identity is None:
            return True
        now = time.time()
        window_start = int(now // WINDOW_SECONDS * WINDOW_SECONDS)
        self.reset_at = window_start + WINDOW_SECONDS
        key = f"throttle:{self.scope}:{identity}:{window_start}"
        try:
            # The counters' own cache (settings.CACHES["limits"]): a flood of pages cannot evict them.
            count = count_up(key, WINDOW_SECONDS + 60)
        except Exception:  # the cache is down: answer anyway (see the module's policy)
            count = None
        if count is None:
            logger.warning("rate limiting is off for this request: the cache is unreachable")
            return True
        limit = self.limit()
        self.wait_seconds = max(1, int(self.reset_at - now))
        # Every response carries the client's limit, what is left and when the window resets
        # (SyroMusic.web.middleware.RateLimitHeadersMiddleware writes the headers).
        http_request.rate_limit = {"limit": limit, "remaining": max(0, limit - count), "reset": self.reset_at}
        return count <= limit

    def wait(self):
        return getattr(self, "wait_seconds", None)


class AnonymousRateThrottle(HourlyRateThrottle):
    scope = "anonymous"

    def identity(self, request):
        if request.user and request.user.is_authenticated:
            return None
        # The one rule for the client's address (the login limiter's too): behind TRUSTED_PROXIES
        # proxies, so a client cannot pick its own identity.
        return client_address(request)


class UserRateThrottle(HourlyRateThrottle):
    scope = "user"

    def identity(self, request):
        if request.user and request.user.is_authenticated:
            return f"user-{request.user.pk}"
        return None
