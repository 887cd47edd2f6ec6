"""Failed logins are counted per username and per address; past a limit, logins wait.

The count lives in the cache (Redis in production, so all processes share it).
A refused attempt does not even check the password, so guessing gains nothing;
the message is the same whether or not the username exists.
"""

import time

from django.core.cache import cache

WINDOW_SECONDS = 15 * 60
LIMITS = {"username": 5, "address": 20}


def _keys(username, address):
    window = int(time.time() // WINDOW_SECONDS)
    return {
        "username": f"login-failures:user:{(username or '').strip().lower()}:{window}",
        "address": f"login-failures:addr:{address}:{window}",
    }


def login_blocked(username, address):
    """Seconds until another attempt is allowed, or 0."""
    counts = cache.get_many(list(_keys(username, address).values()))
    for kind, key in _keys(username, address).items():
        if (counts.get(key) or 0) >= LIMITS[kind]:
            return WINDOW_SECONDS - int(time.time() % WINDOW_SECONDS)
    return 0


def record_login_failure(username, address):
    for key in _keys(username, address).values():
        cache.add(key, 0, timeout=WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS)
