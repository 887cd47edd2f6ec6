"""What one client or account may do in a while: password logins, sign-ups, reset mails, shares.

Failed logins are counted per username and per address; past a limit, logins wait. Every way to
log in with a password (the login page, the admin's, the API's token endpoint and any later one)
goes through Django's authenticate(), so the limiter is an authentication backend: past a limit it
raises LoginBlocked before even checking the password, so guessing gains nothing, and the face
answers 429 its own way. The message is the same whether or not the username exists.

The counters live in their own cache (settings.CACHES["limits"], Redis in production so all
processes share them), never in the page cache: a flood of distinct pages must not evict a
lockout. A window opens at the first counted event and lasts `seconds`.
"""

import hashlib
import logging
import math
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches

from SyroMusic import caching

logger = logging.getLogger(__name__)


def client_address(request):
    """The client's address, for every limit: REMOTE_ADDR, or behind TRUSTED_PROXIES proxies the
    address the outermost of them saw (that many entries from the end of X-Forwarded-For).

    With no trusted proxy the header is ignored: a client could write anything in it.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not proxies or not forwarded:
        return remote
    addresses = [address.strip() for address in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote


def store():
    """The cache the counters live in (and the API's rate limits): not the page cache."""
    return caches["limits"]


def count_up(key, timeout, opened=None):
    """Add one to the counter `key` in store() (made with `timeout` seconds to live if new) and return its
    count; with `opened`, also keep under that key when the counter was made (time.time()). On Redis one
    round trip (SET NX EX and INCR in one MULTI, so the counter cannot expire between them and be made again
    without a lifetime) instead of two or three: every API request counts itself. Raises what the store
    raises when it is unreachable."""
    cache = store()
    client = getattr(cache, "client", None)
    if hasattr(client, "get_client"):  # django-redis: it keeps integers as plain Redis integers, as INCR does
        name = client.make_key(key)
        pipe = client.get_client(write=True).pipeline(transaction=True)
        if opened is not None:
            pipe.set(client.make_key(opened), client.encode(time.time()), ex=timeout, nx=True)
        pipe.set(name, 0, ex=timeout, nx=True)
        pipe.incr(name)
        return pipe.execute()[-1]
    if opened is not None:
        cache.add(opened, time.time(), timeout=timeout)
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


class Limit:
    """At most `count` events per key in `seconds`, each counted with one atomic increment."""

    def __init__(self, name, *, count, seconds, refusal):
        self.name, self.count, self.seconds, self.refusal = name, count, seconds, refusal

    def _keys(self, key):
        # Hashed: a typed username may hold spaces or be long, which some caches refuse in a key.
        counter = f"limit:{self.name}:{hashlib.sha256(str(key).encode()).hexdigest()[:32]}"
        return counter, f"{counter}:opened"

    def wait(self, key):
        """Seconds until `key` may act again, or 0."""
        counter, opened = self._keys(key)
        found = store().get_many([counter, opened])
        if (found.get(counter) or 0) < self.count:
            return 0
        if opened not in found:
            return self.seconds
        return max(1, math.ceil(found[opened] + self.seconds - time.time()))

    def record(self, key):
        """Count one event for `key`: the count in this window, or None when the store is unreachable."""
        counter, opened = self._keys(key)
        try:
            return count_up(counter, self.seconds, opened=opened)
        except Exception:  # the store is down: nothing is counted, nothing refused (README "Rate limits")
            logger.warning("the %s limit counted nothing: its cache is unreachable", self.name)
            return None

    def take(self, key):
        """Count an event that happens only if allowed: 0 if it may, else the seconds to wait.

        One increment decides, so concurrent requests cannot all slip under the limit.
        """
        count = self.record(key)
        if count is None or count <= self.count:
            return 0
        return self.wait(key) or self.seconds

    def message(self, wait):
        minutes = max(1, math.ceil(wait / 60))
        return f"{self.refusal} Please wait {minutes} minute{'s' if minutes != 1 else ''} and try again."

    def enforce(self, key):
        """take(), raising LimitReached when refused."""
        wait = self.take(key)
        if wait:
            raise LimitReached(self, wait)


LOGIN_WINDOW = 15 * 60
LOGIN_FAILURES = {
    "username": Limit("login-user", count=5, seconds=LOGIN_WINDOW, refusal="Too many failed attempts."),
    "address": Limit("login-address", count=20, seconds=LOGIN_WINDOW, refusal="Too many failed attempts."),
}
SIGNUPS = Limit("signup", count=5, seconds=3600, refusal="Too many accounts were created from your address.")
RESET_MAILS = {
    "email": Limit("reset-email", count=3, seconds=3600, refusal="Too many reset links were sent to this address."),
    "address": Limit("reset-address", count=10, seconds=3600, refusal="Too many reset links were asked for from your address."),
}
SHARES = Limit("share", count=30, seconds=3600, refusal="You have shared 30 times in the last hour.")


def take_all(limits, keys):
    """Count one event against several limits (kind → Limit, kind → key): 0 if all allow it, else the longest wait,
    with the limit that refused."""
    refusals = [(limits[kind].take(key), limits[kind]) for kind, key in keys.items()]
    return max(refusals, key=lambda refusal: refusal[0], default=(0, None))


def username_key(username):
    """One spelling per name however it is typed: NFKC (as the login form reads it), stripped, case-folded.

    So `ｃａｒｏｌ` (full width) and `Carol` count against `carol`'s failures.
    """
    return get_user_model().normalize_username(username or "").strip().casefold()


def _login_keys(username, address):
    keys = {"username": username_key(username)}
    if address:
        keys["address"] = address
    return keys


def login_blocked(username, address):
    """Seconds until another password login for this username or from this address is allowed, or 0."""
    return max(LOGIN_FAILURES[kind].wait(key) for kind, key in _login_keys(username, address).items())


def record_login_failure(username, address):
    for kind, key in _login_keys(username, address).items():
        LOGIN_FAILURES[kind].record(key)


class LimitReached(Exception):
    """`limit` refused: wait `wait` seconds. The API answers it with a 429 problem (SyroMusic.api.errors)."""

    def __init__(self, limit, wait):
        self.limit, self.wait = limit, wait
        self.minutes = max(1, math.ceil(wait / 60))
        super().__init__(limit.message(wait))


class LoginBlocked(LimitReached):
    """Too many failed password logins for this username or from this address."""

    def __init__(self, wait):
        super().__init__(LOGIN_FAILURES["username"], wait)


class LimitedModelBackend(ModelBackend):
    """Django's ModelBackend behind the login limiter (settings.AUTHENTICATION_BACKENDS).

    authenticate() gets the request on every password path (None from a shell or Client.login:
    then only the username counts).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        # The login form reads names in NFKC; the API's serializer does not: both mean the same account.
        username = get_user_model().normalize_username(username)
        address = client_address(request) if request is not None else ""
        wait = login_blocked(username, address)
        if wait:
            raise LoginBlocked(wait)
        user = super().authenticate(request, username=username, password=password)
        if user is None:
            record_login_failure(username, address)
        return user

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return await sync_to_async(self.authenticate)(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        """ModelBackend's, through the cache (SyroMusic.caching.kept_user): a logged-in request's user costs no
        query while it is kept. Inactive users are refused, as ModelBackend does."""
        user = caching.kept_user(user_id, lambda: self._read_user(user_id))
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def _read_user(user_id):
        model = get_user_model()
        try:
            return model._default_manager.get(pk=user_id)
        except model.DoesNotExist:
            return None


# Playlist files for anonymous visitors, pages and API alike: a long playlist's file is megabytes.
DOWNLOADS = Limit(
    "download", count=30, seconds=3600,
    refusal="Too many playlist files were downloaded from your address (logged-in listeners have no such limit).",
)


def take_download(request):
    """Count one playlist file sent to an anonymous visitor, by address: 0 if allowed, else the seconds to wait.
    Logged-in listeners are not counted."""
    if request.user.is_authenticated:
        return 0
    return DOWNLOADS.take(client_address(request))
